r"""The stationary covariance and autocorrelation of small noise about a stable point."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import mpmath
import sympy as sp

from ._exact_point import exact_point
from ._fixed_points import jacobian
from ._model import MAP, Model

# Digits for the stability check and the matrix exponential.
_DIGITS = 30


def _linearisation(
    model: Model, attractor: Sequence[object], params: Mapping[str, float] | None
) -> tuple[sp.Matrix, sp.Matrix, list[str]]:
    """The exact Jacobian $J$ and noise covariance $D = gg^\\top$ at the attractor."""
    if model.kind == MAP:
        raise ValueError(f"model {model.name!r} is a map; stationary noise is for SDEs")
    if model.noise is None:
        raise ValueError(
            f"model {model.name!r} has no noise: give it one with model.with_noise(...)"
        )
    point = exact_point(model, attractor)
    where = [f"{float(sp.N(v)):.6g}" for v in point.values()]
    substitution = model.param_substitution(params, exact=True)
    field = model.vector_field.xreplace(substitution).xreplace(point)
    if any(abs(sp.N(f, _DIGITS)) > sp.Float(10) ** (-20) for f in field):
        raise ValueError(f"({', '.join(where)}) is not a rest point of {model.name!r}")
    jac = jacobian(model).xreplace(substitution).xreplace(point)
    noise = model.noise
    if noise.diffusion is not None:
        g = noise.diffusion.xreplace(substitution).xreplace(point)
        diffusion = g * g.T
    else:
        diffusion = noise.covariance.xreplace(substitution).xreplace(point)
    with mpmath.workdps(_DIGITS):
        eigenvalues = mpmath.eig(mpmath.matrix(sp.N(jac, _DIGITS).tolist()))[0]
        if max(mpmath.re(e) for e in eigenvalues) >= 0:
            raise ValueError(
                f"({', '.join(where)}) is not a stable point of {model.name!r} (Jacobian "
                f"eigenvalues {[complex(e) for e in eigenvalues]}): noise about it has no "
                "stationary law"
            )
    return jac, diffusion, where


def _lyapunov_solution(jac: sp.Matrix, diffusion: sp.Matrix) -> sp.Matrix:
    r"""$\Sigma$ with $J\Sigma + \Sigma J^\top + D = 0$: exact for rational $J$, $D$."""
    n = jac.shape[0]
    # vec(J S + S J^T) = (I (x) J + J (x) I) vec(S), for the row-major vec.
    operator = sp.kronecker_product(jac, sp.eye(n)) + sp.kronecker_product(sp.eye(n), jac)
    right = -sp.Matrix(n * n, 1, list(diffusion))
    if all(entry.is_Rational for entry in [*jac, *diffusion]):
        return sp.Matrix(n, n, list(operator.LUsolve(right)))
    # Algebraic points (roots of cubics, say) make the exact solve blow up; 30 digits.
    with mpmath.workdps(_DIGITS):
        solved = mpmath.lu_solve(
            mpmath.matrix(sp.N(operator, _DIGITS).tolist()),
            mpmath.matrix(sp.N(right, _DIGITS).tolist()),
        )
        values = [sp.Float(solved[k], _DIGITS) for k in range(n * n)]
    return sp.Matrix(n, n, values)


def stationary_covariance(
    model: Model, attractor: Sequence[object], *, params: Mapping[str, float] | None = None
) -> sp.Matrix:
    r"""The stationary covariance of small noise about a stable point, exactly.

    Linearised about the attractor $x^*$, $dx = f\,dt + g\,dW$ is the
    Ornstein–Uhlenbeck process $d\xi = J\xi\,dt + g(x^*)\,dW$, whose stationary
    covariance $\Sigma$ solves the Lyapunov equation

    $$
    J\Sigma + \Sigma J^\top + D = 0, \qquad D = g g^\top
    $$

    (C. W. Gardiner, *Stochastic Methods*, §4.5.6). In one dimension
    $\Sigma = D / (2|J|)$: as a parameter approaches a fold or transcritical point,
    $J \to 0$ and the variance grows as $1/|J|$, the early-warning signal of critical
    slowing down (M. Scheffer et al., "Early-warning signals for critical
    transitions", *Nature* 461, 2009). It is exact for the linearisation and the
    leading order in the noise for the model. The linear system
    $(J \otimes I + I \otimes J)\,\mathrm{vec}\,\Sigma = -\mathrm{vec}\,D$ is
    solved exactly in SymPy when $J$ and $D$ are rational there, and to 30 digits
    otherwise (at a root of a cubic, say).

    **Arguments:**

    - `model`: a flow with noise ([`basinlab.Model.with_noise`][]).
    - `attractor`: the stable point, exact coordinates or a `FixedPoint`.
    - `params`: parameter values (kept exact).

    **Returns:**

    $\Sigma$, a symmetric SymPy `Matrix` (rational entries, or 30-digit floats).

    **Raises:**

    - `ValueError`: a map or a model without noise, a point of the wrong length, not
      a rest point, or not stable (no stationary law).
    """
    return _lyapunov_solution(*_linearisation(model, attractor, params)[:2])


def stationary_autocorrelation(
    model: Model,
    attractor: Sequence[object],
    lag: float,
    *,
    params: Mapping[str, float] | None = None,
) -> list[float]:
    r"""The lag-$\tau$ autocorrelation of each state in the stationary law about a
    stable point: $\rho_i(\tau) = (e^{J\tau}\Sigma)_{ii} / \Sigma_{ii}$, with
    $\Sigma$ from [`stationary_covariance`][] (the covariance of
    $\xi(t + \tau)$ with $\xi(t)$ is $e^{J\tau}\Sigma$). In one dimension
    $\rho(\tau) = e^{J\tau} \to 1$ as $J \to 0$. Evaluated to 30 digits.

    **Arguments:**

    - `model`, `attractor`, `params`: as for [`stationary_covariance`][].
    - `lag`: $\tau > 0$, in the model's time.

    **Returns:**

    One autocorrelation per state, in order, as floats.

    **Raises:**

    As for [`stationary_covariance`][], and `ValueError` for a lag that is not
    positive.
    """
    if not (isinstance(lag, int | float) and lag > 0):
        raise ValueError(f"lag must be a positive number, got {lag!r}")
    jac, diffusion, _ = _linearisation(model, attractor, params)
    sigma = _lyapunov_solution(jac, diffusion)
    with mpmath.workdps(_DIGITS):
        propagator = mpmath.expm(mpmath.matrix(sp.N(jac, _DIGITS).tolist()) * lag)
        covariance = mpmath.matrix(sp.N(sigma, _DIGITS).tolist())
        lagged = propagator * covariance
        return [float(lagged[i, i] / covariance[i, i]) for i in range(model.dim)]
