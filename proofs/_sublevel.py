r"""A certified part of a minimum's basin under gradient flow: a sublevel set in a box.

For $\dot x = -\nabla L$ take a box $B \ni x^*$ and a level $c > L(x^*)$ with

1. $L \ge c$ on the boundary of $B$, and
2. $L \ge c$ at every critical point in $B$ other than the minimum $x^*$.

Then $R = \{x \in B : L(x) < c\}$ lies in the basin of $x^*$. Since $\dot L =
-|\nabla L|^2 \le 0$, a trajectory from $R$ keeps $L < c$ and cannot cross
$\partial B$, so it stays in the compact set $\bar R$; its limit set consists of
critical points with $L < c$ in $B$ (LaSalle's invariance principle), and only $x^*$
is one. The same argument shows that $R$ is connected: each component of $R$
contains a minimiser of $L$ over its closure, a critical point below $c$.

The critical points come exactly from a Gröbner-basis solve of $\nabla L = 0$, which
must have finitely many solutions; condition 1 is proved by exact rational interval
arithmetic on each face; condition 2 by exact comparison. The box and the level are
chosen numerically to make $c$ as large as it can be, and then certified.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from fractions import Fraction

import numpy as np
import scipy.optimize
import sympy as sp

from ..theory import Model
from ..theory._legacy_arguments import legacy_arguments
from ..theory._values import symbolic_value, symbolic_values
from ._claim import CertificateFailed
from ._definiteness import exact_sign, inertia
from ._intervals import prove_positive

# Faces are rounded to rationals with denominators up to this, and levels below it.
_DENOMINATOR = 10**4


def _loss(model: Model, params: Mapping[str, float] | None) -> sp.Expr:
    if model.loss is None:
        raise ValueError(f"model {model.name!r} is not a gradient flow: it has no loss")
    loss = sp.expand(model.loss.subs(model.param_substitution(params, exact=True)))
    if not loss.is_polynomial(*model.state):
        raise ValueError(
            f"the loss of {model.name!r} is not polynomial in its state; the sublevel "
            "certificate needs exact critical points"
        )
    return loss


def critical_points(loss: sp.Expr, state: Sequence[sp.Symbol]) -> list[tuple[sp.Expr, ...]]:
    """Every real critical point of a polynomial loss, exactly (a Gröbner-basis solve).

    Solutions whose coordinates are not provably non-real are kept, so that nothing
    real is left out.

    **Raises:**

    - `ValueError`: the critical points are not isolated (a curve or surface of them).
    """
    loss = symbolic_value(loss, "the loss")
    gradient = [sp.diff(loss, s) for s in state]
    try:
        solutions = sp.solve_poly_system(gradient, *state)
    except (NotImplementedError, sp.PolynomialError) as error:
        raise ValueError(f"the critical points are not isolated or not solvable: {error}") from None
    if solutions is None:
        raise ValueError("the critical points are not isolated or not solvable")
    real = []
    for solution in solutions:
        if any(c.is_real is False for c in solution):
            continue
        if any(c.is_real is None and abs(complex(c.evalf(60)).imag) > 1e-40 for c in solution):
            continue
        real.append(tuple(sp.re(c) if c.is_real is None else c for c in solution))
    return real


@dataclasses.dataclass(frozen=True)
class SublevelCertificate:
    r"""$\{x \in B : L(x) < c\}$ lies in the basin of the minimum $x^*$.

    **Fields:**

    - `state`: the state symbols.
    - `loss`: $L$ with the parameter values substituted exactly.
    - `minimum`: $x^*$, exact.
    - `box`: $B$, a rational `(low, high)` per state.
    - `level`: $c$, rational.
    - `report`: what [`SublevelCertificate.verify`][] established when the certificate
      was found; empty for one built by hand and not yet verified.
    """

    state: tuple[sp.Symbol, ...]
    loss: sp.Expr
    minimum: tuple[sp.Expr, ...]
    box: tuple[tuple[sp.Rational, sp.Rational], ...]
    level: sp.Rational
    report: str = ""

    def __post_init__(self):
        assert len(self.state) == len(self.minimum) == len(self.box)
        assert all(lo < hi for lo, hi in self.box)

    def verify(self, max_boxes: int = 200_000) -> str:
        """Redo every exact check: the critical points, the minimum, the faces.

        **Raises:**

        - `CertificateFailed`: a condition fails; the message names it.
        """
        at_minimum = dict(zip(self.state, self.minimum))
        if not all(lo < x < hi for x, (lo, hi) in zip(self.minimum, self.box)):
            raise CertificateFailed(f"the minimum {self.minimum} is not inside the box")
        if exact_sign(self.level - self.loss.subs(at_minimum), "c - L(x*)") <= 0:
            raise CertificateFailed("the level is not above the loss at the minimum")
        hessian = sp.hessian(self.loss, self.state).subs(at_minimum)
        positive, _zero, _ = inertia(hessian)
        if positive != len(self.state):
            raise CertificateFailed(f"{self.minimum} is not a strict minimum (Hessian inertia)")
        points = critical_points(self.loss, self.state)
        is_minimum = [all(sp.simplify(a - b) == 0 for a, b in zip(p, self.minimum)) for p in points]
        if not any(is_minimum):
            raise CertificateFailed(f"{self.minimum} is not a critical point")
        others = 0
        for point in (p for p, same in zip(points, is_minimum) if not same):
            outside = any(
                exact_sign(x - lo, "a coordinate") < 0 or exact_sign(hi - x, "a coordinate") < 0
                for x, (lo, hi) in zip(point, self.box)
            )
            if outside:
                continue
            others += 1
            value = self.loss.subs(dict(zip(self.state, point)))
            if exact_sign(value - self.level, f"L{point} - c") < 0:
                raise CertificateFailed(f"the critical point {point} in the box has L < c")
        boxes = 0
        for k, symbol in enumerate(self.state):
            rest = [s for i, s in enumerate(self.state) if i != k]
            rest_box = [b for i, b in enumerate(self.box) if i != k]
            for side, value in (("low", self.box[k][0]), ("high", self.box[k][1])):
                on_face = sp.expand(self.loss.subs(symbol, value) - self.level)
                what = f"L - c > 0 on the {side} face {symbol} = {value}"
                if rest:
                    boxes += prove_positive(on_face, rest, rest_box, what, max_boxes)
                elif not on_face > 0:
                    raise CertificateFailed(f"{what} fails")
        return (
            f"{len(points)} real critical points (Groebner), {others} others in the box "
            f"all with L >= c; L - c > 0 on all faces ({boxes} interval boxes); c = {self.level}"
        )


def _rational_below(value: float) -> sp.Rational:
    fraction = Fraction(value).limit_denominator(_DENOMINATOR**2)
    if fraction > value:
        fraction -= Fraction(1, _DENOMINATOR**2)
    return sp.Rational(fraction.numerator, fraction.denominator)


def _face_minimum(loss_numeric, gradient_numeric, box: np.ndarray, k: int, value: float) -> float:
    """The minimum of L on one face, from a sample grid polished by L-BFGS-B."""
    n = box.shape[0]
    free = [i for i in range(n) if i != k]
    if not free:
        return float(loss_numeric(np.array([value])))
    per_axis = max(3, round(20_000 ** (1 / len(free))))
    axes = [np.linspace(box[i, 0], box[i, 1], per_axis) for i in free]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, len(free))
    points = np.empty((grid.shape[0], n))
    points[:, free], points[:, k] = grid, value
    values = loss_numeric(points.T)
    best = float(np.min(values))
    for start in points[np.argsort(values)[:3]]:

        def face(y, start=start):
            x = start.copy()
            x[free] = y
            return loss_numeric(x), np.asarray(gradient_numeric(x), dtype=float)[free]

        result = scipy.optimize.minimize(
            face, start[free], jac=True, method="L-BFGS-B", bounds=box[free]
        )
        best = min(best, float(result.fun))
    return best


@legacy_arguments(positional=("params",), renamed={"point": "attractor"})
def sublevel_certificate(
    model: Model,
    attractor: Sequence[object],
    *,
    params: Mapping[str, float] | None = None,
    margin: float = 1e-3,
    max_boxes: int = 200_000,
) -> SublevelCertificate:
    r"""Find and certify the largest box-bounded sublevel set around a minimum.

    **Arguments:**

    - `model`: a gradient flow with a polynomial loss and isolated critical points.
    - `attractor`: the minimum (floats or exact numbers); matched to an exact critical
      point.
    - `params`: parameter overrides (taken as exact decimals).
    - `margin`: the certified level is $c - \text{margin}\,(c - L(x^*))$ below the best
      numerical level $c$, so that the strict inequalities have room.
    - `max_boxes`: interval boxes allowed per face.

    **Returns:**

    A [`SublevelCertificate`][] whose exact checks have passed, with their `report`.

    **Raises:**

    - `ValueError`: the model is not a polynomial gradient flow, its critical points
      are not isolated, or `attractor` is not a strict local minimum.
    - `CertificateFailed`: the exact checks failed.
    """
    loss = _loss(model, params)
    state = tuple(model.state)
    points = critical_points(loss, state)
    numeric = np.array([[float(sp.re(c.evalf(30))) for c in p] for p in points])
    target = np.asarray([float(c) for c in symbolic_values(attractor, "coordinate")], dtype=float)
    if target.shape != (model.dim,):
        raise ValueError(f"the minimum needs {model.dim} coordinates, got {tuple(attractor)}")
    distance = np.max(np.abs(numeric - target), axis=1) if len(points) else np.array([np.inf])
    if not distance.min() <= 1e-6 * (1 + np.max(np.abs(target))):
        raise ValueError(
            f"{tuple(attractor)} is not a critical point of the loss of {model.name!r}"
        )
    index = int(np.argmin(distance))
    minimum = points[index]
    positive, _, _ = inertia(sp.hessian(loss, state).subs(dict(zip(state, minimum))))
    if positive != model.dim:
        raise ValueError(f"{tuple(attractor)} is not a strict local minimum of the loss")
    centre = numeric[index]
    others = np.delete(numeric, index, axis=0)
    loss_numeric = sp.lambdify([state], loss, "numpy")
    gradient_numeric = sp.lambdify([state], [sp.diff(loss, s) for s in state], "numpy")
    other_values = np.array([float(loss_numeric(p)) for p in others])
    base = float(loss_numeric(centre))

    def rational_box(widths: np.ndarray) -> np.ndarray:
        raw = np.stack([centre - np.exp(widths[0::2]), centre + np.exp(widths[1::2])], axis=1)
        return np.vectorize(lambda v: float(Fraction(v).limit_denominator(_DENOMINATOR)))(raw)

    def level(widths: np.ndarray) -> float:
        box = rational_box(widths)
        inside = np.all((others >= box[:, 0]) & (others <= box[:, 1]), axis=1)
        values = [other_values[inside].min()] if inside.any() else []
        for k in range(model.dim):
            for value in box[k]:
                values.append(_face_minimum(loss_numeric, gradient_numeric, box, k, value))
        return min(values)

    spacing = np.max(np.abs(others - centre), axis=1).min() if len(others) else 1.0
    start = np.full(2 * model.dim, np.log(spacing / 2))
    result = scipy.optimize.minimize(
        lambda w: -level(w), start, method="Nelder-Mead", options={"xatol": 1e-3, "fatol": 1e-9}
    )
    best = -float(result.fun)
    if not best > base:
        raise CertificateFailed(f"no box around {tuple(attractor)} has L above L(x*) on its faces")
    box = tuple(
        (
            sp.Rational(Fraction(lo).limit_denominator(_DENOMINATOR)),
            sp.Rational(Fraction(hi).limit_denominator(_DENOMINATOR)),
        )
        for lo, hi in rational_box(result.x)
    )
    certificate = SublevelCertificate(
        state, loss, minimum, box, _rational_below(best - margin * (best - base))
    )
    return dataclasses.replace(certificate, report=certificate.verify(max_boxes))
