"""Connected sets of rest points, however sparsely the trajectories sample them."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .._engine._compile import CompiledModel

_MAX_REPRESENTATIVES = 20_000
# Groups are tested for a path of rest points where they hold one of each other's
# this many nearest cells.
_NEIGHBOUR_CELLS = 32
# Projections allowed to one path before it counts as not found.
_PATH_BUDGET = 256


def _snapped(points: np.ndarray, resolution: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Points snapped to a grid of spacing `resolution` (relative), coarsened until at
    most 20,000 distinct cells remain; returns the cells, each point's cell, and the
    spacing."""
    spacing = resolution * (1 + np.max(np.abs(points)))
    while True:
        cells, inverse = np.unique(np.round(points / spacing), axis=0, return_inverse=True)
        if len(cells) <= _MAX_REPRESENTATIVES:
            return cells * spacing, inverse.ravel(), spacing
        spacing *= 2


# Gauss–Newton converges quadratically near a regular rest point; this bounds the rest.
_MAX_ITERATIONS = 40


@eqx.filter_jit
def _project(
    compiled: CompiledModel, p: Float[Array, " m"], y: Float[Array, " n"]
) -> tuple[Float[Array, " n"], Float[Array, ""]]:
    """Gauss–Newton with minimum-norm steps onto the rest set $f = 0$ from `y`; returns
    the point and $\\|f\\|_\\infty$ there.

    On a continuum the Jacobian is singular along it, and the pseudo-inverse moves
    only across it, so the point lands near the foot of the perpendicular.
    """
    t = jnp.zeros((), y.dtype)
    # Converged once a step moves the point by a few rounding errors; a NaN step stops
    # too (the residual is then NaN and the point is not confirmed).
    tolerance = 4 * jnp.finfo(y.dtype).eps

    def moving(state):
        iteration, y, change = state
        return (iteration < _MAX_ITERATIONS) & (change > tolerance * (1 + jnp.max(jnp.abs(y))))

    def step(state):
        iteration, y, _ = state
        jacobian = jax.jacfwd(compiled.rest_residual, argnums=1)(t, y, p)
        new = y - jnp.linalg.pinv(jacobian, rtol=1e-8) @ compiled.rest_residual(t, y, p)
        return iteration + 1, new, jnp.max(jnp.abs(new - y))

    _, y, _ = jax.lax.while_loop(moving, step, (0, y, jnp.asarray(jnp.inf, y.dtype)))
    return y, jnp.max(jnp.abs(compiled.rest_residual(t, y, p)))


@eqx.filter_jit
def _project_all(
    compiled: CompiledModel, p: Float[Array, " m"], ys: Float[Array, "k n"]
) -> tuple[Float[Array, "k n"], Float[Array, " k"]]:
    return jax.vmap(lambda y: _project(compiled, p, y))(ys)


def confirm_rest(
    compiled: CompiledModel, p: Float[Array, " m"], points: Float[np.ndarray, "k n"], tol: float
) -> tuple[np.ndarray, np.ndarray]:
    r"""Which stopped states lie within `tol` (relative) of a true rest point.

    A small field says a state moves slowly, not that it is at rest: $\dot x =
    10^{-6}$ has no rest point at all, and $\dot x = -x^3$ crawls towards 0 long after
    its field is small. Each state is projected onto the rest set $f = 0$ by
    Gauss–Newton (see `_project`); it is confirmed when the projection converges
    there (residual below $10^{-8}$, relative) within `tol` of the state.

    **Returns:**

    Whether each state is confirmed, and the rest point each projects to.
    """
    if len(points) == 0:
        return np.zeros(0, bool), np.zeros_like(points)
    landed, residual = _project_all(compiled, p, jnp.asarray(points, compiled.dtype))
    landed, residual = np.asarray(landed, float), np.asarray(residual, float)
    scale = 1 + np.max(np.abs(landed), axis=1)
    confirmed = (
        np.all(np.isfinite(landed), axis=1)
        & (residual <= 1e-8 * scale)
        & (np.max(np.abs(landed - points), axis=1) <= tol * scale)
    )
    return confirmed, landed


def _rest_path(
    compiled: CompiledModel, p: Array, start: np.ndarray, end: np.ndarray, gap: float
) -> bool:
    """Whether a chain of rest points with links shorter than `gap` joins `start` to
    `end`, found by bisection: each midpoint is projected onto the rest set, and must
    land within a quarter of its segment's length of where it started (a smooth curve
    of rest points bends that little over a chord; two separate rest points have no
    rest point near their midpoint)."""
    segments = [(start, end)]
    for _ in range(_PATH_BUDGET):
        if not segments:
            return True
        left, right = segments.pop()
        length = np.max(np.abs(right - left))
        if length <= gap:
            continue
        middle = (left + right) / 2
        landed, residual = _project(compiled, p, jnp.asarray(middle, compiled.dtype))
        landed = np.asarray(landed, dtype=float)
        tolerance = 1e-8 * (1 + np.max(np.abs(landed)))
        if not (float(residual) <= tolerance and np.max(np.abs(landed - middle)) <= length / 4):
            return False
        segments += [(left, landed), (landed, right)]
    return not segments


def connected_rest_sets(
    compiled: CompiledModel,
    p: Float[Array, " m"],
    points: Float[np.ndarray, "k n"],
    resolution: float,
    gap: float,
) -> np.ndarray:
    """Label the connected sets of rest points that `points` sample.

    Points joined by a chain with steps below `gap` (relative to the points' scale)
    are grouped first, by single linkage on a grid of spacing `resolution` (coarsened
    until at most 20,000 cells remain, so it stays cheap however many points there
    are). Groups are then merged where a path of rest points joins them (see
    `_rest_path`), so a circle of rest points sampled by a handful of trajectories is
    still one set, while separate rest points stay separate.

    **Arguments:**

    - `compiled`: the compiled model, whose field vanishes at `points`.
    - `p`: its parameter vector.
    - `points`: the rest points, one per row.
    - `resolution`, `gap`: relative grid spacing and chain step.

    **Returns:**

    One integer per point, numbering the sets from 0.
    """
    import scipy.cluster.hierarchy  # on use: half a second of every `import basinlab`
    import scipy.spatial

    if len(points) == 0:
        return np.zeros(0, dtype=int)
    cells, cell_of_point, spacing = _snapped(points, resolution)
    if len(cells) == 1:
        return np.zeros(len(points), dtype=int)
    threshold = max(gap * (1 + np.max(np.abs(points))), 2 * spacing)
    tree = scipy.cluster.hierarchy.linkage(cells, method="single", metric="chebyshev")
    group = scipy.cluster.hierarchy.fcluster(tree, t=threshold, criterion="distance") - 1
    count = group.max() + 1
    if count > 1:
        parent = list(range(count))

        def root(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        # The closest pair of cells between each group and its nearest groups.
        nearest: dict[tuple[int, int], tuple[float, int, int]] = {}
        k = min(len(cells), _NEIGHBOUR_CELLS)
        distances, neighbours = scipy.spatial.cKDTree(cells).query(cells, k=k, p=np.inf)
        for i, (row, where) in enumerate(zip(distances, neighbours)):
            for distance, j in zip(row, where):
                pair = tuple(sorted((group[i], group[j])))
                if pair[0] != pair[1] and distance < nearest.get(pair, (np.inf,))[0]:
                    nearest[pair] = (distance, i, j)
        for (a, b), (_, i, j) in sorted(nearest.items(), key=lambda item: item[1][0]):
            if root(a) != root(b) and _rest_path(compiled, p, cells[i], cells[j], threshold):
                parent[root(a)] = root(b)
        roots = np.array([root(g) for g in range(count)])
        group = np.unique(roots, return_inverse=True)[1].ravel()[group]
    return group[cell_of_point]
