"""Basin fractions over two parameters or more: on a grid of two, or along a curve,
with attractors matched across it."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpyro.distributions as dist
import xarray as xr
from jaxtyping import ArrayLike

from ...theory import Model
from .._engine._compile import CompiledModel
from .._engine._integrate import as_compiled
from .._engine._progress import Progress
from .._engine._settings_argument import settings_argument
from .._engine._solver_settings import SolverSettings
from ._continuation import (
    check_continuation,
    check_parameter_values,
    continuation_attrs,
    continuation_dataset,
    follow_attractors,
)
from ._label_settings import LabelSettings
from ._matching import DISTANCE
from ._wilson import wilson_interval


def continuation_map(
    model: Model | CompiledModel,
    x: str,
    x_values: ArrayLike,
    y: str,
    y_values: ArrayLike,
    p0: dist.Distribution,
    *,
    n: int = 1000,
    seed: int = 0,
    params: Mapping[str, float] | None = None,
    threshold: float = 0.25,
    match: str = DISTANCE,
    settings: SolverSettings | None = None,
    labels: LabelSettings | None = None,
    confidence: float = 0.95,
    progress: bool = True,
    checkpoint_dir: str | None = None,
) -> xr.Dataset:
    r"""Basin fractions over a grid of two parameters, each attractor followed by one
    ID across the whole grid.

    The grid is walked row by row (one value of `y` per row), each row in the
    direction opposite to the last, so that consecutive points are neighbours; along
    that path [`basinlab.continuation`][]'s machinery labels the same samples at each
    point and matches the attractors from point to point (`match`: by distance, basin
    overlap or basin enclosure). Where `present` changes between neighbouring points,
    an attractor appears or disappears: in a model whose bifurcations
    [`basinlab.bifurcations`][] solves, those lines lie on the exact curves, which
    [`basinlab.plot_continuation_map`][] draws over the fractions.

    **Arguments:**

    - `model`: a [`basinlab.Model`][] or a compiled one.
    - `x`, `x_values`, `y`, `y_values`: the two parameters and their values.
    - `p0`, `n`, `seed`, `params`, `threshold`, `match`, `settings`, `labels`,
      `confidence`, `progress`: as for `continuation`.
    - `checkpoint_dir`: a folder for each point's finished chunks, so interrupted
      work resumes.

    **Returns:**

    An `xarray.Dataset` over (`y`, `x`, `attractor`), the dimensions named after the
    parameters, with `fraction`, `fraction_low`, `fraction_high`, `present` and
    `location` (over `state` too); `diverged` and `unconverged` over (`y`, `x`); and
    `attractor_name` and `attractor_kind` where each was first seen.

    **Raises:**

    - `ValueError`: a parameter that is not one of the model's, the same parameter
      twice or also fixed in `params`, empty or non-finite values, or a count,
      threshold or matcher out of range.
    """
    compiled = as_compiled(model)
    xs = check_parameter_values(x_values, "x_values")
    ys = check_parameter_values(y_values, "y_values")
    samples, threshold, n, seed = check_continuation(
        compiled, [x, y], params, threshold, match, confidence, n, seed, len(xs) * len(ys), p0
    )
    dim = len(compiled.state_names)
    settings = settings_argument(settings, SolverSettings)
    labels = settings_argument(labels, LabelSettings, "labels")
    cells = [
        (row, column)
        for row in range(len(ys))
        for column in (range(len(xs)) if row % 2 == 0 else reversed(range(len(xs))))
    ]
    path = [{**(params or {}), x: float(xs[c]), y: float(ys[r])} for r, c in cells]
    bar = Progress(len(path), f"continuation over {x} and {y}", progress, unit="point")
    rows, first_seen, failed = follow_attractors(
        compiled,
        path,
        samples,
        np.random.default_rng(seed),
        settings,
        labels,
        threshold,
        match,
        checkpoint_dir,
        bar,
    )
    count = len(first_seen)
    shape = (len(ys), len(xs))
    counts = np.zeros((*shape, count), np.int64)
    present = np.zeros((*shape, count), bool)
    location = np.full((*shape, count, dim), np.nan)
    outcomes = np.zeros((*shape, 2))
    for (r, c), row, lost in zip(cells, rows, failed):
        outcomes[r, c] = lost / n
        for identity, (k, attractor, _) in row.items():
            counts[r, c, identity] = k
            present[r, c, identity] = True
            location[r, c, identity] = attractor.location
    low, high = wilson_interval(counts, n, confidence)
    grid_dims = (y, x, "attractor")
    attrs = continuation_attrs(
        compiled, path[0], settings, p0, n, seed, confidence, threshold, match
    ) | {"kind": "continuation_map", "x": x, "y": y}
    return xr.Dataset(
        {
            "fraction": (grid_dims, counts / n),
            "fraction_low": (grid_dims, low),
            "fraction_high": (grid_dims, high),
            "present": (grid_dims, present),
            "location": ((*grid_dims, "state"), location),
            "diverged": ((y, x), outcomes[..., 0]),
            "unconverged": ((y, x), outcomes[..., 1]),
            "attractor_name": (
                "attractor",
                np.array([first_seen[i].name.split(": ", 1)[-1] for i in range(count)], object),
            ),
            "attractor_kind": (
                "attractor",
                np.array([first_seen[i].kind for i in range(count)], dtype=object),
            ),
        },
        coords={y: ys, x: xs, "attractor": np.arange(count), "state": list(compiled.state_names)},
        attrs=attrs,
    )


def continuation_along(
    model: Model | CompiledModel,
    curve: Mapping[str, ArrayLike],
    p0: dist.Distribution,
    *,
    n: int = 1000,
    seed: int = 0,
    params: Mapping[str, float] | None = None,
    threshold: float = 0.25,
    match: str = DISTANCE,
    settings: SolverSettings | None = None,
    labels: LabelSettings | None = None,
    confidence: float = 0.95,
    progress: bool = True,
    checkpoint_dir: str | None = None,
) -> xr.Dataset:
    """Basin fractions along a curve through several parameters, each attractor
    followed by one ID: [`basinlab.continuation`][] with every parameter of `curve`
    moving together, point by point.

    **Arguments:**

    - `curve`: for each parameter varied, its values along the curve (all of one
      length), in the order to visit them.
    - the rest: as for `continuation`.

    **Returns:**

    The dataset of `continuation`, over `value` (the point's index along the curve),
    with each varied parameter's values as `curve_<name>` over `value`; it draws with
    [`basinlab.plot_continuation`][].

    **Raises:**

    - `ValueError`: an empty curve, values of different lengths or not finite, and
      the errors of `continuation`.
    """
    compiled = as_compiled(model)
    if not isinstance(curve, Mapping) or not curve:
        raise ValueError("curve must map each varied parameter's name to its values")
    names = [str(name) for name in curve]
    columns = [check_parameter_values(curve[name], f"the values of {name!r}") for name in curve]
    if len({len(column) for column in columns}) != 1:
        raise ValueError(
            f"every parameter of the curve needs as many values; got {[len(c) for c in columns]}"
        )
    samples, threshold, n, seed = check_continuation(
        compiled, names, params, threshold, match, confidence, n, seed, len(columns[0]), p0
    )
    settings = settings_argument(settings, SolverSettings)
    labels = settings_argument(labels, LabelSettings, "labels")
    path = [
        {**(params or {}), **{name: float(c[k]) for name, c in zip(names, columns)}}
        for k in range(len(columns[0]))
    ]
    bar = Progress(len(path), f"continuation along {', '.join(names)}", progress, unit="point")
    rows, first_seen, failed = follow_attractors(
        compiled,
        path,
        samples,
        np.random.default_rng(seed),
        settings,
        labels,
        threshold,
        match,
        checkpoint_dir,
        bar,
    )
    attrs = continuation_attrs(
        compiled, path[0], settings, p0, n, seed, confidence, threshold, match
    ) | {"kind": "continuation", "param": f"point along ({', '.join(names)})"}
    index = np.arange(len(path), dtype=float)
    result = continuation_dataset(
        compiled.state_names, index, rows, first_seen, failed, n, confidence, attrs
    )
    for name, column in zip(names, columns):
        result[f"curve_{name}"] = ("value", column)
    return result
