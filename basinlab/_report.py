"""What the command line does: run an analysis and print and write its results."""

from __future__ import annotations

import json
import pathlib
import time
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import numpyro.distributions as dist
import xarray as xr

from . import _calibration_example, proofs
from ._output_folder import REQUEST_ATTRIBUTE
from ._printing import analyze, table
from ._requests import (
    EVAL_BATCH,
    FAST_TESTBED,
    ContinuationRequest,
    FractionsRequest,
    MapRequest,
)
from .simulations import (
    SolverSettings,
    attractor_window,
    basin_fractions,
    plot_basin_map,
    plot_continuation,
    save,
)
from .simulations import basin_map as compute_basin_map
from .simulations import continuation as compute_continuation
from .simulations import testbed as bed
from .simulations._plot._training_ensemble import plot_training_ensemble
from .simulations._storage._atomic import save_figure
from .simulations.training import (
    chunk_size_for,
    ensemble_fractions,
    predicted_fractions,
    train_ensemble,
)
from .theory import FixedPoint, bifurcations, fixed_points

# Process k > 0 of a run over several processes writes its copy of the results in
# OUT/.processes/k/ and shares OUT/.chunks with process 0.
PROCESS_FOLDERS = ".processes"


def chunks_folder(path: pathlib.Path) -> pathlib.Path:
    """The folder of finished chunks for the result file `path`: `.chunks` beside it,
    or for a copy of process k > 0 (in `OUT/.processes/k/`), `OUT/.chunks`."""
    folder = path.parent
    if folder.parent.name == PROCESS_FOLDERS:
        return folder.parent.parent / ".chunks"
    return folder / ".chunks"


def _print_fractions(result, first_column: str = "attractor", predicted=None) -> None:
    """The table of outcomes of `basin_fractions` or `ensemble_fractions`, with the
    theory's fraction beside each where `predicted` gives it."""
    rows = [
        (
            str(name),
            str(int(count)),
            f"{fraction:.4f}",
            f"[{low:.4f}, {high:.4f}]",
        )
        for name, count, fraction, low, high in zip(
            result["outcome_name"].values,
            result["count"].values,
            result["fraction"].values,
            result["fraction_low"].values,
            result["fraction_high"].values,
        )
    ]
    if predicted is not None:
        rows = [(*row, f"{theory:.4f}") for row, theory in zip(rows, predicted["fraction"].values)]
    level = f"{100 * result.attrs['confidence']:g}% Wilson"
    theory = ["theory"] if predicted is not None else []
    header = (first_column, "count", "fraction", level, *theory)
    print(table(header, rows))
    for name, fraction, low, high in zip(
        result["predicate"].values,
        result["predicate_fraction"].values,
        result["predicate_low"].values,
        result["predicate_high"].values,
    ):
        print(f"ends where {name!s} holds: {fraction:.4f} [{low:.4f}, {high:.4f}]")
    unsettled = dict(zip(result["outcome_name"].values, result["fraction"].values))
    if unsettled.get("UNCONVERGED", 0.0) == 1.0:
        print(
            f"note: no start settled by t1 = {result.attrs.get('t1', 'its end')}; raise --t1, "
            "or the model "
            "has no attractor here (a clock state, a runaway) and its predicates are better "
            "read along trajectories"
        )


def basin_map(
    request: MapRequest,
    path: pathlib.Path,
    progress: bool,
    points: list[FixedPoint] | None = None,
) -> xr.Dataset:
    """Compute the map `request` asks for; write it to `path` and a PNG beside it."""
    model, params = request.model, request.params
    if points is None:
        points = fixed_points(model, params=params)
    bounds = request.bounds
    axes = [request.x] if request.y is None else [request.x, request.y]
    if bounds is None:
        window = attractor_window(model, params=params, points=points, t1=request.t1)
        bounds = tuple(v for axis in axes for v in window[model.state_index(axis)])
    started = time.perf_counter()
    result = compute_basin_map(
        model,
        request.x,
        request.y,
        bounds=[bounds[i : i + 2] for i in range(0, len(bounds), 2)],
        resolution=request.resolution,
        params=params,
        fixed=request.fixed,
        points=points,
        progress=progress,
        checkpoint_dir=str(chunks_folder(path)),
        t1=request.t1,
    )
    seconds = time.perf_counter() - started
    result.attrs[REQUEST_ATTRIBUTE] = json.dumps(request.record())
    save(result, path)
    fig, _ = plot_basin_map(result)
    png = save_figure(fig, path.with_suffix(".png"))
    plt.close(fig)
    grid = "x".join([str(request.resolution)] * len(axes))
    print(f"basin map of {model.name} on ({', '.join(axes)}), {grid} in {seconds:.1f} s")
    _print_fractions(result)
    print(f"wrote {path} and {png}")
    return result


def _uniform_starts(
    request: FractionsRequest | ContinuationRequest,
    params: dict[str, float],
    points: list[FixedPoint] | None = None,
) -> tuple[np.ndarray, dist.Distribution]:
    """The box of starts a request names, or a box around the attractors at `params`,
    and the uniform distribution on it."""
    model = request.model
    if request.bounds is None:
        box = attractor_window(model, params=params, points=points, t1=request.t1)
    else:
        box = np.reshape(np.asarray(request.bounds, float), (model.dim, 2))
    return box, dist.Uniform(box[:, 0], box[:, 1]).to_event(1)


def fractions(
    request: FractionsRequest,
    path: pathlib.Path,
    progress: bool,
    points: list[FixedPoint] | None = None,
):
    """Compute the fractions `request` asks for; write them to `path`."""
    model, params = request.model, request.params
    if points is None:
        points = fixed_points(model, params=params)
    box, p0 = _uniform_starts(request, params, points)
    started = time.perf_counter()
    result = basin_fractions(
        model,
        p0,
        n=request.n,
        seed=request.seed,
        params=params,
        points=points,
        progress=progress,
        checkpoint_dir=str(chunks_folder(path)),
        t1=request.t1,
    )
    seconds = time.perf_counter() - started
    box_text = " x ".join(f"[{lo:g}, {hi:g}]" for lo, hi in box)
    print(
        f"basin fractions of {model.name}: {request.n} uniform samples on {box_text}, "
        f"seed {request.seed}, in {seconds:.1f} s"
    )
    _print_fractions(result)
    result.attrs[REQUEST_ATTRIBUTE] = json.dumps(request.record())
    save(result, path)
    print(f"wrote {path}")
    return result


def run(
    requests: Sequence[MapRequest | FractionsRequest],
    paths: Sequence[pathlib.Path],
    progress: bool,
    print_fixed_points: bool = False,
) -> None:
    """Carry out checked requests into their claimed paths, in order; the fixed points
    of a model are found once. With `print_fixed_points`, print them first (the
    demo)."""
    points: dict[str, list[FixedPoint]] = {}
    for request, path in zip(requests, paths):
        key = json.dumps([request.model.equations(), request.record()["params"]])
        if key not in points:
            if print_fixed_points:
                print("== fixed points ==")
                points[key] = analyze(request.model, request.params)
            else:
                points[key] = fixed_points(request.model, params=request.params)
        if print_fixed_points:
            title = "basin map" if isinstance(request, MapRequest) else "basin fractions"
            print(f"\n== {title} ==")
        work = basin_map if isinstance(request, MapRequest) else fractions
        work(request, path, progress, points[key])


def _log_every(steps: int) -> int:
    """The largest divisor of `steps` that logs at least 20 times."""
    return next(d for d in range(max(1, steps // 20), 0, -1) if steps % d == 0)


def runs_chunk_size(task, record: dict) -> int:
    """The runs per chunk that fit in the request's memory budget.

    **Raises:**

    - `ValueError`: not one batch of runs fits.
    """
    steps = record["steps"]
    budget = record["memory"] * 1e9
    return chunk_size_for(task, steps, _log_every(steps), budget, batch_size=16)


def training_runs(task, path: pathlib.Path, record: dict, chunk_size: int, progress: bool):
    """Train the runs `record` asks for, print the shares of their end states beside the
    theory's, and write the record and a figure next to `path`."""
    steps = record["steps"]
    started = time.perf_counter()
    result = train_ensemble(
        task,
        n=record["n"],
        steps=steps,
        log_every=_log_every(steps),
        seed=record["seed"],
        chunk_size=min(chunk_size, 256),
        checkpoint_dir=chunks_folder(path),
        progress=progress,
    )
    seconds = time.perf_counter() - started
    measured = ensemble_fractions(result)
    try:
        predicted = predicted_fractions(task, result, fluctuations=record["fluctuations"])
    except NotImplementedError:
        predicted = None
    print(
        f"{record['n']} runs of {task.name}, {steps} steps each, seed {record['seed']}, "
        f"in {seconds:.1f} s"
    )
    _print_fractions(measured, "end state", predicted)
    if predicted is not None:
        theory = "the SDE of finite size" if record["fluctuations"] else "the ODE"
        agreement = predicted.attrs["agreement"]
        print(f"theory: {theory}; runs whose end state it predicts: {agreement:.4f}")
    result.attrs[REQUEST_ATTRIBUTE] = json.dumps(record)
    save(result, path)
    logged = [k for k in result.data_vars if result[k].dims == ("run", "step")]
    observable = task.headline or logged[0]
    fig, _ = plot_training_ensemble(result, observable, measured, predicted)
    figure = path.with_suffix(".png")
    save_figure(fig, figure)
    plt.close(fig)
    print(f"wrote {path} and {figure}")
    return result


def prove(ids: Sequence[str] | None, as_json: bool, timeout: float | None) -> int:
    """Check claims, print a table (or JSON), and return 1 if any claim FAILED."""
    verdicts = proofs.check_claims(ids, timeout)
    if as_json:
        print(json.dumps([v.as_json() for v in verdicts], indent=2))
    else:
        rows = [
            (
                v.id,
                v.statement if len(v.statement) <= 70 else v.statement[:67] + "...",
                v.status,
                f"{v.seconds:.2f}",
            )
            for v in verdicts
        ]
        print(table(("id", "statement", "status", "seconds"), rows))
        for v in verdicts:
            if v.status != proofs.PROVED:
                print(f"{v.id}: {v.status}: {v.detail}")
        counts = {s: sum(v.status == s for v in verdicts) for s in proofs.STATUSES}
        print(", ".join(f"{n} {s.lower()}" for s, n in counts.items() if n))
    return 1 if any(v.status == proofs.FAILED for v in verdicts) else 0


def calibrate(name: str, run_path: pathlib.Path, record: dict, progress: bool) -> None:
    """Run a built-in calibration example into `run_path`'s folder; print its summary."""
    summary = _calibration_example.run_example(
        name, run_path.parent, record["seed"], record["fast"], progress, record
    )
    low, high = summary["eta_interval"]
    p_low, p_high = summary["p_specialised_interval"]
    rows = [
        ("real run", f"dim = {summary['dim']}, eta = {summary['eta_true']:g}"),
        ("max |eps_g run - ODE|", f"{summary['eps_g_max_gap']:.3g}"),
        ("eta (posterior mean)", f"{summary['eta_mean']:.4f}"),
        ("eta 90% interval", f"[{low:.4f}, {high:.4f}]"),
        ("max R-hat", f"{summary['r_hat']:.4f}"),
        ("min bulk ESS", f"{summary['ess_bulk']:.0f}"),
        ("divergences", str(summary["divergences"])),
        ("sampling seconds", f"{summary['seconds']:.1f}"),
        ("P(ends specialised)", f"{summary['p_specialised']:.3f} [{p_low:.3f}, {p_high:.3f}]"),
    ]
    print(table(("quantity", "value"), rows))
    print(f"wrote run.nc, comparison.nc, calibration.nc and PNGs to {run_path.parent}")


def continuation(request: ContinuationRequest, path: pathlib.Path, progress: bool) -> xr.Dataset:
    """Compute the continuation `request` asks for; write it to `path` and a PNG with the
    exact bifurcations marked where SymPy finds them."""
    model, params = request.model, request.params
    values = np.linspace(request.start, request.stop, request.count)
    _, p0 = _uniform_starts(request, {**params, request.param: float(values[0])})
    started = time.perf_counter()
    result = compute_continuation(
        model,
        request.param,
        values,
        p0,
        n=request.n,
        seed=request.seed,
        params=params,
        settings=SolverSettings(t1=request.t1),
        progress=progress,
        checkpoint_dir=str(chunks_folder(path)),
    )
    seconds = time.perf_counter() - started
    try:
        points = bifurcations(model, request.param, (request.start, request.stop), params=params)
    except ValueError as error:  # not polynomial: the plot goes without them
        print(f"no exact bifurcations: {error}")
        points = []
    result.attrs[REQUEST_ATTRIBUTE] = json.dumps(request.record())
    save(result, path)
    fig, _ = plot_continuation(result, points)
    png = save_figure(fig, path.with_suffix(".png"))
    plt.close(fig)
    print(
        f"continuation of {model.name} in {request.param} over {request.count} values "
        f"from {request.start:g} to {request.stop:g}, {request.n} samples each, in {seconds:.1f} s"
    )
    rows = [
        (f"{float(v):.4g}", *(f"{f:.3f}" for f in row))
        for v, row in zip(result["value"].values, result["fraction"].values)
    ]
    names = [
        f"{int(i)}: {name}"
        for i, name in zip(result["attractor"].values, result["attractor_name"].values)
    ]
    print(table((request.param, *names), rows))
    for point in points:
        print(
            f"{point.kind} at {point.param} = {point.value} ({point.numeric:.6g}), "
            f"at {point.location}"
        )
    print(f"wrote {path} and {png}")
    return result


def testbed(path: pathlib.Path, record: dict, progress: bool, overwrite: bool) -> xr.Dataset:
    """Train the in-context transformer `record` asks for into `path`'s folder (with
    resumable checkpoints beside it, replaced when `overwrite` and made with other
    settings); write the record and a PNG; print the errors."""
    fast = record["fast"]
    function_class = bed.function_class(record["function_class"], record["dim"])
    sizes = {k: record[k] for k in ("width", "depth", "heads", "steps", "batch")}
    if fast:
        sizes |= FAST_TESTBED | {"steps": min(record["steps"], 100)}
    started = time.perf_counter()
    _, result = bed.train_in_context(
        function_class,
        record["points"],
        learning_rate=record["learning_rate"],
        curriculum=bed.Curriculum() if record["curriculum"] else None,
        seed=record["seed"],
        out=path.parent / "checkpoints",
        checkpoint_every=100 if fast else 1000,
        log_every=10 if fast else 100,
        eval_batch=EVAL_BATCH[fast],
        progress=progress,
        overwrite=overwrite,
        **sizes,
    )
    seconds = time.perf_counter() - started
    result.attrs[REQUEST_ATTRIBUTE] = json.dumps(record)
    save(result, path)
    fig, _ = bed.plot_in_context(result)
    png = save_figure(fig, path.with_suffix(".png"))
    plt.close(fig)
    dim = record["dim"]
    columns = sorted({0, dim // 2, dim, min(2 * dim, result.sizes["shown"] - 1)})
    rows = [
        (
            str(learner),
            *(f"{result['error'].sel(learner=learner, shown=k).item():.3f}" for k in columns),
        )
        for learner in result["learner"].values
    ]
    print(
        f"{result.attrs['parameters']} parameters, {sizes['steps']} steps in {seconds:.1f} s; "
        f"final loss {result['loss'].values[-1]:.4f}"
    )
    print(table(("learner", *(f"k = {k}" for k in columns)), rows))
    print(f"wrote {path} and {png}")
    return result
