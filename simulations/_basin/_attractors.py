"""Attractor labels for final states: fixed points from the theory, and the rest."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import sympy as sp
import xarray as xr
from jaxtyping import Array, Float

from ...theory import MAP, UNSTABLE, FixedPoint
from ...theory._legacy_arguments import legacy_arguments
from .._engine._compile import CompiledModel
from .._engine._settings_argument import settings_argument
from .._engine._solver_settings import CONVERGED, DIVERGED, UNCONVERGED, SolverSettings
from ._label_settings import LabelSettings
from ._rest_sets import confirm_rest, connected_rest_sets
from ._tail_boxes import nested_boxes, overlapping_groups
from ._tails import follow_tails

LIMIT_CYCLE = "limit cycle"
PERIODIC_ORBIT = "periodic orbit"
NON_STATIONARY = "non-stationary"
UNLISTED_FIXED_POINT = "fixed point not found by analysis"
FIXED_POINT_CONTINUUM = "continuum of fixed points"
NEUTRAL_FAMILY = "family of neutral orbits"


@dataclasses.dataclass(frozen=True)
class Attractor:
    """A set that trajectories settle on, with the label they get for it.

    **Fields:**

    - `name`: a readable name, unique within a result.
    - `kind`: the fixed point's kind (`"stable node"`, ...) for a fixed point;
      `"limit cycle"` for a periodic orbit of a flow in the plane; `"periodic orbit"`
      for one of a map; `"non-stationary"` for any other bounded set that is not a
      point; `"fixed point not found by analysis"`;
      `"continuum of fixed points"` for a connected set of rest points (such as the
      minima $ab = s$ of a deep linear mode); `"family of neutral orbits"` for the
      nested closed orbits that surround a centre, or the period-2 orbits of an
      involution (not attractors: each start keeps its own orbit).
    - `location`: the fixed point, or the centre of the set's bounding box.
    - `extent`: the half-widths of the bounding box; zero for a fixed point.
    - `predicates`: for each predicate, whether it holds on the whole set.
    - `period`: the period of a map's periodic orbit; 0 for anything else.
    """

    name: str
    kind: str
    location: np.ndarray
    extent: np.ndarray
    predicates: dict[str, bool]
    period: int = 0

    def __post_init__(self):
        assert self.location.shape == self.extent.shape
        assert np.all(self.extent >= 0)
        assert (self.period > 0) == (self.kind == PERIODIC_ORBIT)


def _format(location: tuple) -> str:
    """Exact coordinates as SymPy prints them when that is short; otherwise (and for
    floats) 3 digits, with values below 1e-6, numerical noise at the tolerances used
    here, shown as 0."""

    def one(c) -> str:
        if not isinstance(c, float | np.floating):
            text = sp.sstr(c)
            if len(text) <= 24:
                return text
            c = float(sp.re(c.evalf()))
        return f"{(0.0 if abs(c) < 1e-6 else float(c)):.3g}"

    return "(" + ", ".join(one(c) for c in location) + ")"


def _close(
    points: np.ndarray, centre: np.ndarray, tol: float, periods: np.ndarray | None = None
) -> np.ndarray:
    """Which points lie within `tol` (relative) of `centre`; along a state of finite
    period (an angle a map wraps), the difference is taken around the circle."""
    difference = np.abs(points - centre)
    if periods is not None:
        finite = np.isfinite(periods)
        around = np.where(finite, periods, 1.0)
        wrapped = np.abs(difference - around * np.round(difference / around))
        difference = np.where(finite, wrapped, difference)
    scale = 1 + np.max(np.abs(centre))
    return np.max(difference, axis=-1) < tol * scale


# A tail returns to its first half when its points lie, at the median, within this
# many settle_tol of that half's path, relative to the tail's extent; the chaotic
# Rössler attractor's tails do within 7% (at the default 60 time units).
_RETURN_SHARE = 5


def _cluster(features: np.ndarray, tol: float) -> np.ndarray:
    """Greedy clustering: each unassigned row starts a cluster of the rows near it."""
    cluster = np.full(len(features), -1)
    count = 0
    for row in range(len(features)):
        if cluster[row] >= 0:
            continue
        members = (cluster < 0) & _close(features, features[row], tol)
        cluster[members] = count
        count += 1
    return cluster


@legacy_arguments(positional=("settings", "labels", "progress"))
def label_attractors(
    compiled: CompiledModel,
    p: Float[Array, " m"],
    final: xr.Dataset,
    points: list[FixedPoint],
    *,
    settings: SolverSettings,
    labels: LabelSettings | None = None,
    progress: bool = False,
) -> tuple[np.ndarray, list[Attractor]]:
    """Give every trajectory the label of the attractor it ends on.

    The attractors are, in order: the stable fixed points of the theory (always
    listed, even when no trajectory reaches them); any other fixed point of the
    theory that a trajectory came to rest on (a saddle reached along its stable
    manifold); rest points the theory did not list, grouped into connected pieces
    (an isolated point, or a piece of a continuum of fixed points); and sets that
    trajectories move on without coming to rest (limit cycles), found by following
    each such trajectory for `tail_time` more and clustering the bounding boxes of
    what it visits. A trajectory that neither came to rest nor settled on such a set
    is `UNCONVERGED`; one that left the bounding box is `DIVERGED`.

    Coming to rest is confirmed, not assumed from a small field: a stopped state
    away from the listed points must project (Gauss–Newton on $f = 0$) onto a rest
    point within `match_tol`, or it is followed like a moving one, so a model that
    is merely slow is never given false rest points. A run that arrives at a point
    repelling in every direction (a chaotic map's orbit rounded onto its unstable
    fixed point) is `UNCONVERGED`. Boxes of one period that overlap by half or more
    on every axis (or lie within `continuum_gap`) are one set: nested ones, each
    repeated by its own trajectory, are a family of neutral orbits (a centre, an
    involution); otherwise one attractor (a chaotic one, whose tails return close to
    where they have been without repeating their extremes).

    **Arguments:**

    - `compiled`: the compiled model.
    - `p`: the parameter vector the ensemble was integrated with.
    - `final`: the result of [`basinlab.integrate`][].
    - `points`: the fixed points from [`basinlab.fixed_points`][].
    - `settings`: the solver settings the ensemble was integrated with.
    - `labels`: matching tolerances.
    - `progress`: show a progress bar while unsettled trajectories are followed.

    **Returns:**

    The labels (one integer per trajectory: an index into the attractors, or
    `DIVERGED`, or `UNCONVERGED`) and the list of [`basinlab.Attractor`][].
    """
    labels = settings_argument(labels, LabelSettings, "labels")
    params = dict(zip(compiled.param_names, np.asarray(p, float).tolist()))
    wraps = np.array([np.inf if L is None else L for L in compiled.model.wrapped_periods(params)])
    state = final["y_final"].values
    status = final["status"].values
    result = np.full(len(state), UNCONVERGED, dtype=np.int32)
    result[status == DIVERGED] = DIVERGED
    attractors: list[Attractor] = []
    by_point: dict[int, int] = {}

    def at(location) -> dict[str, bool]:
        truth = np.asarray(compiled.predicates(jnp.asarray(location, compiled.dtype), p))
        return dict(zip(compiled.predicate_names, map(bool, truth)))

    def add(
        name: str, kind: str, location, extent, predicates: dict[str, bool], period: int = 0
    ) -> int:
        attractors.append(
            Attractor(
                f"A{len(attractors)}: {name}",
                kind,
                np.asarray(location, float),
                np.asarray(extent, float),
                predicates,
                period,
            )
        )
        return len(attractors) - 1

    def point_attractor(j: int) -> int:
        if j not in by_point:
            point = points[j]
            zero = np.zeros(len(point.numeric))
            by_point[j] = add(
                f"{point.kind} {_format(point.location if point.exact else point.numeric)}",
                point.kind,
                point.numeric,
                zero,
                at(point.numeric),
            )
        return by_point[j]

    for j, point in enumerate(points):
        if point.stable:
            point_attractor(j)

    def arrived(rows: np.ndarray, at: np.ndarray, tol: float) -> np.ndarray:
        """Which rows came to `at` rather than starting there."""
        return ~_close(start[rows], at, tol, wraps)

    def match_points(rows: np.ndarray, at: np.ndarray, tol: float) -> np.ndarray:
        """Label rows near a fixed point; return the rows left unmatched. A point that
        repels in every direction attracts nothing: a run that arrives there (by
        rounding, as a chaotic map's orbit can) is UNCONVERGED."""
        unmatched = np.ones(len(rows), bool)
        for j, point in enumerate(points):
            near = unmatched & _close(at, np.asarray(point.numeric), tol, wraps)
            if np.any(near):
                label = point_attractor(j)
                if point.kind == UNSTABLE:
                    came = near & arrived(rows, np.asarray(point.numeric), tol)
                    result[rows[came]] = UNCONVERGED
                    near &= ~came
                result[rows[near]] = label
                unmatched &= ~near
        return rows[unmatched]

    start = final["y0"].values
    rest = np.flatnonzero(status == CONVERGED)
    stray = match_points(rest, state[rest], labels.match_tol)
    # A stopped state away from the listed points must lie at a true rest point; one
    # that does not (it only moves slowly) is followed like the unsettled.
    confirmed, landed = confirm_rest(compiled, p, state[stray], labels.match_tol)
    slow, stray, landed = stray[~confirmed], stray[confirmed], landed[confirmed]
    cluster = connected_rest_sets(compiled, p, landed, labels.match_tol, labels.continuum_gap)
    stray_truth = np.asarray(
        jax.vmap(lambda y: compiled.predicates(y, p))(jnp.asarray(landed, compiled.dtype))
    )
    for k in range(cluster.max(initial=-1) + 1):
        members = stray[cluster == k]
        low, high = landed[cluster == k].min(axis=0), landed[cluster == k].max(axis=0)
        centre, extent = (low + high) / 2, (high - low) / 2
        scale = 1 + np.max(np.abs(centre))
        isolated = np.max(extent) < labels.match_tol * scale
        if isolated and _repels(compiled, p, centre):
            came = arrived(members, centre, labels.match_tol)
            result[members[came]] = UNCONVERGED
            members = members[~came]
            if len(members) == 0:
                continue
        if isolated:
            name, kind, extent = (
                f"rest point {_format(tuple(centre))}",
                UNLISTED_FIXED_POINT,
                0 * extent,
            )
        else:
            name = (
                f"rest points around {_format(tuple(centre))}, half-width {_format(tuple(extent))}"
            )
            kind = FIXED_POINT_CONTINUUM
        truth = stray_truth[cluster == k].all(axis=0)
        result[members] = add(
            name, kind, centre, extent, dict(zip(compiled.predicate_names, map(bool, truth)))
        )

    moving = np.flatnonzero((status == UNCONVERGED) & np.all(np.isfinite(state), axis=1))
    moving = np.sort(np.concatenate([moving, slow]))
    if len(moving) == 0:
        return result, attractors
    halves_low, halves_high, holds, periods, returns = follow_tails(
        compiled, settings, labels, state[moving], p, progress
    )
    first = np.concatenate([halves_low[:, 0], halves_high[:, 0]], axis=1)
    second = np.concatenate([halves_low[:, 1], halves_high[:, 1]], axis=1)
    low, high = halves_low.min(axis=1), halves_high.max(axis=1)
    scale = 1 + np.max(np.abs(second), axis=1)
    finite = np.all(np.isfinite(first) & np.isfinite(second), axis=1)
    settled = finite & (np.max(np.abs(first - second), axis=1) < labels.settle_tol * scale)
    # On an attractor the second half returns close to the first half's path, whether
    # it repeats its extremes (a cycle) or not (a chaotic set). A spiral into a focus
    # or onto a cycle returns close too, but its second half lies strictly inside the
    # first (or around it): that is a transient.
    margin = labels.settle_tol * np.max(high - low, axis=1)[:, None]
    inside = np.all(
        (halves_low[:, 1] > halves_low[:, 0] + margin)
        & (halves_high[:, 1] < halves_high[:, 0] - margin),
        axis=1,
    )
    around = np.all(
        (halves_low[:, 0] > halves_low[:, 1] + margin)
        & (halves_high[:, 0] < halves_high[:, 1] - margin),
        axis=1,
    )
    returning = returns < _RETURN_SHARE * labels.settle_tol
    recurrent = (settled | (finite & returning)) & ~inside & ~around
    # Where a tail ends up still, it is at rest there, whatever its first half did.
    last_centre = (halves_low[:, 1] + halves_high[:, 1]) / 2
    last_extent = (halves_high[:, 1] - halves_low[:, 1]) / 2
    at_rest = finite & (np.max(last_extent, axis=1) < labels.settle_tol * scale)
    still = match_points(moving[at_rest], last_centre[at_rest], labels.settle_tol)
    result[still] = UNCONVERGED  # slow, and near no listed fixed point: not decided
    cycling = np.flatnonzero(recurrent & ~at_rest)
    # Orbits of different periods are different attractors even where their boxes agree.
    features = np.concatenate([low[cycling], high[cycling], periods[cycling, None]], axis=1)
    cluster = _cluster(features, labels.settle_tol)
    boxes = [
        (low[cycling[cluster == k]].min(axis=0), high[cycling[cluster == k]].max(axis=0))
        for k in range(cluster.max(initial=-1) + 1)
    ]
    cluster_periods = [int(periods[cycling[cluster == k]][0]) for k in range(len(boxes))]
    groups = overlapping_groups(boxes, cluster_periods, labels.settle_tol, labels.continuum_gap)
    for group in groups:
        members = cycling[np.isin(cluster, group)]
        group_low = np.min([boxes[k][0] for k in group], axis=0)
        group_high = np.max([boxes[k][1] for k in group], axis=0)
        box_centre, box_extent = (group_low + group_high) / 2, (group_high - group_low) / 2
        truth = holds[members].all(axis=0)
        period = cluster_periods[group[0]]
        each_repeats = bool(np.all(settled[members]))
        if (
            len(group) > 1
            and each_repeats
            and nested_boxes([boxes[k] for k in group], labels.settle_tol)
        ):
            kind = label = NEUTRAL_FAMILY
            period = 0
        elif period > 0:
            kind, label = PERIODIC_ORBIT, f"period-{period} orbit"
        else:
            flow_cycle = compiled.kind != MAP and state.shape[1] == 2 and each_repeats
            kind = label = LIMIT_CYCLE if flow_cycle else NON_STATIONARY
        index = add(
            f"{label} around {_format(tuple(box_centre))}, half-width {_format(tuple(box_extent))}",
            kind,
            box_centre,
            box_extent,
            dict(zip(compiled.predicate_names, map(bool, truth))),
            period,
        )
        result[moving[members]] = index
    return result, attractors


def _repels(compiled: CompiledModel, p: Float[Array, " m"], point: np.ndarray) -> bool:
    """Whether a rest point repels in every direction: every eigenvalue of a flow's
    Jacobian has a positive real part, or every one of a map's a modulus above 1."""
    t = jnp.zeros((), compiled.dtype)
    residual = jax.jacfwd(compiled.rest_residual, argnums=1)(
        t, jnp.asarray(point, compiled.dtype), p
    )
    jacobian = np.asarray(residual, float)
    if not np.all(np.isfinite(jacobian)):
        return False
    if compiled.kind == MAP:
        return bool(np.all(np.abs(np.linalg.eigvals(jacobian + np.eye(len(point)))) > 1))
    return bool(np.all(np.linalg.eigvals(jacobian).real > 0))
