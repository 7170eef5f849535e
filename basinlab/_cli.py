"""The `basinlab` command line.

Arguments are parsed and checked before anything heavy is imported: SymPy only once
a model has to be built, JAX only once work starts. A usage error therefore costs a
fraction of a second, and no work is done before every argument has been checked.
"""

from __future__ import annotations

import argparse
import math
import os
import pathlib
import re
import sys
import warnings
from collections.abc import Sequence

from . import _text
from ._calibration_example import EXAMPLES

# The testbed's function classes, named here so that help loads no JAX; a test keeps
# them equal to basinlab.simulations.testbed.CLASSES.
TESTBED_CLASSES = (
    "linear",
    "sparse_linear",
    "relu_network",
    "decision_tree",
    "marked_flip_mixture",
)

# The tasks of `basinlab runs`, likewise; a test keeps them equal to
# basinlab.simulations.training.TRAINING_TASKS.
TRAINING_TASKS = ("reward_perceptron", "teacher_student", "in_context_mixture")

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_ASSIGNMENT = re.compile(rf"^({_NAME})=(.+)$")
SEED_LIMIT = 2**63


class UsageError(ValueError):
    """Bad input on the command line."""


def _number(text: str) -> float:
    """A decimal number; `inf` and `nan` are read so that the error can say
    'must be finite' where that is the problem."""
    value = _text.decimal(text)
    if value is not None:
        return value
    raise argparse.ArgumentTypeError(
        f"{text!r} is not a number (write plain decimals such as 0.5, -2 or 1e-3)"
    )


def _integer(text: str) -> int:
    value = _text.integer(text)
    if value is None:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}")
    return value


def _count(minimum: int):
    def parse(text: str) -> int:
        value = _integer(text)
        if value < minimum:
            kind = "a positive integer" if minimum == 1 else f"an integer of at least {minimum}"
            raise argparse.ArgumentTypeError(f"must be {kind}, got {value}")
        return value

    return parse


def _seed(text: str) -> int:
    value = _integer(text)
    if not 0 <= value < SEED_LIMIT:
        raise argparse.ArgumentTypeError(f"must lie in [0, 2**63), got {text.strip()}")
    return value


def _positive(text: str) -> float:
    value = _number(text)
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive finite number, got {text}")
    return value


def _assignment(text: str, text_allowed: bool = False) -> tuple[str, float | str]:
    """Parse `name=value` with a decimal value, or with `text_allowed` the text itself
    where it is not a number (a setting such as an order, which its owner checks
    against its known values); text is never evaluated."""
    match = _ASSIGNMENT.match(text.strip())
    if match is None:
        expected = "NAME=VALUE" if text_allowed else "NAME=NUMBER"
        raise UsageError(f"malformed assignment {text!r}: expected {expected}")
    name, raw = match.groups()
    value = _text.decimal(raw)
    if value is None:
        if text_allowed:
            return name, raw
        raise UsageError(f"malformed assignment {text!r}: {raw!r} is not a number")
    if not math.isfinite(value):
        raise UsageError(f"malformed assignment {text!r}: the value must be finite")
    return name, value


def _assignments(
    texts: Sequence[str] | None, what: str, text_allowed: bool = False
) -> dict[str, float | str]:
    values: dict[str, float | str] = {}
    for text in texts or []:
        name, value = _assignment(text, text_allowed)
        if name in values:
            raise UsageError(f"{what} {name!r} is given twice")
        values[name] = value
    return values


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # argparse takes "-inf" or "-1e-3" for an option unless told they are values.
        self._negative_number_matcher = re.compile(
            r"^-(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|inf|infinity|nan)$",
            re.IGNORECASE,
        )

    def error(self, message: str):
        raise UsageError(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="basinlab",
        description="Basins of attraction of training dynamics: exact analysis and maps.",
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    commands.add_parser("models", help="list the built-in models")

    def with_model(name: str, help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help)
        sub.add_argument("model", help="a built-in model (see `basinlab models`)")
        sub.add_argument(
            "--param", action="append", metavar="NAME=VALUE", help="override a parameter"
        )
        return sub

    with_model("analyze", "print the fixed points with their kind and eigenvalues")

    def with_output(sub: argparse.ArgumentParser, out: str) -> None:
        sub.add_argument("--out", default=out, help="directory for the .nc and .png files")
        sub.add_argument(
            "--overwrite",
            action="store_true",
            help="replace results in --out that were made with other settings",
        )
        sub.add_argument("--no-progress", action="store_true", help="hide progress bars")

    def with_processes(sub: argparse.ArgumentParser) -> None:
        group = sub.add_argument_group(
            "several processes (hosts, or cores), sharing --out; by default read from "
            "Slurm's or Open MPI's environment"
        )
        group.add_argument("--processes", type=_count(1), help="how many processes take part")
        group.add_argument("--process-id", type=_count(0), help="this process, from 0")
        group.add_argument("--coordinator", metavar="HOST:PORT", help="where process 0 serves")
        group.add_argument(
            "--join-timeout",
            type=_positive,
            default=60.0,
            help="seconds to wait for the coordinator and the other processes (default 60)",
        )

    def with_ensemble(sub: argparse.ArgumentParser, out: str) -> None:
        sub.add_argument("--t1", type=_positive, default=200.0, help="final time of each solve")
        with_output(sub, out)
        with_processes(sub)

    mapping = with_model("map", "map the basins on a 2-D slice; write a PNG and a .nc file")
    mapping.add_argument("--resolution", type=_count(2), default=256, help="grid points per axis")
    mapping.add_argument("--x", help="state on the horizontal axis (default: the first)")
    mapping.add_argument(
        "--y", help="state on the vertical axis (default: the second; none for 1-D models)"
    )
    mapping.add_argument(
        "--bounds",
        type=_number,
        nargs="+",
        metavar="LOW_HIGH",
        help="X_LOW X_HIGH Y_LOW Y_HIGH, or X_LOW X_HIGH for a 1-D model "
        "(default: a box around the attractors)",
    )
    mapping.add_argument(
        "--fixed", action="append", metavar="STATE=VALUE", help="value of a state off the slice"
    )
    with_ensemble(mapping, "basinlab-map")

    def with_uniform_starts(sub: argparse.ArgumentParser, n: int, n_help: str, box: str) -> None:
        sub.add_argument("--n", type=_count(1), default=n, help=n_help)
        sub.add_argument("--seed", type=_seed, default=0, help="seed of the samples")
        sub.add_argument(
            "--bounds",
            type=_number,
            nargs="+",
            metavar="LOW_HIGH",
            help=f"low and high for each state (default: a box around {box})",
        )

    fractions = with_model("fractions", "basin fractions of uniform initial conditions")
    with_uniform_starts(fractions, 20_000, "number of samples", "the attractors")
    with_ensemble(fractions, "basinlab-fractions")

    continuing = commands.add_parser(
        "continue", help="basin fractions across a parameter, attractors matched; a PNG and .nc"
    )
    continuing.add_argument("model", help="a built-in model (see `basinlab models`)")
    continuing.add_argument(
        "--param", required=True, metavar="NAME=START:STOP:COUNT", help="the parameter to vary"
    )
    continuing.add_argument(
        "--set", action="append", metavar="NAME=VALUE", help="fix another parameter"
    )
    with_uniform_starts(continuing, 2000, "samples per value", "the first value's attractors")
    with_ensemble(continuing, "basinlab-continuation")

    def with_grid(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--bounds",
            type=_number,
            nargs="+",
            metavar="LOW_HIGH",
            help="low and high for each state: the grid, and the box of starts "
            "(default: the model's search box)",
        )
        sub.add_argument("--cells", type=_count(1), default=100, help="grid cells per state")
        sub.add_argument("--n", type=_count(1), default=1000, help="number of starts")
        sub.add_argument("--seed", type=_seed, default=0, help="seed of the starts")
        sub.add_argument(
            "--interval", type=_positive, default=0.1, help="time between samples of a flow"
        )
        sub.add_argument(
            "--max-steps", type=_count(1), default=20_000, help="samples to meet or find one"
        )
        with_output(sub, f"basinlab-{sub.prog.split()[-1]}")

    found = with_model(
        "attractors", "find the attractors with no prior knowledge: fractions, kinds, exponents"
    )
    with_grid(found)
    edge = with_model("edge", "find the attractors, then track the edge state between two basins")
    edge.add_argument(
        "--from",
        dest="start",
        type=_number,
        nargs="+",
        required=True,
        metavar="X",
        help="a state in one basin",
    )
    edge.add_argument(
        "--to",
        dest="end",
        type=_number,
        nargs="+",
        required=True,
        metavar="X",
        help="a state in another basin",
    )
    edge.add_argument("--steps", type=_count(1), default=20, help="rounds of follow and bisect")
    with_grid(edge)

    prove = commands.add_parser("prove", help="check the registered claims; exit 1 if any fails")
    prove.add_argument(
        "--claim", action="append", metavar="ID", help="check only this claim (repeatable)"
    )
    prove.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    prove.add_argument(
        "--timeout",
        type=_positive,
        help="seconds per claim, overriding each claim's own limit",
    )

    calibration = commands.add_parser(
        "calibrate", help="a real training run, its theory and a NUTS fit, end to end"
    )
    calibration.add_argument("example", choices=EXAMPLES, help="a built-in example")
    calibration.add_argument("--seed", type=_seed, default=0, help="seed of the run and the fit")
    calibration.add_argument(
        "--fast", action="store_true", help="a smaller run and shorter chains (for tests)"
    )
    with_output(calibration, "basinlab-calibration")

    testbed = commands.add_parser(
        "testbed", help="train a small transformer in context on a function class; curves and PNG"
    )
    testbed.add_argument("function_class", choices=TESTBED_CLASSES, help="the prompts' class")
    testbed.add_argument("--dim", type=_count(1), default=5, help="input dimension d")
    testbed.add_argument("--points", type=_count(1), help="pairs per prompt (default 2d + 1)")
    testbed.add_argument("--steps", type=_count(1), default=8000, help="training steps")
    testbed.add_argument("--batch", type=_count(1), default=64, help="prompts per step")
    testbed.add_argument("--learning-rate", type=_positive, default=2e-3, help="peak rate of Adam")
    testbed.add_argument("--width", type=_count(1), default=64, help="residual stream width")
    testbed.add_argument("--depth", type=_count(1), default=3, help="transformer blocks")
    testbed.add_argument("--heads", type=_count(1), default=4, help="attention heads")
    testbed.add_argument(
        "--curriculum", action="store_true", help="Garg et al.'s curriculum on d and length"
    )
    testbed.add_argument("--seed", type=_seed, default=0, help="seed of the model and prompts")
    testbed.add_argument(
        "--fast", action="store_true", help="a tiny model and few steps (for tests)"
    )
    with_output(testbed, "basinlab-testbed")

    runs = commands.add_parser(
        "runs", help="train many real networks at once: the share ending in each state, vs theory"
    )
    runs.add_argument("task", choices=TRAINING_TASKS, help="the training task")
    runs.add_argument("--n", type=_count(1), default=1024, help="number of runs")
    runs.add_argument(
        "--steps", type=_count(1), help="training steps per run (default: the task's)"
    )
    runs.add_argument("--set", action="append", metavar="NAME=VALUE", help="a setting of the task")
    runs.add_argument("--seed", type=_seed, default=0, help="seed of the runs")
    runs.add_argument(
        "--fluctuations",
        action="store_true",
        help="predict with the theory's finite-size noise (its SDE) instead of its ODE",
    )
    runs.add_argument(
        "--memory", type=_positive, default=2.0, help="GB for one chunk of runs (default 2)"
    )
    with_output(runs, "basinlab-runs")
    with_processes(runs)

    demo = commands.add_parser("demo", help="analyze, map and fractions of the default model")
    demo.add_argument("--resolution", type=_count(2), default=256, help="grid points per axis")
    demo.add_argument("--n", type=_count(1), default=20_000, help="samples for the fractions")
    with_output(demo, "basinlab-demo")
    return parser


def _ensemble_requests(arguments: argparse.Namespace) -> tuple:
    """The checked requests of `map`, `fractions` or `demo` (SymPy, not JAX)."""
    from . import _requests
    from .theory import models

    if arguments.command == "demo":
        return (
            _requests.map_request(models.DEFAULT_MODEL, resolution=arguments.resolution),
            _requests.fractions_request(models.DEFAULT_MODEL, n=arguments.n),
        )
    if arguments.command == "continue":
        return (
            _requests.continuation_request(
                arguments.model,
                arguments.param,
                _assignments(arguments.set, "parameter"),
                n=arguments.n,
                seed=arguments.seed,
                bounds=arguments.bounds,
                t1=arguments.t1,
            ),
        )
    params = _assignments(arguments.param, "parameter")
    if arguments.command == "map":
        fixed = _assignments(arguments.fixed, "fixed state")
        return (
            _requests.map_request(
                arguments.model,
                params,
                x=arguments.x,
                y=arguments.y,
                bounds=arguments.bounds,
                fixed=fixed,
                resolution=arguments.resolution,
                t1=arguments.t1,
            ),
        )
    return (
        _requests.fractions_request(
            arguments.model,
            params,
            n=arguments.n,
            seed=arguments.seed,
            bounds=arguments.bounds,
            t1=arguments.t1,
        ),
    )


def _output_of_this_process(arguments: argparse.Namespace) -> str | pathlib.Path:
    """Join the other processes (when asked, or in a Slurm or Open MPI job) before any
    JAX work, and give the folder for this process's results: --out for process 0,
    OUT/.processes/K for process K, whose chunks go to --out's own `.chunks`."""
    if not hasattr(arguments, "processes"):
        return arguments.out
    asked = (arguments.processes, arguments.process_id, arguments.coordinator)
    # The task counts by which JAX's cluster detection (and join_processes) know a
    # Slurm or Open MPI job; without one, JAX is not loaded here.
    in_job = any(int(os.environ.get(k) or 1) > 1 for k in ("SLURM_NTASKS", "OMPI_COMM_WORLD_SIZE"))
    if all(value is None for value in asked) and not in_job:
        return arguments.out
    from ._report import PROCESS_FOLDERS
    from .simulations import join_processes

    index, _ = join_processes(
        arguments.processes,
        arguments.process_id,
        arguments.coordinator,
        timeout=arguments.join_timeout,
    )
    if index == 0:
        return arguments.out
    return pathlib.Path(arguments.out) / PROCESS_FOLDERS / str(index)


def _run(arguments: argparse.Namespace) -> int:
    """Check every argument, then carry out the command; return the exit status."""
    command = arguments.command
    if getattr(arguments, "model", None) is not None:
        from .theory._model_names import check_model_name  # a tuple of names, no SymPy

        check_model_name(arguments.model)
    if command in ("models", "analyze"):
        from . import _printing
        from .theory import models

        if command == "models":
            _printing.list_models()
        else:
            params = _assignments(arguments.param, "parameter")
            model = models.build(arguments.model)
            model.resolve_params(params)
            _printing.analyze(model, params)
        return 0
    if command == "prove":
        from . import _report

        return _report.prove(arguments.claim, arguments.json, arguments.timeout)
    from ._output_folder import OutputFolder

    if command == "calibrate":
        record = {
            "kind": "calibrate",
            "example": arguments.example,
            "seed": arguments.seed,
            "fast": arguments.fast,
        }
        with OutputFolder(arguments.out, arguments.overwrite) as folder:
            path = folder.claim("run.nc", record)
            from . import _report
            from .simulations._engine._progress import interruptible

            with interruptible():
                _report.calibrate(arguments.example, path, record, not arguments.no_progress)
        return 0
    if command == "testbed":
        record = {
            "kind": "testbed",
            **{
                name: getattr(arguments, name)
                for name in (
                    "function_class",
                    "dim",
                    "points",
                    "steps",
                    "batch",
                    "learning_rate",
                    "width",
                    "depth",
                    "heads",
                    "curriculum",
                    "seed",
                    "fast",
                )
            },
        }
        from ._requests import check_testbed

        check_testbed(record)
        with OutputFolder(arguments.out, arguments.overwrite) as folder:
            path = folder.claim("testbed.nc", record)
            from . import _report
            from .simulations._engine._progress import interruptible

            with interruptible():
                _report.testbed(path, record, not arguments.no_progress, arguments.overwrite)
        return 0
    if command == "runs":
        from .simulations.training._task_registry import training_task

        out = _output_of_this_process(arguments)
        settings = _assignments(arguments.set, "setting", text_allowed=True)
        task, steps = training_task(arguments.task, settings, arguments.steps)
        if arguments.fluctuations and not task.has_fluctuation_theory:
            raise UsageError(f"the task {task.name} has no theory of its fluctuations")
        record = {
            "kind": "runs",
            "task": arguments.task,
            "settings": task.settings(),
            "n": arguments.n,
            "steps": steps,
            "seed": arguments.seed,
            "memory": arguments.memory,
            "fluctuations": arguments.fluctuations,
        }
        from . import _report
        from .simulations._engine._progress import interruptible

        chunk_size = _report.runs_chunk_size(task, record)  # refuses before any work
        with OutputFolder(out, arguments.overwrite) as folder:
            path = folder.claim("runs.nc", record)
            with interruptible():
                _report.training_runs(task, path, record, chunk_size, not arguments.no_progress)
        return 0
    if command in ("attractors", "edge"):
        from ._requests import attractors_record

        record = attractors_record(
            command,
            arguments.model,
            _assignments(arguments.param, "parameter"),
            bounds=arguments.bounds,
            cells=arguments.cells,
            n=arguments.n,
            seed=arguments.seed,
            interval=arguments.interval,
            max_steps=arguments.max_steps,
            edge_ends=(arguments.start, arguments.end) if command == "edge" else None,
            steps=getattr(arguments, "steps", 20),
        )
        with OutputFolder(arguments.out, arguments.overwrite) as folder:
            path = folder.claim(f"{arguments.model.replace('-', '_')}_attractors.nc", record)
            from . import _attractor_report
            from .simulations._engine._progress import interruptible

            with interruptible():
                _attractor_report.run(record, path, not arguments.no_progress)
        return 0
    requests = _ensemble_requests(arguments)
    with OutputFolder(_output_of_this_process(arguments), arguments.overwrite) as folder:
        paths = [folder.claim(r.file_name, r.record()) for r in requests]
        from . import _report  # JAX: only now that every argument has been checked
        from .simulations._engine._progress import interruptible

        with interruptible():
            if command == "continue":
                _report.continuation(requests[0], paths[0], not arguments.no_progress)
            else:
                demo = command == "demo"
                _report.run(requests, paths, not arguments.no_progress, print_fixed_points=demo)
    return 0


def _one_line_warnings(message, category, filename, lineno, file=None, line=None):
    print(f"basinlab: warning: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status.

    Bad input prints one line, `basinlab: error: ...`, on stderr and returns 2;
    `basinlab prove` returns 1 when a claim meant to be proved fails; an interrupted
    run keeps its finished chunks and returns 130. Warnings (a
    damaged chunk that is recomputed, say) are printed as one line each.
    """
    warnings.showwarning = _one_line_warnings
    try:
        return _run(_parser().parse_args(argv))
    except (ValueError, TypeError, OSError) as error:
        message = " ".join(str(error).split())
        print(f"basinlab: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("basinlab: interrupted; finished chunks are kept and reused", file=sys.stderr)
        return 130
