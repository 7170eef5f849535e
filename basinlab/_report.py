"""What the command line does: run an analysis and print and write its results."""

from __future__ import annotations

import json
import pathlib
import time
from collections.abc import Mapping, Sequence

import numpy as np
import numpyro.distributions as dist

from . import _calibration_example, proofs
from .simulations import basin_fractions, plot_basin_map, save
from .simulations import basin_map as compute_basin_map
from .theory import (
    FixedPoint,
    Model,
    default_window,
    fixed_point_continua,
    fixed_points,
    models,
)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows)]
    lines = [
        "  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _complex(value: complex) -> str:
    if abs(value.imag) < 1e-12 * max(1.0, abs(value)):
        return f"{value.real:.6g}"
    return f"{value.real:.6g}{value.imag:+.6g}i"


def _model(name: str, params: Mapping[str, float]) -> Model:
    model = models.build(name)
    model.resolve_params(params)  # fail early, naming the parameter, before any work
    return model


def list_models() -> None:
    rows = []
    for name in models.names():
        model = models.build(name)
        params = ", ".join(f"{k}={v:g}" for k, v in zip(model.param_names, model.params.values()))
        rows.append((name, ", ".join(model.state_names), params, model.description))
    print(_table(("model", "state", "parameters", "description"), rows))


def _fixed_point_table(points: list[FixedPoint]) -> str:
    rows = [
        (
            str(p.location) if p.exact else "(" + ", ".join(f"{v:.6g}" for v in p.numeric) + ")",
            p.kind if p.kind != "saddle" else f"saddle (index {p.index})",
            ", ".join(_complex(e) for e in p.eigenvalues),
            "exact" if p.exact else "numeric",
        )
        for p in points
    ]
    return _table(("fixed point", "kind", "eigenvalues", "solution"), rows)


def analyze(name: str, params: Mapping[str, float]) -> list[FixedPoint]:
    model = _model(name, params)
    values = model.resolve_params(params)
    equations = model.equations()
    if len(equations) > 600:  # whole order-parameter ODEs run to pages
        equations = f"{model.dim} equations, {len(equations):,} characters (Model.equations())"
    print(f"model {model.name}: {equations}")
    print("parameters: " + (", ".join(f"{k}={v:g}" for k, v in values.items()) or "none"))
    points = fixed_points(model, params)
    print(_fixed_point_table(points))
    for continuum in fixed_point_continua(model, params):
        free = sorted(str(s) for s, e in continuum.items() if e == s)
        fixed = ", ".join(f"{s} = {e}" for s, e in continuum.items() if e != s)
        print(f"continuum of fixed points: {fixed} (free: {', '.join(free)})")
    return points


def _print_fractions(result) -> None:
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
    level = f"{100 * result.attrs['confidence']:g}% Wilson"
    print(_table(("attractor", "count", "fraction", level), rows))
    for name, fraction, low, high in zip(
        result["predicate"].values,
        result["predicate_fraction"].values,
        result["predicate_low"].values,
        result["predicate_high"].values,
    ):
        print(f"ends where {name!s} holds: {fraction:.4f} [{low:.4f}, {high:.4f}]")


def basin_map(
    name: str,
    params: Mapping[str, float],
    *,
    x: str | None,
    y: str | None,
    bounds: Sequence[float] | None,
    fixed: Mapping[str, float],
    resolution: int,
    out: pathlib.Path,
    t1: float,
    progress: bool,
    points: list[FixedPoint] | None = None,
) -> pathlib.Path:
    model = _model(name, params)
    if model.dim < 2:
        raise ValueError(f"model {model.name!r} has one state; a map needs two")
    preset = model.default_slice if (x, y, bounds) == (None, None, None) else None
    if preset is not None:
        x, y = preset["x"], preset["y"]
        if "bounds" in preset:
            bounds = (*preset["bounds"][0], *preset["bounds"][1])
        fixed = {**preset.get("fixed", {}), **fixed}
    x = x or model.state_names[0]
    y = y or model.state_names[1]
    if points is None:
        points = fixed_points(model, params)
    if bounds is None:
        box = default_window(model, points)
        bounds = (*box[model.state_index(x)], *box[model.state_index(y)])
    started = time.perf_counter()
    result = compute_basin_map(
        model,
        x,
        y,
        bounds=(bounds[:2], bounds[2:]),
        resolution=resolution,
        params=params,
        fixed=fixed,
        points=points,
        progress=progress,
        checkpoint_dir=str(out / ".chunks"),
        t1=t1,
    )
    seconds = time.perf_counter() - started
    nc = save(result, out / f"{model.name}_map.nc")
    fig, _ = plot_basin_map(result)
    png = out / f"{model.name}_map.png"
    fig.savefig(png, dpi=150)
    print(f"basin map of {model.name} on ({x}, {y}), {resolution}x{resolution} in {seconds:.1f} s")
    _print_fractions(result)
    print(f"wrote {nc} and {png}")
    return png


def fractions(
    name: str,
    params: Mapping[str, float],
    *,
    n: int,
    seed: int,
    bounds: Sequence[float] | None,
    out: pathlib.Path,
    t1: float,
    progress: bool,
    points: list[FixedPoint] | None = None,
) -> pathlib.Path:
    model = _model(name, params)
    if points is None:
        points = fixed_points(model, params)
    if bounds is None:
        box = default_window(model, points)
    else:
        if len(bounds) != 2 * model.dim:
            raise ValueError(
                f"--bounds needs a low and a high for each of the {model.dim} states, got "
                f"{len(bounds)} numbers"
            )
        box = np.reshape(np.asarray(bounds, float), (model.dim, 2))
    if not np.all(np.isfinite(box)) or np.any(box[:, 0] >= box[:, 1]):
        raise ValueError(f"bounds must be finite with low < high, got {box.tolist()}")
    p0 = dist.Uniform(box[:, 0], box[:, 1]).to_event(1)
    started = time.perf_counter()
    result = basin_fractions(
        model,
        p0,
        n=n,
        seed=seed,
        params=params,
        points=points,
        progress=progress,
        checkpoint_dir=str(out / ".chunks"),
        t1=t1,
    )
    seconds = time.perf_counter() - started
    box_text = " x ".join(f"[{lo:g}, {hi:g}]" for lo, hi in box)
    print(
        f"basin fractions of {model.name}: {n} uniform samples on {box_text}, seed {seed}, "
        f"in {seconds:.1f} s"
    )
    _print_fractions(result)
    path = save(result, out / f"{model.name}_fractions.nc")
    print(f"wrote {path}")
    return path


def demo(out: pathlib.Path, resolution: int, n: int, progress: bool) -> None:
    name = models.DEFAULT_MODEL
    print("== fixed points ==")
    points = analyze(name, {})
    print("\n== basin map ==")
    basin_map(
        name,
        {},
        x=None,
        y=None,
        bounds=None,
        fixed={},
        resolution=resolution,
        out=out,
        t1=200.0,
        progress=progress,
        points=points,
    )
    print("\n== basin fractions ==")
    fractions(
        name, {}, n=n, seed=0, bounds=None, out=out, t1=200.0, progress=progress, points=points
    )


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
        print(_table(("id", "statement", "status", "seconds"), rows))
        for v in verdicts:
            if v.status != proofs.PROVED:
                print(f"{v.id}: {v.status}: {v.detail}")
        counts = {s: sum(v.status == s for v in verdicts) for s in proofs.STATUSES}
        print(", ".join(f"{n} {s.lower()}" for s, n in counts.items() if n))
    return 1 if any(v.status == proofs.FAILED for v in verdicts) else 0


def calibrate(name: str, out: pathlib.Path, seed: int, fast: bool, progress: bool) -> None:
    """Run a built-in calibration example and print what it found."""
    summary = _calibration_example.run_example(name, out, seed, fast, progress)
    low, high = summary["eta_interval"]
    p_low, p_high = summary["p_specialised_interval"]
    rows = [
        ("real run", f"N = {summary['N']}, eta = {summary['eta_true']:g}"),
        ("max |eps_g run - ODE|", f"{summary['eps_g_max_gap']:.3g}"),
        ("eta (posterior mean)", f"{summary['eta_mean']:.4f}"),
        ("eta 90% interval", f"[{low:.4f}, {high:.4f}]"),
        ("max R-hat", f"{summary['r_hat']:.4f}"),
        ("min bulk ESS", f"{summary['ess_bulk']:.0f}"),
        ("divergences", str(summary["divergences"])),
        ("sampling seconds", f"{summary['seconds']:.1f}"),
        ("P(ends specialised)", f"{summary['p_specialised']:.3f} [{p_low:.3f}, {p_high:.3f}]"),
    ]
    print(_table(("quantity", "value"), rows))
    print(f"wrote run.nc, comparison.nc, calibration.nc and PNGs to {out}")
