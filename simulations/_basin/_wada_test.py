"""Whether basins are Wada, by the merging method of Daza, Wagemakers & Sanjuán."""

from __future__ import annotations

import dataclasses

import numpy as np
import xarray as xr
from jaxtyping import Float, Int
from scipy import ndimage

from ...theory._checks import check_count, check_in_range
from .._engine._solver_settings import UNCONVERGED
from ._basin_entropy import basin_labels

WADA = "Wada"
NOT_WADA = "not Wada"
TOO_FEW_BASINS = "fewer than three basins"


@dataclasses.dataclass(frozen=True)
class WadaTest:
    r"""The verdict of [`wada_test`][] and the numbers behind it.

    **Fields:**

    - `verdict`: `"Wada"`, `"not Wada"`, or `"fewer than three basins"`.
    - `outcomes`: the labels of the basins compared (attractors, and `DIVERGED` when
      some starts diverge).
    - `radius`: the dilation, in grid points.
    - `wada_share`: $W$, the share of boundary points within `radius` of the
      boundary of every basin.
    - `distances`: over (basin $i$, basin $j$), the largest distance, in grid points,
      from a point of basin $j$'s boundary to basin $i$'s boundary.
    """

    verdict: str
    outcomes: Int[np.ndarray, " k"]
    radius: int
    wada_share: float
    distances: Float[np.ndarray, "k k"]

    def __post_init__(self):
        assert self.verdict in (WADA, NOT_WADA, TOO_FEW_BASINS)
        assert self.distances.shape == (len(self.outcomes),) * 2
        assert 0 <= self.wada_share <= 1 or np.isnan(self.wada_share)


def _boundary(inside: np.ndarray) -> np.ndarray:
    """The grid points with a neighbour along some axis on the other side."""
    edge = np.zeros_like(inside)
    for axis in range(inside.ndim):
        differs = np.diff(inside, axis=axis)
        before = [slice(None)] * inside.ndim
        after = [slice(None)] * inside.ndim
        before[axis], after[axis] = slice(None, -1), slice(1, None)
        edge[tuple(before)] |= differs
        edge[tuple(after)] |= differs
    return edge


def wada_test(result: xr.Dataset, *, radius: int = 2, share: float = 0.95) -> WadaTest:
    r"""Test whether the basins of a basin map have the Wada property: every point on
    the boundary of one basin is on the boundary of every other (three or more).

    The merging method (A. Daza, A. Wagemakers and M. A. F. Sanjuán, "Ascertaining
    when a basin is Wada: the merging method", Sci. Rep. 8, 9954, 2018): for each
    basin $i$, all the others are merged into one, and the boundary $\partial_i$ of
    the two-coloured picture is taken (the grid points with a neighbour of the
    other colour). In a Wada map these $N$ boundaries are the same set; on a grid
    they agree up to its resolution. So each $\partial_i$ is dilated by `radius`
    grid points, and $W$, the share of points of $\bigcup_i \partial_i$ that lie
    within `radius` of every $\partial_i$, is computed; the basins are called Wada
    when $W \ge$ `share`. Newton's method for $z^3 - 1$ is Wada (its basins share
    the Julia set); three basins in a row, whose outer two never meet, are not.
    `UNCONVERGED` points are left out; `DIVERGED` counts as a basin.

    **Arguments:**

    - `result`: a dataset from [`basinlab.basin_map`][].
    - `radius`: the dilation in grid points, at least 1.
    - `share`: the least $W$ for a Wada verdict, in $(0, 1]$.

    **Returns:**

    A [`basinlab.WadaTest`][].

    **Raises:**

    - `ValueError`: `result` is not a basin map, or `radius` or `share` is out of range.
    """
    labels = basin_labels(result, "wada_test")
    radius = check_count(radius, "radius")
    share = check_in_range(share, "share", 0.0, 1.0)
    if share == 0:
        raise ValueError("share must be above 0")
    outcomes = np.array([o for o in np.unique(labels) if o != UNCONVERGED], dtype=np.int64)
    k = len(outcomes)
    boundaries = [_boundary(labels == o) for o in outcomes]
    # Distance from every grid point to each basin's boundary.
    reach = [
        ndimage.distance_transform_edt(~b) if b.any() else np.full(labels.shape, np.inf)
        for b in boundaries
    ]
    distances = np.array(
        [
            [
                float(np.max(reach[i][boundaries[j]])) if boundaries[j].any() else 0.0
                for j in range(k)
            ]
            for i in range(k)
        ]
    ).reshape(k, k)
    union = np.any(boundaries, axis=0) if k else np.zeros(labels.shape, bool)
    if k < 3 or not union.any():
        return WadaTest(TOO_FEW_BASINS, outcomes, radius, float("nan"), distances)
    near_all = np.all([r[union] <= radius for r in reach], axis=0)
    wada_share = float(np.mean(near_all))
    verdict = WADA if wada_share >= share else NOT_WADA
    return WadaTest(verdict, outcomes, radius, wada_share, distances)
