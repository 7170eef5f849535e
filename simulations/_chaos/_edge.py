"""Edge tracking: the state on the boundary of two basins that trajectories along the
boundary approach (Skufca, Yorke & Eckhardt 2006)."""

from __future__ import annotations

from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr
from jaxtyping import ArrayLike, Float

from ...theory import Model
from ...theory._checks import check_count, check_positive
from .._engine._compile import CompiledModel
from .._engine._integrate import as_compiled
from .._engine._provenance import provenance
from .._engine._settings_argument import settings_argument
from ._basin_oracle import BasinOracle
from ._recurrence_settings import RecurrenceSettings

# States classified at once along a segment in each round of the bisection.
_SECTIONS = 16


def _bisect(oracle: BasinOracle, a, b, labels, tol):
    """Shrink the segment [a, b], `a` in basin `labels[0]` and `b` in `labels[1]`,
    to length `tol`, keeping the ends in their basins."""
    while np.max(np.abs(b - a)) > tol:
        weights = np.linspace(0, 1, _SECTIONS + 2)[1:-1, None]
        points = a + weights * (b - a)
        outcome = oracle(points)
        other = np.flatnonzero((outcome != labels[0]) & (outcome != labels[1]))
        in_b = np.flatnonzero(outcome == labels[1])
        first = min(np.concatenate([in_b, other, [_SECTIONS]]))
        if first < _SECTIONS and first in other:
            raise ValueError(
                f"a state between the two basins, {points[first].tolist()}, goes to neither "
                f"(outcome {int(outcome[first])}): the boundary there is not between two basins"
            )
        a, b = (points[first - 1] if first > 0 else a), (points[first] if first < _SECTIONS else b)
    return a, b


def edge_state(
    model: Model | CompiledModel,
    found: xr.Dataset,
    y_a: Float[ArrayLike, " n"],
    y_b: Float[ArrayLike, " n"],
    *,
    params: Mapping[str, float] | None = None,
    settings: RecurrenceSettings | None = None,
    tol: float = 1e-9,
    separation: float = 1e-4,
    steps: int = 50,
) -> xr.Dataset:
    r"""Track the edge between two basins: the set on their common boundary that
    trajectories along the boundary approach (a saddle, or a chaotic saddle, the
    "edge state" or Melancholia set), by the bisection method of J. D. Skufca, J. A.
    Yorke and B. Eckhardt, "Edge of chaos in a parallel shear flow", Phys. Rev. Lett.
    96, 174101, 2006.

    Starting from `y_a` and `y_b` in two different basins, the segment between them is
    bisected until its ends are within `tol` (sixteen states along it are classified
    at once, each by running to an attractor of `found`). Both ends are then followed
    until they are `separation` apart, as they fall off the boundary towards their
    attractors, and the pair is bisected again. The midpoints trace the boundary's
    dynamics and converge to the edge state.

    **Arguments:**

    - `model`: the flow or map of `found`.
    - `found`: a result of [`basinlab.find_attractors`][] for the same parameters: its
      grid and attractor boxes decide the basins.
    - `y_a`, `y_b`: states in two different basins.
    - `params`: parameter overrides by name, as given to `find_attractors`.
    - `settings`: the [`basinlab.RecurrenceSettings`][] given to it.
    - `tol`: the length (max norm) to which each segment is bisected.
    - `separation`: how far apart the ends may drift before bisecting again.
    - `steps`: how many times to follow and bisect.

    **Returns:**

    An `xarray.Dataset` with `edge_state` (the last midpoint), the `track` of
    midpoints over (`step`, `state`), and the two `attractor` labels.

    **Raises:**

    - `ValueError`: `y_a` and `y_b` of the wrong length, not in two different basins
      of attractors in `found`, a state between them going to a third outcome, or
      `tol`, `separation` or `steps` out of range.
    """
    compiled = as_compiled(model)
    settings = settings_argument(settings, RecurrenceSettings)
    check_positive(tol, "tol")
    check_positive(separation, "separation")
    check_count(steps, "steps")
    if separation <= tol:
        raise ValueError(f"separation ({separation}) must exceed tol ({tol})")
    n = len(compiled.state_names)
    ends = [np.asarray(y, float).reshape(-1) for y in (y_a, y_b)]
    if any(y.shape != (n,) or not np.all(np.isfinite(y)) for y in ends):
        raise ValueError(f"y_a and y_b must each be {n} finite numbers")
    oracle = BasinOracle(compiled, found, params, settings)
    labels = oracle(np.stack(ends))
    if labels[0] < 0 or labels[1] < 0 or labels[0] == labels[1]:
        raise ValueError(
            f"y_a and y_b must reach two different attractors of found; they reach "
            f"{labels.tolist()} (negative: diverged or undecided)"
        )
    follow = jax.jit(jax.vmap(oracle.advance))
    a, b = _bisect(oracle, *ends, labels, tol)
    track = []
    for _ in range(steps):
        track.append((a + b) / 2)
        pair = jnp.asarray(np.stack([a, b]))
        for _ in range(settings.max_steps):
            moved = follow(pair)
            if float(jnp.max(jnp.abs(moved[0] - moved[1]))) > separation:
                break
            pair = moved
        a, b = _bisect(oracle, *np.asarray(pair), labels, tol)
    track.append((a + b) / 2)
    track = np.array(track)
    return xr.Dataset(
        {
            "edge_state": ("state", track[-1]),
            "track": (("step", "state"), track),
            "attractor": ("basin", labels.astype(np.int32)),
        },
        coords={"state": list(compiled.state_names), "step": np.arange(len(track))},
        attrs=provenance(compiled, params, {})
        | {"kind": "edge_state", "tol": tol, "separation": separation},
    )
