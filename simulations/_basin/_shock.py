"""The smallest kick that sends a run from an attractor into another basin: a numeric
upper bound by ray search."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np
from jaxtyping import Float

from ...theory import FixedPoint, Model, default_window, fixed_points
from ...theory._checks import check_count, check_positive, check_seed
from ...theory._legacy_arguments import legacy_arguments
from .._engine._compile import CompiledModel
from .._engine._integrate import as_compiled, integrate
from .._engine._progress import Progress
from .._engine._settings_argument import settings_argument
from .._engine._solver_settings import CONVERGED, DIVERGED, SolverSettings
from ._stable_points import stable_point_near

L2 = "l2"
LINF = "linf"
NORMS = (L2, LINF)


@dataclasses.dataclass(frozen=True)
class ShockSearch:
    """A perturbation of an attractor, checked by simulation to end in another basin.

    **Fields:**

    - `norm`: `"l2"` or `"linf"`, the norm the sizes are measured in.
    - `attractor`: the stable fixed point that was perturbed.
    - `upper`: the size of `shock`, an upper bound on the minimal critical shock.
    - `shock`: the perturbation; `attractor + shock` was integrated and left.
    - `destination`: the stable fixed point that run ended on, or `None` when it
      diverged.
    - `rays`: the directions searched; `evaluations`: the runs integrated.
    """

    norm: str
    attractor: Float[np.ndarray, " dim"]
    upper: float
    shock: Float[np.ndarray, " dim"]
    destination: Float[np.ndarray, " dim"] | None
    rays: int
    evaluations: int

    def __post_init__(self):
        assert self.norm in NORMS
        assert self.shock.shape == self.attractor.shape
        assert np.isclose(self.upper, vector_norms(self.shock[None], self.norm)[0])


def vector_norms(vectors: Float[np.ndarray, "k dim"], norm: str) -> Float[np.ndarray, " k"]:
    """The `"l2"` or `"linf"` norm of each row."""
    return np.linalg.norm(vectors, axis=1) if norm == L2 else np.max(np.abs(vectors), axis=1)


def check_norm(norm: str) -> None:
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")


class _Classifier:
    """Integrates starts and says which ones ended in a basin other than the attractor's
    (or in the target's, when one is named)."""

    def __init__(
        self,
        compiled: CompiledModel,
        params: Mapping[str, float] | None,
        settings: SolverSettings,
        points: list[FixedPoint],
        home: int,
        target: int | None,
    ):
        self.compiled, self.params, self.settings = compiled, params, settings
        self.home, self.target = home, target
        self.stable = np.array([q.numeric for q in points if q.stable], dtype=float)
        self.evaluations = 0

    def _nearest_stable(self, final: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        distance = np.max(np.abs(final[:, None, :] - self.stable[None]), axis=2)
        nearest = np.argmin(distance, axis=1)
        scale = 1 + np.max(np.abs(self.stable[nearest]), axis=1)
        return nearest, distance[np.arange(len(final)), nearest] < 1e-4 * scale

    def __call__(self, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Whether each start left, and the stable point it ended on (-1 if none).

        A run that comes to rest anywhere but at home has left, whether or not it
        rests at a listed stable point: a stable point that the fixed-point search
        missed is another basin all the same, never folded into home's."""
        self.evaluations += len(starts)
        result = integrate(
            self.compiled, starts, params=self.params, settings=self.settings, progress=False
        )
        status = result["status"].values
        nearest, at_point = self._nearest_stable(result["y_final"].values)
        ended = np.where((status == CONVERGED) & at_point, nearest, -1)
        if self.target is not None:
            return ended == self.target, ended
        at_home = (status == CONVERGED) & at_point & (nearest == self.home)
        return ((status == CONVERGED) & ~at_home) | (status == DIVERGED), ended


def _directions(rng: np.random.Generator, count: int, dim: int, norm: str) -> np.ndarray:
    raw = rng.standard_normal((count, dim))
    return raw / vector_norms(raw, norm)[:, None]


def _bisect(classify, centre, directions, low, high, bisections):
    """Shrink `[low, high]` along each ray, keeping `high` a point that left."""
    for _ in range(bisections):
        middle = (low + high) / 2
        left, _ = classify(centre + middle[:, None] * directions)
        high = np.where(left, middle, high)
        low = np.where(left, low, middle)
    return high


@legacy_arguments(positional=("params",), renamed={"rays": "n"})
def critical_shock_search(
    model: Model | CompiledModel,
    attractor: FixedPoint | Sequence[float],
    *,
    params: Mapping[str, float] | None = None,
    norm: str = L2,
    target: FixedPoint | Sequence[float] | None = None,
    max_shock: float | None = None,
    n: int = 256,
    scan: int = 24,
    bisections: int = 24,
    refinements: int = 12,
    seed: int = 0,
    settings: SolverSettings | None = None,
    progress: bool = True,
    **setting_overrides,
) -> ShockSearch:
    r"""Search for the smallest perturbation of a stable fixed point that leaves its
    basin, and return the best one found: an upper bound on the minimal critical shock.

    The minimal critical shock of an attractor $x^*$ is
    $\min\{\|\delta\| : x^* + \delta \notin \mathcal{B}(x^*)\}$ (P. Halekotte and
    U. Feudel, "Minimal fatal shocks in multistable complex networks", Sci. Rep. 10,
    11783, 2020; Attractors.jl's `minimal_critical_shock`). Here `n` random
    directions are scanned at `scan` evenly spaced sizes up to `max_shock`; along
    each ray that leaves, the first crossing is bisected `bisections` times. The best
    ray is then refined by a $(1 + \lambda)$ evolution strategy on the sphere:
    `refinements` rounds of `rays // 4` directions drawn around the best one, each
    bisected below the current bound, with the spread halved after a round that
    finds nothing smaller. Every bound returned is a run that was integrated and
    left, so it is an upper bound whatever the shape of the basin; on a fractal
    boundary the search may miss thin tongues that come closer.

    A start *leaves* when it converges to another stable fixed point of the theory,
    or diverges; with `target`, only when it converges to `target`. Runs that end
    on a saddle or do not settle count as staying.

    **Arguments:**

    - `model`: a flow or a map, or a compiled one.
    - `attractor`: the stable fixed point, as a [`basinlab.FixedPoint`][] or its
      coordinates.
    - `params`: parameter overrides.
    - `norm`: `"l2"` (Euclidean) or `"linf"` (max-norm).
    - `target`: a stable fixed point whose basin the shock must reach; any other by
      default.
    - `max_shock`: the largest size scanned; by default the widest side of the
      model's window ([`basinlab.theory.default_window`][]).
    - `n`, `scan`, `bisections`, `refinements`: the search effort, as above.
    - `seed`: the seed of the directions.
    - `settings`, `**setting_overrides`: solver settings.
    - `progress`: show a progress bar over the stages.

    **Returns:**

    A [`ShockSearch`][].

    **Raises:**

    - `ValueError`: `attractor` or `target` is not a stable fixed point, or they are
      the same; `norm` is unknown; a count is not positive; `max_shock` is not
      positive; no ray left the basin within `max_shock`.
    """
    check_norm(norm)
    for name, value in (("n", n), ("scan", scan), ("bisections", bisections)):
        check_count(value, name)
    check_count(refinements, "refinements", minimum=0)
    seed = check_seed(seed)
    compiled = as_compiled(model)
    points = fixed_points(compiled.model, params=params)
    stable = [i for i, q in enumerate(points) if q.stable]
    home = stable.index(stable_point_near(points, attractor, "the attractor"))
    goal = None
    if target is not None:
        goal = stable.index(stable_point_near(points, target, "the target"))
        if goal == home:
            raise ValueError("the target is the attractor itself")
    if max_shock is None:
        window = default_window(compiled.model, points)
        max_shock = float(np.max(window[:, 1] - window[:, 0]))
    max_shock = check_positive(max_shock, "max_shock")
    settings = settings_argument(settings, SolverSettings, **setting_overrides)
    classify = _Classifier(compiled, params, settings, points, home, goal)
    centre = np.asarray(points[stable[home]].numeric, dtype=float)
    rng = np.random.default_rng(seed)
    with Progress(2 + refinements, "shock search", progress, unit="stage") as bar:
        directions = _directions(rng, n, len(centre), norm)
        sizes = max_shock * np.arange(1, scan + 1) / scan
        grid = centre + sizes[None, :, None] * directions[:, None, :]
        left, _ = classify(grid.reshape(-1, len(centre)))
        left = left.reshape(n, scan)
        hits = np.flatnonzero(left.any(axis=1))
        if hits.size == 0:
            raise ValueError(
                f"no run left the basin within max_shock={max_shock:g} along {n} rays; "
                "raise max_shock or rays"
            )
        first = np.argmax(left[hits], axis=1)
        low = np.where(first > 0, sizes[np.maximum(first - 1, 0)], 0.0)
        bar.advance(1)
        bounds = _bisect(classify, centre, directions[hits], low, sizes[first], bisections)
        best = int(np.argmin(bounds))
        direction, upper = directions[hits][best], float(bounds[best])
        bar.advance(1)
        spread = 0.5
        for _ in range(refinements):
            candidates = direction + spread * rng.standard_normal((max(n // 4, 1), len(centre)))
            candidates /= vector_norms(candidates, norm)[:, None]
            left, _ = classify(centre + upper * candidates)
            if left.any():
                candidates = candidates[left]
                found = _bisect(
                    classify,
                    centre,
                    candidates,
                    np.zeros(len(candidates)),
                    np.full(len(candidates), upper),
                    bisections,
                )
                best = int(np.argmin(found))
                if found[best] < upper:
                    direction, upper = candidates[best], float(found[best])
                    bar.advance(1)
                    continue
            spread /= 2
            bar.advance(1)
    shock = upper * direction
    _, ended = classify(centre[None] + shock[None])
    destination = None if ended[0] < 0 else np.asarray(points[stable[ended[0]]].numeric, float)
    return ShockSearch(
        norm,
        centre,
        float(vector_norms(shock[None], norm)[0]),
        shock,
        destination,
        n,
        classify.evaluations,
    )
