"""Whether basins are Wada, by the merging method of Daza, Wagemakers & Sanjuán."""

from __future__ import annotations

import dataclasses

import numpy as np
import xarray as xr
from jaxtyping import Float, Int
from scipy import ndimage

from ...theory import Model
from ...theory._checks import check_count, check_in_range
from .._engine._compile import CompiledModel
from .._engine._integrate import as_compiled
from .._engine._solver_settings import UNCONVERGED, SolverSettings
from ._basin_entropy import basin_labels
from ._label_settings import LabelSettings
from ._wada_grid import wada_grid_shares

MERGING = "merging"
GRID = "grid"
WADA = "Wada"
NOT_WADA = "not Wada"
TOO_FEW_BASINS = "fewer than three basins"


@dataclasses.dataclass(frozen=True)
class WadaTest:
    r"""The verdict of [`wada_test`][] and the numbers behind it.

    **Fields:**

    - `verdict`: `"Wada"`, `"not Wada"`, or `"fewer than three basins"`.
    - `method`: `"merging"` or `"grid"`, the method that gave the verdict.
    - `outcomes`: the labels of the basins compared (attractors, and `DIVERGED` when
      some starts diverge).
    - `radius`: the dilation, in grid points.
    - `wada_share`: $W$, the share of boundary points within `radius` of the
      boundary of every basin.
    - `distances`: over (basin $i$, basin $j$), the largest distance, in grid points,
      from a point of basin $j$'s boundary to basin $i$'s boundary.
    - `grid_shares`: for the grid method, $W_m$, the share of boundary boxes that show
      $m = 1, \dots, N$ basins after refinement; empty for the merging method.
    """

    verdict: str
    method: str
    outcomes: Int[np.ndarray, " k"]
    radius: int
    wada_share: float
    distances: Float[np.ndarray, "k k"]
    grid_shares: Float[np.ndarray, " m"]

    def __post_init__(self):
        assert self.verdict in (WADA, NOT_WADA, TOO_FEW_BASINS)
        assert self.method in (MERGING, GRID)
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


def wada_test(
    result: xr.Dataset,
    *,
    method: str = MERGING,
    radius: int = 2,
    share: float = 0.95,
    model: Model | CompiledModel | None = None,
    refinements: int = 4,
    settings: SolverSettings | None = None,
    labels: LabelSettings | None = None,
) -> WadaTest:
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

    The grid method (A. Daza, A. Wagemakers, M. A. F. Sanjuán and J. A. Yorke,
    "Testing for basins of Wada", Sci. Rep. 5, 16579, 2015) computes more: each box
    between four neighbouring grid points that shows two basins or more is refined,
    new starts on ever finer lattices inside it being run, until it shows all $N$
    basins or `refinements` halvings are done; $W_m$ is the share of boundary boxes
    that show $m$ basins, and the basins are called Wada when $W_N \ge$ `share`.
    It needs the map's `model` (and the `settings` and `labels` the map was made
    with).

    **Arguments:**

    - `result`: a dataset from [`basinlab.basin_map`][].
    - `method`: `"merging"` (the map alone) or `"grid"` (runs new starts).
    - `radius`: the merging method's dilation in grid points, at least 1.
    - `share`: the least $W$ (or $W_N$) for a Wada verdict, in $(0, 1]$.
    - `model`, `refinements`, `settings`, `labels`: for the grid method, the map's
      model, the most halvings of a box, and the map's solver and label settings.

    **Returns:**

    A [`basinlab.WadaTest`][].

    **Raises:**

    - `ValueError`: `result` is not a basin map; `method`, `radius`, `share` or
      `refinements` is out of range; the grid method without the map's model.
    """
    picture = basin_labels(result, "wada_test")
    radius = check_count(radius, "radius")
    share = check_in_range(share, "share", 0.0, 1.0)
    if share == 0:
        raise ValueError("share must be above 0")
    if method not in (MERGING, GRID):
        raise ValueError(f"method must be {MERGING!r} or {GRID!r}, got {method!r}")
    if method == GRID:
        refinements = check_count(refinements, "refinements")
        if model is None or as_compiled(model).name != result.attrs.get("model"):
            raise ValueError(
                f"the grid method needs the map's model, {result.attrs.get('model')!r}, as model="
            )
    outcomes = np.array([o for o in np.unique(picture) if o != UNCONVERGED], dtype=np.int64)
    k = len(outcomes)
    boundaries = [_boundary(picture == o) for o in outcomes]
    # Distance from every grid point to each basin's boundary.
    reach = [
        ndimage.distance_transform_edt(~b) if b.any() else np.full(picture.shape, np.inf)
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
    union = np.any(boundaries, axis=0) if k else np.zeros(picture.shape, bool)
    if k < 3 or not union.any():
        return WadaTest(
            TOO_FEW_BASINS, method, outcomes, radius, float("nan"), distances, np.zeros(0)
        )
    near_all = np.all([r[union] <= radius for r in reach], axis=0)
    wada_share = float(np.mean(near_all))
    shares = np.zeros(0)
    if method == GRID:
        shares = wada_grid_shares(model, result, outcomes, refinements, settings, labels)
        verdict = WADA if shares[-1] >= share else NOT_WADA
    else:
        verdict = WADA if wada_share >= share else NOT_WADA
    return WadaTest(verdict, method, outcomes, radius, wada_share, distances, shares)
