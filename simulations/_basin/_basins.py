"""Basin maps on 2-D slices and basin fractions under an initial distribution."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import numpy as np
import numpyro.distributions as dist
import xarray as xr

from ...theory import FixedPoint, Model, fixed_points
from ...theory._checks import check_seed
from ...theory._legacy_arguments import legacy_arguments
from ...theory._slice import check_slice
from .._engine._compile import CompiledModel
from .._engine._integrate import as_compiled, integrate
from .._engine._settings_argument import settings_argument
from .._engine._solver_settings import DIVERGED, UNCONVERGED, SolverSettings
from .._storage._distribution_record import describe_distribution
from ._attractors import Attractor, label_attractors
from ._label_settings import LabelSettings
from ._sampling import sample_states
from ._wilson import wilson_interval

# Dimensions and variables of results: a state named like one could not be an axis.
_RESERVED = {
    "state",
    "attractor",
    "fixed_point",
    "outcome",
    "predicate",
    "trajectory",
    "label",
    "t_final",
    "status",
    "y0",
    "attractor_name",
    "attractor_kind",
    "attractor_period",
    "attractor_location",
    "attractor_extent",
    "attractor_holds",
    "fixed_point_location",
    "fixed_point_exact",
    "fixed_point_kind",
    "fixed_point_index",
    "outcome_label",
    "outcome_name",
    "count",
    "fraction",
    "fraction_low",
    "fraction_high",
    "predicate_count",
    "predicate_fraction",
    "predicate_low",
    "predicate_high",
}


def labelled_ensemble(
    model: Model | CompiledModel,
    y0s: np.ndarray,
    params: Mapping[str, float] | None,
    settings: SolverSettings | None,
    labels: LabelSettings | None,
    points: list[FixedPoint] | None,
    progress: bool,
    checkpoint_dir: str | None,
    setting_overrides: dict,
) -> tuple[xr.Dataset, np.ndarray, list[Attractor], list[FixedPoint]]:
    compiled = as_compiled(model)
    settings = settings_argument(settings, SolverSettings, **setting_overrides)
    final = integrate(
        compiled,
        y0s,
        params=params,
        settings=settings,
        progress=progress,
        checkpoint_dir=checkpoint_dir,
    )
    if points is None:
        points = fixed_points(compiled.model, params=params)
    p = compiled.param_vector(params)
    label, attractors = label_attractors(
        compiled, p, final, points, settings=settings, labels=labels, progress=progress
    )
    return final, label, attractors, points


def _tables(
    compiled_names: Sequence[str],
    predicate_names: Sequence[str],
    label: np.ndarray,
    attractors: list[Attractor],
    points: list[FixedPoint],
    confidence: float,
) -> dict[str, tuple]:
    """Attractors, fixed points, and the fraction of each outcome with its interval."""
    n = label.size
    outcomes = [*range(len(attractors)), DIVERGED, UNCONVERGED]
    counts = np.array([np.sum(label == o) for o in outcomes])
    low, high = wilson_interval(counts, n, confidence)
    holds = np.array(
        [[a.predicates[name] for name in predicate_names] for a in attractors], dtype=bool
    ).reshape(len(attractors), len(predicate_names))
    predicate_counts = np.array(
        [
            sum(counts[i] for i in range(len(attractors)) if holds[i, j])
            for j in range(len(predicate_names))
        ],
        dtype=int,
    )
    p_low, p_high = wilson_interval(predicate_counts, n, confidence)
    dim = len(compiled_names)
    tables = {
        "attractor_name": ("attractor", np.array([a.name for a in attractors], dtype=object)),
        "attractor_kind": ("attractor", np.array([a.kind for a in attractors], dtype=object)),
        "attractor_period": ("attractor", np.array([a.period for a in attractors], dtype=np.int32)),
        "attractor_location": (
            ("attractor", "state"),
            np.array([a.location for a in attractors]).reshape(-1, dim),
        ),
        "attractor_extent": (
            ("attractor", "state"),
            np.array([a.extent for a in attractors]).reshape(-1, dim),
        ),
        "attractor_holds": (("attractor", "predicate"), holds),
        "fixed_point_location": (
            ("fixed_point", "state"),
            np.array([q.numeric for q in points]).reshape(-1, dim),
        ),
        "fixed_point_exact": (
            "fixed_point",
            np.array([str(q.location) if q.exact else "" for q in points], dtype=object),
        ),
        "fixed_point_kind": ("fixed_point", np.array([q.kind for q in points], dtype=object)),
        "fixed_point_index": ("fixed_point", np.array([q.index for q in points], dtype=np.int32)),
        "outcome_label": ("outcome", np.array(outcomes, dtype=np.int32)),
        "outcome_name": (
            "outcome",
            np.array([a.name for a in attractors] + ["DIVERGED", "UNCONVERGED"], dtype=object),
        ),
        "count": ("outcome", counts.astype(np.int64)),
        "fraction": ("outcome", counts / n),
        "fraction_low": ("outcome", low),
        "fraction_high": ("outcome", high),
        "predicate_count": ("predicate", predicate_counts.astype(np.int64)),
        "predicate_fraction": ("predicate", predicate_counts / n),
        "predicate_low": ("predicate", p_low),
        "predicate_high": ("predicate", p_high),
    }
    assert set(tables) <= _RESERVED, set(tables) - _RESERVED
    return tables


def _check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")


@legacy_arguments(positional=("params",))
def basin_map(
    model: Model | CompiledModel,
    x: str,
    y: str | None,
    bounds: Sequence[Sequence[float]],
    resolution: int | tuple[int, int] = 256,
    *,
    params: Mapping[str, float] | None = None,
    fixed: Mapping[str, float] | None = None,
    settings: SolverSettings | None = None,
    labels: LabelSettings | None = None,
    points: list[FixedPoint] | None = None,
    confidence: float = 0.95,
    progress: bool = True,
    checkpoint_dir: str | None = None,
    **setting_overrides,
) -> xr.Dataset:
    """Map the basins of attraction on a 2-D slice (or a line) through state space.

    A regular grid over `bounds` in the states `x` and `y`, with every other state
    held at its value in `fixed` (zero unless given), is integrated to its end and
    labelled by the attractor it reaches (see [`basinlab.integrate`][] and
    [`basinlab.simulations.label_attractors`][]). With `y=None` the slice is the line
    along `x`, which is the whole state space of a 1-D model. Fractions are area (or
    length) fractions of the slice, with Wilson intervals that treat the grid points
    as samples.

    **Arguments:**

    - `model`: a [`basinlab.Model`][] or a compiled one.
    - `x`, `y`: the names of the states that span the slice; `y=None` for a line.
    - `bounds`: `((x_low, x_high), (y_low, y_high))`, or `((x_low, x_high),)` for a
      line.
    - `resolution`: grid points per axis, or `(nx, ny)`.
    - `params`: parameter overrides by name.
    - `fixed`: values of the other states.
    - `settings`, `**setting_overrides`: solver settings
      ([`basinlab.simulations.SolverSettings`][]).
    - `labels`: matching tolerances ([`basinlab.simulations.LabelSettings`][]).
    - `points`: fixed points, if already computed; found with
      [`basinlab.fixed_points`][] otherwise.
    - `confidence`: the coverage of the intervals.
    - `progress`, `checkpoint_dir`: as for [`basinlab.integrate`][].

    **Returns:**

    An `xarray.Dataset` with `label`, `t_final` and `status` over the state
    dimensions of the slice, the attractor and fixed-point tables, each outcome's
    `fraction` with `fraction_low`/`fraction_high`, and each predicate's
    `predicate_fraction` (the fraction that ends where it holds, e.g. the aligned
    basin). Its attrs name the axes (`x`, and `y`, empty for a line) and their units.

    **Raises:**

    - `ValueError`: `x` or `y` is not a state, both are the same, or one is named
      like a variable of the result; `bounds` are empty, inverted or not finite;
      `resolution < 2`; the grid would not fit in memory; a fixed value names no
      other state or is not finite; a parameter is unknown.
    """
    compiled = as_compiled(model)
    names = list(compiled.state_names)
    axes = [x] if y is None else [x, y]
    for name in axes:
        if name in _RESERVED:
            raise ValueError(f"state name {name!r} is reserved in results; rename it")
    grid = check_slice(compiled.model, axes, bounds, resolution, fixed)
    _check_confidence(confidence)
    y0s = grid.points()
    final, label, attractors, points = labelled_ensemble(
        compiled, y0s, params, settings, labels, points, progress, checkpoint_dir, setting_overrides
    )
    dims = tuple(axes[::-1])  # (y, x): rows are y, as an image
    shape = grid.counts[::-1]
    data = {
        "label": (dims, label.reshape(shape)),
        "t_final": (dims, final["t_final"].values.reshape(shape)),
        "status": (dims, final["status"].values.reshape(shape)),
        **_tables(names, compiled.predicate_names, label, attractors, points, confidence),
    }
    coords = {
        **dict(zip(axes, grid.ticks)),
        "state": names,
        "predicate": list(compiled.predicate_names),
    }
    attrs = dict(final.attrs)
    attrs |= {
        "kind": "basin_map",
        "x": x,
        "y": y or "",
        "x_unit": compiled.model.unit(x),
        "y_unit": "" if y is None else compiled.model.unit(y),
        "slice_fixed": json.dumps(
            {n: float(grid.base[i]) for i, n in enumerate(names) if i not in grid.indices}
        ),
        "confidence": confidence,
    }
    return xr.Dataset(data, coords=coords, attrs=attrs)


@legacy_arguments(positional=("n", "seed", "params"))
def basin_fractions(
    model: Model | CompiledModel,
    p0: dist.Distribution,
    *,
    n: int = 10_000,
    seed: int = 0,
    params: Mapping[str, float] | None = None,
    settings: SolverSettings | None = None,
    labels: LabelSettings | None = None,
    points: list[FixedPoint] | None = None,
    confidence: float = 0.95,
    progress: bool = True,
    checkpoint_dir: str | None = None,
    **setting_overrides,
) -> xr.Dataset:
    r"""Basin stability: the fraction of initial conditions drawn from $p_0$ that end
    on each attractor, with Wilson intervals.

    The fraction of attractor $A$ is the Monte Carlo estimate of
    $\Pr_{x_0 \sim p_0}[\varphi_t(x_0) \to A]$ (P. J. Menck, J. Heitzig, N. Marwan and
    J. Kurths, "How basin stability complements the linear-stability paradigm",
    Nature Physics 9, 89, 2013).

    **Arguments:**

    - `model`: a [`basinlab.Model`][] or a compiled one.
    - `p0`: a NumPyro distribution over the state: event shape `(dim,)`, or batch
      shape `(dim,)` with a scalar event (independent coordinates).
    - `n`: the number of samples.
    - `seed`: the seed of the samples.
    - `params`, `settings`, `labels`, `points`, `confidence`, `progress`,
      `checkpoint_dir`, `**setting_overrides`: as for [`basinlab.basin_map`][].

    **Returns:**

    An `xarray.Dataset` with the samples `y0`, their `label` and `t_final`, the
    attractor and fixed-point tables, each outcome's `count`, `fraction`,
    `fraction_low` and `fraction_high` (`DIVERGED` and `UNCONVERGED` included), and
    each predicate's `predicate_fraction` with its interval.

    **Raises:**

    - `TypeError`: `p0` is not a NumPyro distribution, or `seed` is not an integer.
    - `ValueError`: `p0` has the wrong shape or draws non-finite states; `n` is not
      a positive integer or would not fit in memory; `seed` is outside
      $[0, 2^{63})$; a parameter is unknown.
    """
    compiled = as_compiled(model)
    dim = len(compiled.state_names)
    _check_confidence(confidence)
    y0s = sample_states(p0, n, seed, dim)
    seed = check_seed(seed)
    final, label, attractors, points = labelled_ensemble(
        compiled, y0s, params, settings, labels, points, progress, checkpoint_dir, setting_overrides
    )
    data = {
        "y0": (("trajectory", "state"), final["y0"].values),
        "label": ("trajectory", label),
        "t_final": ("trajectory", final["t_final"].values),
        **_tables(
            compiled.state_names, compiled.predicate_names, label, attractors, points, confidence
        ),
    }
    coords = {
        "trajectory": np.arange(len(label)),
        "state": list(compiled.state_names),
        "predicate": list(compiled.predicate_names),
    }
    attrs = dict(final.attrs) | {
        "kind": "basin_fractions",
        "seed": seed,
        "p0": json.dumps(describe_distribution(p0), sort_keys=True),
        "confidence": confidence,
    }
    return xr.Dataset(data, coords=coords, attrs=attrs)
