"""Iterated retraining of a Gaussian on its own samples: collapse, and fresh data."""

from __future__ import annotations

import sympy as sp

from ...theory.models._retraining import (
    collapse_factor,
    log_variance_drift,
    refit_expectations,
    second_moment_recursion,
    stationary_moments,
)
from .._claim import CertificateFailed, Claim
from .._definiteness import exact_sign

_SMALL = range(2, 7)  # M for the symbolic expectations over M normal variables
_COLLAPSE = range(2, 41)


def _normal_expectation(
    polynomial: sp.Expr, laws: dict[sp.Symbol, tuple[sp.Expr, sp.Expr]]
) -> sp.Expr:
    """E[P(x)] for a polynomial P in independent normals x_i with the given (mean,
    variance): each monomial's expectation is a product of raw moments, from Stein's
    identity E[x^k] = mu E[x^(k-1)] + (k - 1) s^2 E[x^(k-2)]."""
    symbols = list(laws)
    total = sp.Integer(0)
    for powers, coefficient in sp.Poly(sp.expand(polynomial), *symbols).terms():
        term = coefficient
        for x, k in zip(symbols, powers):
            mean, variance = laws[x]
            moments = [sp.Integer(1), mean]
            for j in range(2, k + 1):
                moments.append(mean * moments[j - 1] + (j - 1) * variance * moments[j - 2])
            term *= moments[k]
        total += term
    return sp.expand(total)


def _refit_moments() -> str:
    mean, variance = sp.Symbol("mu", real=True), sp.Symbol("v", positive=True)
    checked = 0
    for m in _SMALL:
        for n in range(m + 1):
            laws = {sp.Symbol(f"own{i}", real=True): (mean, variance) for i in range(m - n)}
            laws |= {sp.Symbol(f"real{i}", real=True): (0, 1) for i in range(n)}
            centre = sum(laws) / m
            spread = sum((x - centre) ** 2 for x in laws) / (m - 1)
            expected = refit_expectations(m, n, mean, variance)
            got = (_normal_expectation(centre, laws), _normal_expectation(spread, laws))
            if any(sp.simplify(g - e) != 0 for g, e in zip(got, expected)):
                raise CertificateFailed(f"M = {m}, n = {n}: E = {got}, claimed {expected}")
            squared = sp.expand(expected[0] ** 2 + (n + (m - n) * variance) / m**2)
            if sp.simplify(_normal_expectation(centre**2, laws) - squared) != 0:
                raise CertificateFailed(f"M = {m}, n = {n}: E[mean^2] is not {squared}")
            checked += 1
    return (
        "expectations over M independent normals, monomial by monomial from the normal's "
        f"raw moments, equal the closed forms for {checked} pairs (M, n), "
        f"M = {_SMALL[0]}..{_SMALL[-1]}"
    )


def _collapse() -> str:
    chi = sp.Symbol("chi", positive=True)
    for m in _COLLAPSE:
        factor = collapse_factor(m)
        if m <= 8:
            # E sqrt(chi^2_k) / sqrt(k) by integrating the chi-square density.
            k = m - 1
            density = chi ** (sp.Rational(k, 2) - 1) * sp.exp(-chi / 2)
            density /= 2 ** sp.Rational(k, 2) * sp.gamma(sp.Rational(k, 2))
            mean_root = sp.integrate(sp.sqrt(chi) * density, (chi, 0, sp.oo)) / sp.sqrt(k)
            if sp.simplify(mean_root - factor) != 0:
                raise CertificateFailed(f"M = {m}: E sigma'/sigma = {mean_root}, not {factor}")
        if exact_sign(1 - factor**2, f"1 - c4({m})^2") <= 0:
            raise CertificateFailed(f"c4({m}) = {factor} is not below 1")
        if exact_sign(-log_variance_drift(m), f"drift at M = {m}") <= 0:
            raise CertificateFailed(f"the log-variance drift at M = {m} is not negative")
    return (
        "c4(M) equals E sqrt(chi^2)/sqrt(M-1) by exact integration for M = 2..8; "
        f"c4(M) < 1 and psi((M-1)/2) < log((M-1)/2) exactly for M = 2..{_COLLAPSE[-1]}"
    )


def _fresh_data() -> str:
    checked = 0
    for m in (2, 5, 10, 20, 50):
        for n in range(1, m + 1):
            matrix, offset = second_moment_recursion(m, n)
            # Schur-Cohn for a real 2x2 matrix: both eigenvalues inside the unit circle
            # iff |det| < 1 and |tr| < 1 + det.
            det, trace = matrix.det(), matrix.trace()
            if not (abs(det) < 1 and abs(trace) < 1 + det):
                raise CertificateFailed(f"M = {m}, n = {n}: the recursion does not contract")
            stationary = sp.Matrix(stationary_moments(m, n))
            if matrix * stationary + offset != stationary:
                raise CertificateFailed(f"M = {m}, n = {n}: {list(stationary)} is not fixed")
            above = stationary[1] > 1 if n < m else stationary[1] == 1
            if not above:
                raise CertificateFailed(f"M = {m}, n = {n}: E v settles at {stationary[1]}")
            checked += 1
    return (
        f"for {checked} pairs (M, n >= 1) the exact recursion contracts (Schur-Cohn) and "
        "its rational fixed point has E v > 1 (= 1 when every sample is fresh)"
    )


def claims() -> list[Claim]:
    setting = (
        "each generation fits the sample mean and unbiased variance to M samples: n from "
        "the real N(0, 1), M - n from the current model N(mu, v)",
    )
    return [
        Claim(
            "retraining.refit_moments",
            r"One refit has $\mathbb E[\mu'] = \frac{M - n}{M}\mu$, "
            r"$\mathbb E[v'] = \frac{n + (M - n) v}{M} + \frac{n (M - n)}{M (M - 1)} \mu^2$ and "
            r"$\mathbb E[\mu'^2] = \mathbb E[\mu']^2 + \frac{n + (M - n) v}{M^2}$ "
            r"(checked symbolically for $M \le 4$ and every $n$).",
            setting,
            about="basinlab.theory.refit_expectations",
            certificate=_refit_moments,
        ),
        Claim(
            "retraining.collapse",
            r"Without fresh data ($n = 0$) the standard deviation shrinks in mean by "
            r"$c_4(M) = \sqrt{2/(M-1)}\,\Gamma(M/2)/\Gamma((M-1)/2) < 1$ per generation "
            r"and $\mathbb E \ln v$ drifts by $\psi(\frac{M-1}{2}) - \ln\frac{M-1}{2} < 0$, "
            r"while $\mathbb E[v'] = v$: model collapse (for $2 \le M \le 40$).",
            setting,
            about="basinlab.theory.collapse_factor",
            certificate=_collapse,
        ),
        Claim(
            "retraining.fresh_data",
            r"With $n \ge 1$ fresh samples the means $(\mathbb E\mu_t^2, \mathbb E v_t)$ "
            r"follow an exact linear recursion that contracts to a unique rational fixed "
            r"point, with $\mathbb E v_\infty > 1$ unless every sample is fresh (checked "
            r"for $M \in \{2, 5, 10, 20, 50\}$ and every $n \ge 1$).",
            setting,
            about="basinlab.theory.stationary_moments",
            certificate=_fresh_data,
        ),
    ]
