"""The `basinlab` command line."""

from __future__ import annotations

import argparse
import math
import pathlib
import re
import sys
from collections.abc import Sequence

from . import _calibration_example, _report

_PARAM = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.+)$")


class UsageError(ValueError):
    """Bad input on the command line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        raise UsageError(message)


def _assignment(text: str) -> tuple[str, float]:
    """Parse `name=value` with a float value; text is never evaluated."""
    match = _PARAM.match(text.strip())
    if match is None:
        raise UsageError(f"malformed assignment {text!r}: expected NAME=NUMBER")
    name, raw = match.groups()
    try:
        value = float(raw)
    except ValueError:
        raise UsageError(f"malformed assignment {text!r}: {raw!r} is not a number") from None
    if not math.isfinite(value):
        raise UsageError(f"malformed assignment {text!r}: the value must be finite")
    return name, value


def _assignments(texts: Sequence[str] | None, what: str) -> dict[str, float]:
    values: dict[str, float] = {}
    for text in texts or []:
        name, value = _assignment(text)
        if name in values:
            raise UsageError(f"{what} {name!r} is given twice")
        values[name] = value
    return values


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

    def with_ensemble(sub: argparse.ArgumentParser, out: str) -> None:
        sub.add_argument("--out", default=out, help="directory for the .nc and .png files")
        sub.add_argument("--t1", type=float, default=200.0, help="final time of each solve")
        sub.add_argument("--no-progress", action="store_true", help="hide progress bars")

    mapping = with_model("map", "map the basins on a 2-D slice; write a PNG and a .nc file")
    mapping.add_argument("--resolution", type=int, default=256, help="grid points per axis")
    mapping.add_argument("--x", help="state on the horizontal axis (default: the first)")
    mapping.add_argument("--y", help="state on the vertical axis (default: the second)")
    mapping.add_argument(
        "--bounds",
        type=float,
        nargs=4,
        metavar=("X_LOW", "X_HIGH", "Y_LOW", "Y_HIGH"),
        help="the slice's window (default: a box around the fixed points)",
    )
    mapping.add_argument(
        "--fixed", action="append", metavar="STATE=VALUE", help="value of a state off the slice"
    )
    with_ensemble(mapping, "basinlab-map")

    fractions = with_model("fractions", "basin fractions of uniform initial conditions")
    fractions.add_argument("--n", type=int, default=20_000, help="number of samples")
    fractions.add_argument("--seed", type=int, default=0, help="seed of the samples")
    fractions.add_argument(
        "--bounds",
        type=float,
        nargs="+",
        metavar="LOW_HIGH",
        help="low and high for each state (default: a box around the fixed points)",
    )
    with_ensemble(fractions, "basinlab-fractions")

    prove = commands.add_parser("prove", help="check the registered claims; exit 1 if any fails")
    prove.add_argument(
        "--claim", action="append", metavar="ID", help="check only this claim (repeatable)"
    )
    prove.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    prove.add_argument(
        "--timeout", type=float, help="seconds per claim, overriding each claim's own limit"
    )

    calibration = commands.add_parser(
        "calibrate", help="a real training run, its theory and a NUTS fit, end to end"
    )
    calibration.add_argument(
        "example", help=f"a built-in example: {', '.join(_calibration_example.EXAMPLES)}"
    )
    calibration.add_argument("--out", default="basinlab-calibration", help="output directory")
    calibration.add_argument("--seed", type=int, default=0, help="seed of the run and the fit")
    calibration.add_argument(
        "--fast", action="store_true", help="a smaller run and shorter chains (for tests)"
    )
    calibration.add_argument("--no-progress", action="store_true", help="hide progress bars")

    demo = commands.add_parser("demo", help="analyze, map and fractions of the default model")
    demo.add_argument("--out", default="basinlab-demo", help="output directory")
    demo.add_argument("--resolution", type=int, default=256, help="grid points per axis")
    demo.add_argument("--n", type=int, default=20_000, help="samples for the fractions")
    demo.add_argument("--no-progress", action="store_true", help="hide progress bars")
    return parser


def _run(arguments: argparse.Namespace) -> int:
    """Carry out a command; return the exit status."""
    if arguments.command == "models":
        _report.list_models()
        return 0
    if arguments.command == "prove":
        if arguments.timeout is not None and not arguments.timeout > 0:
            raise UsageError(f"--timeout must be positive, got {arguments.timeout}")
        return _report.prove(arguments.claim, arguments.json, arguments.timeout)
    if arguments.command == "calibrate":
        _report.calibrate(
            arguments.example,
            pathlib.Path(arguments.out),
            arguments.seed,
            arguments.fast,
            not arguments.no_progress,
        )
        return 0
    if arguments.command == "demo":
        _report.demo(
            pathlib.Path(arguments.out),
            arguments.resolution,
            arguments.n,
            not arguments.no_progress,
        )
        return 0
    params = _assignments(arguments.param, "parameter")
    if arguments.command == "analyze":
        _report.analyze(arguments.model, params)
    elif arguments.command == "map":
        _report.basin_map(
            arguments.model,
            params,
            x=arguments.x,
            y=arguments.y,
            bounds=arguments.bounds,
            fixed=_assignments(arguments.fixed, "fixed state"),
            resolution=arguments.resolution,
            out=pathlib.Path(arguments.out),
            t1=arguments.t1,
            progress=not arguments.no_progress,
        )
    elif arguments.command == "fractions":
        _report.fractions(
            arguments.model,
            params,
            n=arguments.n,
            seed=arguments.seed,
            bounds=arguments.bounds,
            out=pathlib.Path(arguments.out),
            t1=arguments.t1,
            progress=not arguments.no_progress,
        )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status.

    Bad input prints one line, `basinlab: error: ...`, on stderr and returns 2;
    `basinlab prove` returns 1 when a claim meant to be proved fails.
    """
    try:
        return _run(_parser().parse_args(argv))
    except (ValueError, TypeError, OSError) as error:
        print(f"basinlab: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("basinlab: interrupted; finished chunks are kept and reused", file=sys.stderr)
        return 130
