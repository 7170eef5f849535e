r"""The largest ball around an attractor that lies in its certified region, certified."""

from __future__ import annotations

import dataclasses
import math
from fractions import Fraction

import numpy as np
import scipy.optimize
import sympy as sp

from ..simulations._basin._shock import L2, NORMS, check_norm, vector_norms
from ..theory._legacy_arguments import legacy_arguments
from ._claim import CertificateFailed
from ._definiteness import exact_sign
from ._intervals import BoxesExhausted, prove_positive
from ._region import CertifiedRegion
from ._sublevel import SublevelCertificate

# A centre coordinate that is not rational is replaced by a rational this close.
_CENTRE_ERROR = sp.Rational(1, 10**20)


@dataclasses.dataclass(frozen=True)
class CertifiedBall:
    r"""A closed ball $\{x : \|x - x^*\| \le r\}$ proved to lie in a certified region,
    hence in the basin of $x^*$.

    **Fields:**

    - `norm`: `"l2"` (a Euclidean ball) or `"linf"` (a cube).
    - `centre`: $x^*$, exact.
    - `radius`: $r$, rational.
    - `region`: the [`basinlab.proofs.CertifiedRegion`][] it lies in.
    - `report`: what the exact check established.
    """

    norm: str
    centre: tuple[sp.Expr, ...]
    radius: sp.Rational
    region: CertifiedRegion
    report: str

    def __post_init__(self):
        assert self.norm in NORMS
        assert self.radius > 0
        assert len(self.centre) == len(self.region.state)


def _slack(region: CertifiedRegion) -> tuple[sp.Expr, tuple[sp.Symbol, ...]]:
    r"""A polynomial that is positive exactly where the region's defining inequality holds.

    A sublevel region is also cut by its box, but a ball around the minimum on which
    $L < c$ cannot reach the box: $L \ge c$ on every face.
    """
    certificate = region.certificate
    if isinstance(certificate, SublevelCertificate):
        return sp.expand(certificate.level - certificate.loss), certificate.state
    return sp.expand(certificate.level - certificate.lyapunov()), certificate.state


def _radius_estimate(slack, state, centre: np.ndarray, norm: str, rays: int) -> float:
    """The distance from `centre` to the nearest point where the slack is not positive,
    from the first crossing along many rays (polished by SLSQP for the 2-norm)."""
    value = sp.lambdify([state], slack, "numpy")
    rng = np.random.default_rng(0)
    directions = rng.standard_normal((rays, len(centre)))
    directions /= vector_norms(directions, norm)[:, None]

    def crossed(t: np.ndarray) -> np.ndarray:
        points = centre + t[:, None] * directions
        return np.broadcast_to(value(points.T) <= 0, t.shape)

    high = np.ones(rays)
    for _ in range(64):
        if crossed(high).all():
            break
        high = np.where(crossed(high), high, 2 * high)
    else:
        raise CertificateFailed("the certified region is not bounded along some ray")
    # The first crossing, not any crossing: scan before bisecting.
    steps = np.linspace(0, 1, 257)[1:]
    scanned = np.stack([crossed(s * high) for s in steps], axis=1)
    first = np.argmax(scanned, axis=1)
    low = np.where(first > 0, steps[np.maximum(first - 1, 0)], 0.0) * high
    high = steps[first] * high
    for _ in range(50):
        middle = (low + high) / 2
        hit = crossed(middle)
        high, low = np.where(hit, middle, high), np.where(hit, low, middle)
    best = int(np.argmin(high))
    radius = float(high[best])
    if norm == L2:
        result = scipy.optimize.minimize(
            lambda d: d @ d,
            radius * directions[best],
            jac=lambda d: 2 * d,
            constraints=[{"type": "eq", "fun": lambda d: value(centre + d)}],
            method="SLSQP",
        )
        if result.success:
            radius = min(radius, float(np.linalg.norm(result.x)))
    return radius


def _rational_centre(centre: tuple[sp.Expr, ...]) -> tuple[list[sp.Rational], sp.Rational]:
    """Rational coordinates within a proved distance of the exact centre, per coordinate."""
    rational, error = [], sp.Integer(0)
    for coordinate in centre:
        coordinate = sp.nsimplify(coordinate) if isinstance(coordinate, sp.Float) else coordinate
        if coordinate.is_Rational:
            rational.append(sp.Rational(coordinate))
            continue
        fraction = Fraction(str(sp.N(coordinate, 40))).limit_denominator(10**30)
        close = sp.Rational(fraction.numerator, fraction.denominator)
        if exact_sign(_CENTRE_ERROR - sp.Abs(coordinate - close), "centre rounding") <= 0:
            raise CertificateFailed(f"cannot round the centre coordinate {coordinate}")
        rational.append(close)
        error = _CENTRE_ERROR
    return rational, error


@legacy_arguments(renamed={"rays": "n"})
def certified_ball(
    region: CertifiedRegion,
    norm: str = L2,
    *,
    margin: float = 1e-3,
    attempts: int = 6,
    n: int = 4096,
    max_boxes: int = 200_000,
) -> CertifiedBall:
    r"""The largest ball around a certified region's attractor that stays inside the
    region, with a radius proved exactly.

    The radius is first estimated in floating point, as the distance to the nearest
    point where the region's inequality ($L < c$ or $V < c$) fails, then lowered by
    the relative `margin` and rounded down to a rational $r$. The claim
    $c - L(x) > 0$ (or $c - V(x) > 0$) on the closed ball is then proved by rational
    interval arithmetic ([`basinlab.proofs.prove_positive`][] on the enclosing cube,
    leaving out the sub-boxes that lie outside a Euclidean ball). A coordinate of the
    attractor that is not rational is replaced by a rational within $10^{-20}$, and
    the ball proved is widened by that much so that it still contains the ball
    around the exact attractor. If the proof fails, the margin is quadrupled and it
    is tried again, `attempts` times in all.

    **Arguments:**

    - `region`: a [`basinlab.proofs.CertifiedRegion`][].
    - `norm`: `"l2"` for a Euclidean ball, `"linf"` for a cube.
    - `margin`: how far below the estimate the first radius tried lies, relatively.
    - `attempts`: how many radii are tried.
    - `n`: directions used for the estimate.
    - `max_boxes`: the interval boxes each proof may examine.

    **Returns:**

    A [`CertifiedBall`][].

    **Raises:**

    - `ValueError`: `norm` is unknown, or `margin` is not in $(0, 1)$.
    - `basinlab.proofs.CertificateFailed`: no radius could be proved.
    """
    check_norm(norm)
    if not 0 < margin < 1:
        raise ValueError(f"margin must lie in (0, 1), got {margin}")
    slack, state = _slack(region)
    centre = np.array([float(sp.re(sp.N(c, 30))) for c in region.attractor])
    estimate = _radius_estimate(slack, state, centre, norm, n)
    rational_centre, error = _rational_centre(region.attractor)
    # A Euclidean ball of radius r around x* lies in one of radius r + error*sqrt(n)
    # around the rational centre; n bounds sqrt(n) and keeps the widening rational.
    widening = error * (len(state) if norm == L2 else 1)
    failure = None
    for attempt in range(attempts):
        shrunk = estimate * (1 - min(margin * 4**attempt, 0.5))
        radius = sp.Rational(math.floor(shrunk * 10**6), 10**6)
        if radius <= 0:
            break
        outer = radius + widening
        box = [(q - outer, q + outer) for q in rational_centre]
        excluding = None
        if norm == L2:
            excluding = sum((s - q) ** 2 for s, q in zip(state, rational_centre)) - outer**2
        what = f"the region's inequality on the {norm} ball of radius {outer}"
        try:
            boxes = prove_positive(slack, state, box, what, max_boxes, excluding=excluding)
        except (CertificateFailed, BoxesExhausted) as error_:
            failure = error_
            continue
        report = (
            f"{slack} > 0 on the closed {norm} ball of radius {outer} around "
            f"{tuple(rational_centre)} ({boxes} interval boxes); radius estimate {estimate:.6g}"
        )
        return CertifiedBall(norm, tuple(region.attractor), radius, region, report)
    raise CertificateFailed(f"no ball could be certified in the region: {failure}")
