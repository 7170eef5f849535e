"""Linear self-attention on in-context linear regression: its fixed points and minima."""

from __future__ import annotations

import sympy as sp

from ...theory import models
from .._claim import CertificateFailed, Claim
from .._identities import all_vanish, vanishes

_NAME = "linear_attention"


def _second_moment(covariance: sp.Matrix, n: sp.Symbol) -> sp.Matrix:
    """M = E S^2 = (1 + 1/N) L^2 + tr(L) L / N for a sample covariance of N inputs."""
    return (1 + 1 / n) * covariance**2 + covariance.trace() * covariance / n


def _risk(gamma: sp.Matrix, spectrum: sp.Matrix, n: sp.Symbol) -> sp.Expr:
    """tr L - 2 tr(L G L) + tr(G^T L G M), with M = E S^2 for the spectrum L."""
    covariance = sp.diag(*spectrum)
    second_moment = _second_moment(covariance, n)
    return (
        covariance.trace()
        - 2 * (covariance * gamma * covariance).trace()
        + (gamma.T * covariance * gamma * second_moment).trace()
    )


def _balanced_flow() -> str:
    model = models.build(_NAME)
    a, b = model.state
    symbols = {str(p): p for p in model.param_symbols}
    d, n, kappa = symbols["D"], symbols["N"], symbols["kappa"]
    field = dict(zip(model.state, model.vector_field))
    u = sp.Symbol("u", positive=True)
    c = (n + d + 1) / (n * d**2)
    rate = (field[a] * b + a * field[b]).subs({a: sp.sqrt(u), b: sp.sqrt(u)})
    conserved = 2 * a * field[a] - 2 * b * field[b]
    return all_vanish(
        [rate - 4 * kappa * u * (1 / d - c * u), conserved],
        "d(ab)/dt at a = b minus 4 kappa u (1/D - c u), and d(a^2 - b^2)/dt",
    )


def _isotropic_minimum() -> str:
    d, n, u = sp.symbols("D N u", positive=True)
    loss = _risk(sp.eye(3) * u, sp.Matrix([1, 1, 1]) / 3, n).subs(d, 3)
    c3 = (n + 4) / (9 * n)
    vanishes(loss - (1 - 2 * u / 3 + c3 * u**2), "the risk at Gamma = u I, D = 3")
    c = (n + d + 1) / (n * d**2)
    general = 1 - 2 * u / d + c * u**2
    star = n * d / (n + d + 1)
    return all_vanish(
        [
            sp.diff(general, u).subs(u, star),
            general.subs(u, star) - (d + 1) / (n + d + 1),
        ],
        "L'(u*) and L(u*) - (D + 1)/(N + D + 1), with L'' = 2c > 0",
    )


def _anisotropic_minimum() -> str:
    n = sp.Symbol("N", positive=True)
    spectrum = sp.Matrix(sp.symbols("lambda_1:4", positive=True))
    gamma = sp.Matrix(3, 3, sp.symbols("g_1:10", real=True))
    risk = _risk(gamma, spectrum, n)
    covariance = sp.diag(*spectrum)
    trace = covariance.trace()
    second_moment = _second_moment(covariance, n)
    optimum = covariance * second_moment.inv()
    at_optimum = dict(zip(gamma, optimum))
    gradient = [sp.diff(risk, g).subs(at_optimum) for g in gamma]
    hessian = sp.hessian(risk, list(gamma))
    # The risk is quadratic in Gamma; its Hessian is diagonal, 2 lambda_i M_jj > 0.
    if any(hessian[i, j] != 0 for i in range(9) for j in range(9) if i != j):
        raise CertificateFailed("the Hessian of the risk in Gamma is not diagonal")
    for k in range(9):
        i, j = divmod(k, 3)
        vanishes(hessian[k, k] - 2 * spectrum[i] * second_moment[j, j], f"Hessian [{k}]")
    claimed = trace - sum(lam / (1 + (1 + trace / lam) / n) for lam in spectrum)
    return all_vanish(
        [*gradient, risk.subs(at_optimum) - claimed],
        "the gradient at Lambda M^-1 and the risk there minus the claimed least risk (D = 3)",
    )


def claims() -> list[Claim]:
    return [
        Claim(
            f"{_NAME}.balanced_flow",
            r"The gradient flow of $\kappa L(ab)$ conserves $a^2 - b^2$, and on the "
            r"balanced set $a = b$ the product $u = ab$ obeys $\dot u = 4\kappa u(1/D - "
            r"cu)$, $c = (N + D + 1)/(ND^2)$: a saddle at $u = 0$ and the minimum "
            r"$u^* = ND/(N + D + 1)$.",
            (r"$D, N, \kappa > 0$", r"$u > 0$"),
            about=_NAME,
            certificate=_balanced_flow,
        ),
        Claim(
            f"{_NAME}.isotropic_minimum",
            r"With $\Lambda = I/D$ and $\Gamma = uI$ the risk is $L(u) = 1 - 2u/D + "
            r"cu^2$ (checked from the general risk at $D = 3$), minimal at $u^*$ with "
            r"$L^* = (D + 1)/(N + D + 1)$.",
            (r"$D, N > 0$", r"$M = E S^2 = (1 + 1/N)\Lambda^2 + \mathrm{tr}(\Lambda)\Lambda/N$"),
            about=_NAME,
            certificate=_isotropic_minimum,
        ),
        Claim(
            f"{_NAME}.anisotropic_minimum",
            r"For diagonal $\Lambda$ the risk is a strictly convex quadratic in "
            r"$\Gamma$, stationary at $\Gamma^* = \Lambda M^{-1}$, where it equals "
            r"$\mathrm{tr}\Lambda - \sum_i \lambda_i/(1 + (1 + \mathrm{tr}\Lambda/"
            r"\lambda_i)/N)$ (Zhang, Frei & Bartlett 2024); checked for $D = 3$ with "
            r"symbolic eigenvalues.",
            (r"$\lambda_i > 0$", r"$N > 0$", r"$D = 3$"),
            about=_NAME,
            certificate=_anisotropic_minimum,
        ),
    ]
