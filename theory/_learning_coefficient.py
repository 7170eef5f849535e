r"""Exact learning coefficients (real log canonical thresholds) at a minimum of a loss."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import mpmath
import sympy as sp

from ._exact_point import exact_point
from ._fixed_points import fixed_point_continua
from ._model import Model

REGULAR = "regular"
MORSE_BOTT = "Morse-Bott"
DEEP_LINEAR = "deep linear (Aoyagi)"
REDUCED_RANK = "reduced-rank regression (Aoyagi & Watanabe)"


@dataclasses.dataclass(frozen=True)
class LearningCoefficient:
    r"""The learning coefficient $\lambda$ of a minimum and its multiplicity $m$.

    Near the minimum $w^*$ the Bayesian free energy at $n$ samples grows as
    $n L_n(w^*) + \lambda \log n - (m - 1)\log\log n$ (S. Watanabe, *Algebraic
    Geometry and Statistical Learning Theory*, 2009, Thm 6.7); $\lambda$ is the real
    log canonical threshold of $K(w) = L(w) - L(w^*)$ there.

    **Fields:**

    - `value`: $\lambda$, exact (a SymPy `Rational`).
    - `multiplicity`: $m \ge 1$.
    - `method`: how it was derived: `"regular"`, `"Morse-Bott"`,
      `"deep linear (Aoyagi)"` or `"reduced-rank regression (Aoyagi & Watanabe)"`.
    - `dim`: the number of parameters $d$; $\lambda \le d/2$.
    """

    value: sp.Rational
    multiplicity: int
    method: str
    dim: int

    def __post_init__(self):
        assert self.multiplicity >= 1 and self.dim >= 1
        assert 0 <= self.value <= sp.Rational(self.dim, 2), (self.value, self.dim)
        assert self.method in (REGULAR, MORSE_BOTT, DEEP_LINEAR, REDUCED_RANK)

    @property
    def numeric(self) -> float:
        """$\\lambda$ as a float."""
        return float(self.value)


# Digits for deciding signs and ranks of algebraic numbers too long for simplify.
_DIGITS = 50
_ZERO = sp.Float(10) ** (-30)


def _numeric(expression: sp.Expr) -> sp.Expr:
    return sp.N(expression, _DIGITS)


def _continuum_dimension(
    model: Model, point: Mapping[sp.Symbol, sp.Expr], params: Mapping[str, float] | None
) -> int | None:
    """The dimension of a smooth continuum of rest points through `point`, or `None`
    when SymPy finds none that passes through it."""
    for continuum in fixed_point_continua(model, params=params):
        free = [s for s in model.state if continuum[s] == s]
        fixed = {s: point[s] for s in free}
        try:
            through = all(
                sp.simplify(continuum[s].subs(fixed) - point[s]) == 0 for s in model.state
            )
        except (ZeroDivisionError, TypeError):
            through = False
        if not through:
            continue
        parametrisation = sp.Matrix([continuum[s] for s in model.state]).jacobian(free)
        if parametrisation.subs(fixed).rank() == len(free):
            return len(free)
    return None


def learning_coefficient(
    model: Model,
    attractor: Sequence[object],
    *,
    params: Mapping[str, float] | None = None,
) -> LearningCoefficient:
    r"""The exact learning coefficient of a gradient-flow model's loss at a minimum.

    - **Regular minimum**, Hessian $H$ positive definite: $\lambda = d/2$, $m = 1$.
    - **Morse–Bott minimum**: the minima near $w^*$ form a smooth manifold of
      dimension $d - \rho$, where $\rho = \operatorname{rank} H$. In coordinates
      along and across it $K = \tfrac12\sum_{i \le \rho} h_i y_i^2$, so
      $\lambda = \rho/2$, $m = 1$. The manifold is certified by a continuum of rest
      points from [`basinlab.fixed_point_continua`][] that passes through $w^*$ with a
      parametrisation of full rank there. The deep-linear hyperbola $ab = s \ne 0$
      ($\lambda = 1/2$ in two parameters) is of this kind.

    Other degenerate minima (a crossing of minimum sets, such as $ab = 0$) are
    refused; for deep linear networks use
    [`basinlab.models.deep_linear_learning_coefficient`][].

    **Arguments:**

    - `model`: a gradient flow ([`basinlab.Model.gradient_flow`][]).
    - `attractor`: $w^*$, its exact coordinates (or a `FixedPoint`).
    - `params`: parameter values (exact numbers are kept exact).

    **Returns:**

    A [`LearningCoefficient`][].

    **Raises:**

    - `ValueError`: the model has no loss, the point is not a rest point, the Hessian
      has a negative eigenvalue (not a minimum), or the minimum is degenerate and not
      Morse–Bott.
    """
    if model.loss is None:
        raise ValueError(f"model {model.name!r} has no loss; it is not a gradient flow")
    point = exact_point(model, attractor)
    substitution = model.param_substitution(params, exact=True)
    loss = model.loss.xreplace(substitution)
    gradient = sp.Matrix([sp.diff(loss, s) for s in model.state]).xreplace(point)
    where = [f"{float(_numeric(v)):.6g}" for v in point.values()]
    if any(abs(_numeric(g)) > _ZERO for g in gradient):
        raise ValueError(
            f"({', '.join(where)}) is not a rest point of {model.name!r}: the gradient "
            f"there is {[f'{float(_numeric(g)):.3g}' for g in gradient]}"
        )
    hessian = sp.hessian(loss, model.state).xreplace(point)
    with mpmath.workdps(_DIGITS):
        values, _ = mpmath.eigsy(mpmath.matrix(_numeric(hessian).tolist()))
        eigenvalues = [sp.Float(values[i], _DIGITS) for i in range(model.dim)]
    if any(e < -_ZERO for e in eigenvalues):
        raise ValueError(
            f"({', '.join(where)}) is not a minimum of the loss of {model.name!r}: its "
            f"Hessian has the eigenvalues {[f'{float(e):.4g}' for e in eigenvalues]}"
        )
    rank = sum(1 for e in eigenvalues if abs(e) > _ZERO)
    if rank == model.dim:
        return LearningCoefficient(sp.Rational(model.dim, 2), 1, REGULAR, model.dim)
    dimension = _continuum_dimension(model, point, params)
    if dimension is None or dimension != model.dim - rank:
        raise ValueError(
            f"the minimum ({', '.join(where)}) of {model.name!r} is degenerate "
            f"(Hessian rank {rank} of {model.dim}) and not Morse-Bott: no smooth manifold of "
            f"minima of dimension {model.dim - rank} passes through it, so lambda is not "
            "rank/2; for deep linear networks use models.deep_linear_learning_coefficient"
        )
    return LearningCoefficient(sp.Rational(rank, 2), 1, MORSE_BOTT, model.dim)
