"""Repeated risk minimisation: the contraction bound of performative prediction is tight."""

from __future__ import annotations

import sympy as sp

from ...theory import models
from .._claim import CertificateFailed, Claim


def _tightness() -> str:
    model = models.performative_prediction()
    (theta,) = model.state
    epsilon, gamma, beta = model.param_symbols
    (step,) = model.vector_field
    stable = beta / (gamma - epsilon * beta)
    if sp.simplify(step.subs(theta, stable) - stable) != 0:
        raise CertificateFailed(f"G({stable}) is not {stable}")
    rate = sp.simplify(sp.diff(step, theta))
    if sp.simplify(rate - epsilon * beta / gamma) != 0:
        raise CertificateFailed(f"G' = {rate}, not epsilon beta / gamma")
    # theta_t - theta* = rate^t (theta_0 - theta*) for every t: one step maps the
    # closed form at t to the closed form at t + 1.
    t, start = sp.Symbol("t", integer=True, nonnegative=True), sp.Symbol("theta_0", real=True)
    closed = stable + rate**t * (start - stable)
    if sp.simplify(step.subs(theta, closed) - closed.subs(t, t + 1)) != 0:
        raise CertificateFailed("the closed form of the iterates does not satisfy the map")
    return (
        "G(theta*) = theta* and G' = epsilon beta / gamma exactly; theta_t - theta* = "
        "(epsilon beta / gamma)^t (theta_0 - theta*) solves the recursion"
    )


def claims() -> list[Claim]:
    return [
        Claim(
            "performative_prediction.tightness",
            r"On the tight example, repeated risk minimisation "
            r"$\theta_{t+1} = \frac{\beta}{\gamma}(1 + \varepsilon\theta_t)$ has "
            r"$\theta_t - \theta^* = (\varepsilon\beta/\gamma)^t(\theta_0 - \theta^*)$ with "
            r"$\theta^* = \beta/(\gamma - \varepsilon\beta)$: it converges from every start "
            r"iff $\varepsilon\beta/\gamma < 1$, so the contraction bound "
            r"$\varepsilon\beta/\gamma$ of Perdomo et al. (2020) cannot be improved.",
            (r"$\gamma, \beta > 0$, $\varepsilon \ge 0$, $\varepsilon\beta \ne \gamma$",),
            about="performative_prediction",
            certificate=_tightness,
        )
    ]
