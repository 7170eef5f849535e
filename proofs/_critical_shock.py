"""The minimal critical shock of an attractor, bracketed: simulated above, proved below."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np
from jaxtyping import Float

from ..simulations import CompiledModel, SolverSettings
from ..simulations._basin._shock import L2, NORMS, check_norm, critical_shock_search
from ..simulations._engine._integrate import as_compiled
from ..theory import MAP, FixedPoint, Model
from ..theory._legacy_arguments import legacy_arguments
from ._ball import CertifiedBall, certified_ball
from ._claim import CertificateFailed, Undecided
from ._region import SOS, SUBLEVEL, certified_region


@dataclasses.dataclass(frozen=True)
class CriticalShock:
    r"""Bounds on the minimal critical shock $\delta^* = \min\{\|\delta\| :
    x^* + \delta \notin \mathcal{B}(x^*)\}$ of a stable fixed point $x^*$.

    **Fields:**

    - `norm`: `"l2"` or `"linf"`.
    - `attractor`: $x^*$.
    - `lower`: a proved lower bound: every perturbation smaller than it stays in the
      basin; `0.0` when none could be proved (see `reason`).
    - `upper`: the size of `shock`, a simulated perturbation that left.
    - `shock`: that perturbation.
    - `destination`: the stable fixed point `attractor + shock` ended on; `None` when
      it diverged.
    - `ball`: the [`basinlab.proofs.CertifiedBall`][] behind `lower`, or `None`.
    - `reason`: why there is no certified lower bound; empty when there is one.
    - `evaluations`: runs integrated by the search.
    """

    norm: str
    attractor: Float[np.ndarray, " dim"]
    lower: float
    upper: float
    shock: Float[np.ndarray, " dim"]
    destination: Float[np.ndarray, " dim"] | None
    ball: CertifiedBall | None
    reason: str
    evaluations: int

    def __post_init__(self):
        assert self.norm in NORMS
        assert 0 <= self.lower <= self.upper
        assert (self.ball is None) == bool(self.reason)

    @property
    def gap(self) -> float:
        """`upper - lower`: how far apart the bounds are."""
        return self.upper - self.lower

    @property
    def relative_gap(self) -> float:
        """`gap / upper`: 0 when the bounds meet, 1 when there is no lower bound."""
        return self.gap / self.upper


def _lower_bound(model: Model, attractor, params, norm: str) -> tuple[CertifiedBall | None, str]:
    """The larger of the balls in a sublevel region and in a Lyapunov region."""
    if model.kind == MAP:
        return None, "certified regions are for flows, and this model is a map"
    balls, failures = [], []
    gradient = model.loss is not None and model.loss.is_polynomial(*model.state)
    for method in (SUBLEVEL, SOS) if gradient else (SOS,):
        try:
            region = certified_region(model, attractor, params=params, method=method, compare=False)
            balls.append(certified_ball(region, norm))
        except (ValueError, CertificateFailed, Undecided) as error:
            failures.append(f"{method}: {error}")
    if not balls:
        return None, "no certified ball (" + "; ".join(failures) + ")"
    return max(balls, key=lambda ball: ball.radius), ""


@legacy_arguments(positional=("params",), renamed={"rays": "n"})
def minimal_critical_shock(
    model: Model | CompiledModel,
    attractor: FixedPoint | Sequence[float],
    *,
    params: Mapping[str, float] | None = None,
    norm: str = L2,
    target: FixedPoint | Sequence[float] | None = None,
    certify: bool = True,
    max_shock: float | None = None,
    n: int = 256,
    refinements: int = 12,
    seed: int = 0,
    settings: SolverSettings | None = None,
    progress: bool = True,
    **setting_overrides,
) -> CriticalShock:
    r"""Bracket the smallest perturbation of a stable fixed point that ends in another
    basin (or in `target`'s).

    The upper bound is the best perturbation found by simulation
    ([`basinlab.simulations.critical_shock_search`][]: random rays, bisection along
    each, then a local search over directions); it is a run that was integrated and
    left. The lower bound is the radius of the largest ball around the attractor
    proved to lie in a certified region of its basin
    ([`basinlab.proofs.certified_region`][] and [`basinlab.proofs.certified_ball`][]),
    the larger of a loss sublevel set's (gradient flows) and a Lyapunov sublevel
    set's: no perturbation smaller than it can leave. The true minimal critical shock lies
    between them; `gap` says how well it is known. The lower bound is the same with
    or without `target`, since it holds for every other basin.

    **Arguments:**

    - `model`: a flow or map, or a compiled one.
    - `attractor`: the stable fixed point.
    - `params`: parameter overrides (exact decimals for the certificate).
    - `norm`: `"l2"` or `"linf"`.
    - `target`: a stable fixed point whose basin the shock must reach.
    - `certify`: look for the certified lower bound (polynomial flows only).
    - `max_shock`, `n`, `refinements`, `seed`, `settings`, `progress`,
      `**setting_overrides`: for the search.

    **Returns:**

    A [`CriticalShock`][].

    **Raises:**

    - `ValueError`: as for the search: a point that is not a stable fixed point, an
      unknown norm, no ray that left within `max_shock`.
    - `RuntimeError`: the certified lower bound exceeds the simulated upper bound,
      which means that a certificate or a simulation is wrong.
    """
    check_norm(norm)
    compiled = as_compiled(model)
    search = critical_shock_search(
        compiled,
        attractor,
        params=params,
        norm=norm,
        target=target,
        max_shock=max_shock,
        n=n,
        refinements=refinements,
        seed=seed,
        settings=settings,
        progress=progress,
        **setting_overrides,
    )
    ball, reason = None, "not asked for (certify=False)"
    if certify:
        ball, reason = _lower_bound(compiled.model, search.attractor, params, norm)
    lower = float(ball.radius) if ball is not None else 0.0
    if lower > search.upper:
        raise RuntimeError(
            f"the certified radius {lower:.6g} exceeds a simulated shock of size "
            f"{search.upper:.6g} that left the basin: a certificate or the solver is wrong"
        )
    return CriticalShock(
        norm,
        search.attractor,
        lower,
        search.upper,
        search.shock,
        search.destination,
        ball,
        reason,
        search.evaluations,
    )
