"""Basin fractions over a grid of two parameters, with attractors matched across it."""

from __future__ import annotations

import json
from collections.abc import Mapping

import numpy as np
import numpyro.distributions as dist
import xarray as xr
from jaxtyping import ArrayLike

from ...theory import Model
from ...theory._checks import check_count, check_positive, check_seed
from ...theory._resources import require_continuation_memory
from .._engine._compile import CompiledModel
from .._engine._integrate import as_compiled
from .._engine._progress import Progress
from .._engine._provenance import provenance
from .._engine._settings_argument import settings_argument
from .._engine._solver_settings import SolverSettings
from .._storage._distribution_record import describe_distribution
from ._continuation import check_parameter_values, follow_attractors
from ._label_settings import LabelSettings
from ._matching import DISTANCE, MATCHERS
from ._sampling import sample_states
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
    for name in (x, y):
        if name not in compiled.param_names:
            raise ValueError(
                f"{name!r} is not a parameter of {compiled.name!r}: {compiled.param_names}"
            )
        if name in (params or {}):
            raise ValueError(f"{name!r} is varied by the map; do not also fix it in params")
    if x == y:
        raise ValueError(f"x and y must be two different parameters, got {x!r} twice")
    xs, ys = (
        check_parameter_values(x_values, "x_values"),
        check_parameter_values(y_values, "y_values"),
    )
    threshold = check_positive(threshold, "threshold")
    if match not in MATCHERS:
        raise ValueError(f"match must be one of {list(MATCHERS)}, got {match!r}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    n, seed = check_count(n, "n"), check_seed(seed)
    dim = len(compiled.state_names)
    require_continuation_memory(len(xs) * len(ys), n, dim)
    samples = sample_states(p0, n, seed, dim)
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
    attrs = provenance(compiled, path[0], settings.describe(compiled.kind)) | {
        "kind": "continuation_map",
        "x": x,
        "y": y,
        "n": n,
        "seed": seed,
        "p0": json.dumps(describe_distribution(p0), sort_keys=True),
        "confidence": confidence,
        "threshold": threshold,
        "match": match,
    }
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
