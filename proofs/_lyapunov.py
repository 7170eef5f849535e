r"""A certified sublevel set of a quadratic Lyapunov function, by sum-of-squares.

Around a stable fixed point $x^*$ of a polynomial field $f$, with $z = x - x^*$, take
$V(z) = z^\top P z$ where $A^\top P + P A = -I$ for the Jacobian $A$ at $x^*$ (rounded
to a rational $P \succ 0$). The level $c$ is certified when

$$
-\dot V(z) - \lambda(z)\,\bigl(c - V(z)\bigr) - \epsilon\,|z|^2 = \sigma_0(z),
\qquad \lambda, \sigma_0 \text{ sums of squares},
$$

since then $\dot V \le -\epsilon |z|^2 < 0$ on $\{V \le c\} \setminus \{x^*\}$, so
$\{V < c\}$ is forward invariant and every trajectory in it converges to $x^*$
(the S-procedure; A. Papachristodoulou and S. Prajna, "On the construction of
Lyapunov functions using the sum of squares decomposition", IEEE CDC 2002). The
largest feasible $c$ is found by bisection over semidefinite programs solved by
Clarabel through cvxpy; the multipliers are then rounded to rationals and the identity
and the semidefiniteness are checked exactly ([`SumOfSquares.verify`][]).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from fractions import Fraction

import numpy as np
import scipy.linalg
import sympy as sp

from ..theory import Model, fixed_points
from ..theory._legacy_arguments import legacy_arguments
from ..theory._values import symbolic_values
from ._claim import CertificateFailed
from ._definiteness import rational_psd_failure
from ._sos import SumOfSquares, monomial_exponents, product_index, round_gram, to_fraction


@dataclasses.dataclass(frozen=True)
class LyapunovCertificate:
    r"""$\dot V < 0$ on $\{V \le c\} \setminus \{x^*\}$, with its exact witnesses.

    **Fields:**

    - `state`: the model's state symbols; `shift`: the symbols $z = x - x^*$.
    - `centre`: $x^*$, rational.
    - `gram`: $P$, rational and positive definite; $V = z^\top P z$.
    - `level`: the certified $c$, rational.
    - `solver_level`: the largest $c$ the semidefinite programs found feasible.
    - `epsilon`: the rational margin $\epsilon$.
    - `multiplier`, `slack`: $\lambda$ and $\sigma_0$ as rational sums of squares in $z$.
    - `decay`: $-\dot V$ as a polynomial in $z$.
    - `report`: what [`LyapunovCertificate.verify`][] established when the certificate
      was found; empty for one built by hand and not yet verified.
    """

    state: tuple[sp.Symbol, ...]
    shift: tuple[sp.Symbol, ...]
    centre: tuple[sp.Rational, ...]
    gram: sp.Matrix
    level: sp.Rational
    solver_level: float
    epsilon: sp.Rational
    multiplier: SumOfSquares
    slack: SumOfSquares
    decay: sp.Expr
    report: str = ""

    def __post_init__(self):
        assert len(self.state) == len(self.shift) == len(self.centre)
        assert self.gram.shape == (len(self.state),) * 2
        assert self.level > 0 and self.epsilon > 0

    def lyapunov(self) -> sp.Expr:
        """$V$ in the model's state variables."""
        z = sp.Matrix([x - c for x, c in zip(self.state, self.centre)])
        return sp.expand((z.T * self.gram * z)[0])

    def verify(self) -> str:
        """Redo every exact check from the stored rationals.

        **Raises:**

        - `CertificateFailed`: $P$ is not positive definite, or a multiplier is not an
          exact sum of squares of the claimed polynomial.
        """
        entries = [[Fraction(int(v.p), int(v.q)) for v in row] for row in self.gram.tolist()]
        failure = rational_psd_failure(entries)
        if failure is not None or self.gram.det() == 0:
            raise CertificateFailed(f"P is not positive definite ({failure or 'singular'})")
        z = sp.Matrix(self.shift)
        v = (z.T * self.gram * z)[0]
        self.multiplier.verify(self.multiplier.expression(), "lambda")
        target = self.decay - self.multiplier.expression() * (self.level - v)
        target -= self.epsilon * (z.T * z)[0]
        self.slack.verify(sp.expand(target), "-dV/dt - lambda (c - V) - eps |z|^2")
        return (
            f"V = z'Pz with rational P > 0; -dV/dt - lambda(c - V) - eps|z|^2 is SOS "
            f"({len(self.slack.basis)} monomials), lambda is SOS; c = {self.level}"
        )


def _rational_point(model: Model, point: Sequence[object]) -> tuple[sp.Rational, ...]:
    point = list(point)
    exact = symbolic_values(point, "coordinate")
    centre = tuple(sp.nsimplify(e) if isinstance(c, float) else e for c, e in zip(point, exact))
    if len(centre) != model.dim or not all(c.is_Rational for c in centre):
        raise ValueError(
            f"the SOS certificate needs a fixed point with {model.dim} rational coordinates, "
            f"got {tuple(point)}"
        )
    return centre


def _polynomial_field(model: Model, params: Mapping[str, float] | None) -> sp.Matrix:
    field = model.substituted(params, exact=True)
    for i, component in enumerate(field):
        if not component.is_polynomial(*model.state):
            raise ValueError(
                f"model {model.name!r} is not polynomial in its state (component {i} is "
                f"{sp.sstr(component)[:80]}); the SOS certificate needs a polynomial field"
            )
    return field


class _Program:
    """The semidefinite feasibility problem for one level $c$, in monomial coefficients."""

    def __init__(self, decay: sp.Poly, gram: np.ndarray, epsilon: float):
        n = len(decay.gens)
        half = max(1, -(-decay.total_degree() // 2))
        self.slack_basis = monomial_exponents(n, 1, half)
        self.multiplier_basis = monomial_exponents(n, 1, max(1, half - 1))
        self.slack_pairs = product_index(self.slack_basis)
        self.multiplier_pairs = product_index(self.multiplier_basis)
        self.decay = {m: float(c) for m, c in decay.terms()}
        self.gram = gram
        self.epsilon = epsilon

    def solve(self, level: float) -> tuple[float, np.ndarray, np.ndarray]:
        """The margin $t$ (feasible when $t > 0$) and the two Gram matrices."""
        import cvxpy as cp

        n = self.gram.shape[0]
        slack = cp.Variable((len(self.slack_basis),) * 2, symmetric=True)
        multiplier = cp.Variable((len(self.multiplier_basis),) * 2, symmetric=True)
        margin = cp.Variable()
        lam = {m: sum(multiplier[i, j] for i, j in e) for m, e in self.multiplier_pairs.items()}
        # (c - V) as coefficients: c on the constant, -P on the quadratics.
        gap = {(0,) * n: level}
        for i in range(n):
            for j in range(n):
                e = tuple((k == i) + (k == j) for k in range(n))
                gap[e] = gap.get(e, 0.0) - self.gram[i, j]
        right: dict[tuple[int, ...], object] = dict(self.decay)
        for i in range(n):
            e = tuple(2 * (k == i) for k in range(n))
            right[e] = right.get(e, 0.0) - self.epsilon
        for m, coefficient in lam.items():
            for g, value in gap.items():
                e = tuple(a + b for a, b in zip(m, g))
                right[e] = right.get(e, 0.0) - value * coefficient
        constraints = [
            slack - margin * np.eye(len(self.slack_basis)) >> 0,
            multiplier >> 0,
            margin <= 1,
        ]
        for e in set(right) | set(self.slack_pairs):
            produced = sum(slack[i, j] for i, j in self.slack_pairs.get(e, []))
            constraints.append(produced == right.get(e, 0.0))
        problem = cp.Problem(cp.Maximize(margin), constraints)
        try:
            problem.solve(solver=cp.CLARABEL)
        except cp.SolverError:
            return -np.inf, np.zeros(0), np.zeros(0)
        if problem.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE) or margin.value is None:
            return -np.inf, np.zeros(0), np.zeros(0)
        return float(margin.value), slack.value, multiplier.value


def _rational_psd(
    numeric: np.ndarray, basis: Sequence[tuple[int, ...]], shift: tuple[sp.Symbol, ...]
) -> SumOfSquares:
    """A rational Gram matrix near `numeric`, shifted by a multiple of the identity that
    covers its most negative eigenvalue, so that rounding keeps it semidefinite."""
    symmetric = (numeric + numeric.T) / 2
    shift_by = max(0.0, -float(np.linalg.eigvalsh(symmetric).min())) + 1e-9
    rows = tuple(
        tuple(to_fraction(v + shift_by * (i == j)) for j, v in enumerate(row))
        for i, row in enumerate(symmetric)
    )
    return SumOfSquares(shift, tuple(basis), rows)


@legacy_arguments(positional=("params",), renamed={"point": "attractor"})
def lyapunov_certificate(
    model: Model,
    attractor: Sequence[object],
    *,
    params: Mapping[str, float] | None = None,
    epsilon: float = 1e-3,
    bisections: int = 30,
) -> LyapunovCertificate:
    """Certify the largest sublevel set of a quadratic Lyapunov function that SOS finds.

    **Arguments:**

    - `model`: a model with a polynomial vector field.
    - `attractor`: a stable fixed point with rational coordinates.
    - `params`: parameter overrides (taken as exact decimals).
    - `epsilon`: the decay margin $\\epsilon$.
    - `bisections`: bisection steps on the level $c$.

    **Returns:**

    A [`LyapunovCertificate`][] whose exact checks have passed, with their `report`.

    **Raises:**

    - `ValueError`: the field is not polynomial, `attractor` is not a rational fixed point,
      or it is not linearly stable.
    - `CertificateFailed`: no level could be certified exactly.
    """
    field = _polynomial_field(model, params)
    centre = _rational_point(model, attractor)
    at_centre = dict(zip(model.state, centre))
    if any(sp.simplify(component.subs(at_centre)) != 0 for component in field):
        raise ValueError(f"{centre} is not a fixed point of {model.name!r}")
    jac = np.array(field.jacobian(model.state).subs(at_centre).evalf(), dtype=float)
    if not np.all(np.linalg.eigvals(jac).real < 0):
        raise ValueError(f"{centre} is not a linearly stable fixed point of {model.name!r}")
    n = model.dim
    lyap = scipy.linalg.solve_continuous_lyapunov(jac.T, -np.eye(n))
    gram = sp.Matrix(n, n, lambda i, j: sp.Rational(to_fraction((lyap[i, j] + lyap[j, i]) / 2)))
    shift = tuple(sp.Symbol(f"z_{i + 1}", real=True) for i in range(n))
    z = sp.Matrix(shift)
    moved = field.subs(
        {x: c + zi for x, c, zi in zip(model.state, centre, shift)}, simultaneous=True
    )
    decay = sp.expand(-2 * (z.T * gram * moved)[0])
    program = _Program(sp.Poly(decay, *shift), np.array(gram, dtype=float), epsilon)

    def v_at(x) -> float:
        d = np.asarray(x, dtype=float) - np.array(centre, dtype=float)
        return float(d @ np.array(gram, dtype=float) @ d)

    others = [
        v_at(p.numeric)
        for p in fixed_points(model, params=params)
        if p.numeric != tuple(float(c) for c in centre)
    ]
    low, high = 0.0, min(others) if others else 1e3
    for _ in range(bisections):
        middle = (low + high) / 2
        if program.solve(middle)[0] > 1e-8:
            low = middle
        else:
            high = middle
    if low == 0.0:
        raise CertificateFailed(f"no sublevel set of V around {centre} is SOS-feasible")
    eps = sp.Rational(to_fraction(epsilon, 10**6))
    level = low * (1 - 1e-3)
    for _ in range(8):
        c = sp.Rational(to_fraction(level, 10**6))
        _, slack_numeric, multiplier_numeric = program.solve(float(c))
        if slack_numeric.size:
            multiplier = _rational_psd(multiplier_numeric, program.multiplier_basis, shift)
            target = decay - multiplier.expression() * (c - (z.T * gram * z)[0])
            target = sp.expand(target - eps * (z.T * z)[0])
            try:
                slack = round_gram(
                    slack_numeric, program.slack_basis, sp.Poly(target, *shift), shift, "sigma_0"
                )
                certificate = LyapunovCertificate(
                    tuple(model.state),
                    shift,
                    centre,
                    gram,
                    c,
                    low,
                    eps,
                    multiplier,
                    slack,
                    decay,
                )
                return dataclasses.replace(certificate, report=certificate.verify())
            except CertificateFailed:
                pass
        level *= 0.9
    raise CertificateFailed(
        f"the SOS solution near c = {low:.6g} did not survive exact rational verification"
    )
