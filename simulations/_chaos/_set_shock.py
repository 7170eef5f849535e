"""The smallest kick that sends a run from any point of an attractor (a cycle, a
chaotic set) into another basin: an upper bound by ray search."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping

import numpy as np
import xarray as xr

from ...theory import Model
from ...theory._checks import check_count, check_positive, check_seed
from .._engine._compile import CompiledModel
from .._engine._integrate import as_compiled
from .._engine._provenance import provenance
from .._engine._settings_argument import settings_argument
from ._basin_oracle import BasinOracle
from ._recurrence_settings import RecurrenceSettings

# Radii tried along each ray before bisecting: a stretch of another basin narrower
# than the ray's length in the grid over this is missed.
_SCAN = 32


def critical_shock_over_attractor(
    model: Model | CompiledModel,
    found: xr.Dataset,
    attractor: int,
    *,
    params: Mapping[str, float] | None = None,
    settings: RecurrenceSettings | None = None,
    n: int = 64,
    points: int = 16,
    seed: int = 0,
    tol: float = 1e-3,
) -> xr.Dataset:
    r"""An upper bound on the minimal critical shock of any attractor found by
    [`basinlab.find_attractors`][]: the smallest perturbation $\delta$ (Euclidean) of
    a state $x$ on the attractor $A$ such that $x + \delta$ lies in another basin,
    $\min_{x \in A} \min_\delta |\delta|$ (P. Halekotte and U. Feudel, "Minimal fatal
    shocks in multistable complex networks", Sci. Rep. 10, 11783, 2020, taken over
    the attractor as for a cycle or a chaotic set the state at the moment of the kick
    matters).

    From each of `points` states spread along the attractor's samples
    (`attractor_sample`), `n` random directions are searched: along each, 32 radii
    up to the grid's edge (beyond it no basin is known) find the first at which the
    run ends elsewhere (basins may alternate along a ray), and the distance is then
    bisected to `tol` (relative to the ray's length in the grid), each state
    classified by running it into `found`'s attractor cells. Every ray gives an
    upper bound on the shock from its point; the least over rays and points bounds
    the attractor's. A ray that stays in the basin
    up to the grid's edge bounds nothing.

    **Arguments:**

    - `model`: the model of `found`.
    - `found`: a result of `find_attractors`.
    - `attractor`: the ID of the attractor kicked.
    - `params`, `settings`: as given to `find_attractors`.
    - `n`: directions per point; `points`: states along the attractor (at most 64).
    - `seed`: the seed of the directions.
    - `tol`: the bisection's resolution, relative to the ray's length in the grid.

    **Returns:**

    An `xarray.Dataset` with `critical_shock` (the least size found), `shock`
    (the perturbation), `start` (the state kicked), `destination` (where that kick
    ends: an attractor ID or `DIVERGED`), and over `point`, each start's least
    size `point_shock` (how the vulnerability varies along the attractor).

    **Raises:**

    - `ValueError`: `found` is not a `find_attractors` result of this model,
      `attractor` is not one of its IDs, a count or `tol` is out of range, or a start
      is not found in the attractor's own basin (other parameters or settings than
      `found`'s).
    """
    compiled = as_compiled(model)
    settings = settings_argument(settings, RecurrenceSettings)
    oracle = BasinOracle(compiled, found, params, settings)
    ids = found["attractor"].values.tolist()
    if attractor not in ids:
        raise ValueError(f"attractor must be one of the IDs {ids}, got {attractor!r}")
    n = check_count(n, "n")
    samples = found["attractor_sample"].sel(attractor=attractor).values
    points = check_count(points, "points")
    if points > len(samples):
        raise ValueError(f"points must be at most {len(samples)}, got {points}")
    if not 0 < check_positive(tol, "tol") < 1 / _SCAN:
        raise ValueError(f"tol must lie in (0, {1 / _SCAN}), got {tol}")
    rng = np.random.default_rng(check_seed(seed))
    starts = samples[np.linspace(0, len(samples) - 1, points).astype(int)]
    home = oracle(starts)
    if np.any(home != attractor):
        raise ValueError(
            f"states recorded on attractor {attractor} run to {sorted(set(home.tolist()))}: "
            "give the parameters and settings that found it"
        )
    rows = np.array([row[:2] for row in json.loads(found.attrs["grid"])], float)
    directions = rng.standard_normal((points, n, starts.shape[1]))
    directions /= np.linalg.norm(directions, axis=-1, keepdims=True)
    origin = np.repeat(starts[:, None], n, axis=1)
    # Each ray is searched up to where it leaves the grid, which bounds the basins known.
    with np.errstate(divide="ignore"):
        to_edge = np.where(
            directions > 0, (rows[:, 1] - origin) / directions, (rows[:, 0] - origin) / directions
        )
    reach = np.min(np.where(directions == 0, np.inf, to_edge), axis=-1) * (1 - 1e-9)

    def leaves(radius: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        shape = radius.shape
        kicked = origin[..., None, :] + radius[..., None] * directions[..., None, :]
        ends = oracle(kicked.reshape(-1, starts.shape[1])).reshape(shape)
        return ends != attractor, ends

    # Along a ray the basins may alternate: scan out for the first radius that leaves,
    # then bisect below it.
    scan = reach[..., None] * np.arange(1, _SCAN + 1) / _SCAN
    out, ends = leaves(scan)
    bounded = out.any(axis=-1)
    first = np.argmax(out, axis=-1)[..., None]
    high = np.take_along_axis(scan, first, axis=-1)[..., 0]
    low = np.where(first[..., 0] > 0, high - reach / _SCAN, 0.0)
    first = first[..., 0]
    where = np.take_along_axis(ends, first[..., None], axis=-1)[..., 0]
    for _ in range(math.ceil(math.log2(1 / (tol * _SCAN)))):
        middle = (low + high) / 2
        out, ends = leaves(middle[..., None])
        out, ends = out[..., 0], ends[..., 0]
        high, low = np.where(out, middle, high), np.where(out, low, middle)
        where = np.where(out, ends, where)
    size = np.where(bounded, high, np.inf)
    point_shock = size.min(axis=1)
    best = np.unravel_index(np.argmin(size), size.shape)
    found_one = math.isfinite(size[best])
    return xr.Dataset(
        {
            "critical_shock": ((), float(size[best])),
            "shock": (
                "state",
                size[best] * directions[best] if found_one else np.nan * origin[0, 0],
            ),
            "start": ("state", starts[best[0]]),
            "destination": ((), int(where[best]) if found_one else attractor),
            "point_shock": ("point", point_shock),
        },
        coords={"state": list(compiled.state_names), "point": np.arange(points)},
        attrs=provenance(compiled, params, {})
        | {"kind": "critical_shock_over_attractor", "attractor": attractor, "rays": n, "tol": tol},
    )
