"""The RL perceptron with a proxy teacher: the true overlap is the proxy's shadow."""

from __future__ import annotations

import sympy as sp

from ...theory import models
from .._claim import Claim
from .._identities import vanishes

_NAME = "reward_perceptron"


def _proxy_shadow() -> str:
    model = models.build(_NAME)
    r, s, q, _ = model.state
    symbols = {str(p): p for p in model.param_symbols}
    rho = symbols["rho"]
    field = dict(zip(model.state, model.vector_field))
    shadow = r - rho * s
    rate = field[r] - rho * field[s]
    eta_1, eta_2, flip = symbols["eta_1"], symbols["eta_2"], symbols["flip"]
    episode = symbols["T"]
    agree = 1 - sp.acos(s / sp.sqrt(q)) / sp.pi
    a = (eta_1 + eta_2) * flip - eta_2
    c = (eta_1 + eta_2) * (1 - 2 * flip) * agree ** (episode - 1) / 2
    growth = sp.sqrt(2 / sp.pi) * (a + c) / sp.sqrt(q)
    return vanishes(rate - growth * shadow, "d(R - rho S)/dalpha - k (R - rho S)")


def _fresh_proxy_limit() -> str:
    model = models.build(_NAME)
    r, s, q, _ = model.state
    symbols = {str(p): p for p in model.param_symbols}
    rho, eta_1, eta_2 = symbols["rho"], symbols["eta_1"], symbols["eta_2"]
    flip, episode = symbols["flip"], symbols["T"]
    field = dict(zip(model.state, model.vector_field))
    cosine = r / sp.sqrt(q)
    rate = sp.diff(cosine, r) * field[r] + sp.diff(cosine, q) * field[q]
    agree = 1 - sp.acos(rho * cosine) / sp.pi
    c = (eta_1 + eta_2) * (1 - 2 * flip) * agree ** (episode - 1) / 2
    rewarded = (1 - flip) * agree**episode + flip * (1 - agree**episode)
    noise = (eta_1**2 * rewarded + eta_2**2 * (1 - rewarded)) / episode
    claimed = sp.sqrt(2 / sp.pi) * c * rho * (1 - cosine**2) / sp.sqrt(q) - cosine * noise / (2 * q)
    return vanishes(rate.subs(s, rho * r) - claimed, "dm/dalpha at S = rho R - the claimed rate")


def claims() -> list[Claim]:
    return [
        Claim(
            f"{_NAME}.proxy_shadow",
            r"$\frac{d}{d\alpha}(R - \rho S) = k\,(R - \rho S)$ with "
            r"$k = \sqrt{2/\pi}\,(a + c)/\sqrt Q$, so a run that starts with "
            r"$R = \rho S$ (for instance from weights orthogonal to both teachers) keeps "
            r"$R = \rho S$ for ever: the cosine with the true teacher is $\rho$ times the "
            r"cosine with the proxy, whatever the reward, penalty or flip rate.",
            (r"$Q > 0$", r"$|S| < \sqrt Q$"),
            about=_NAME,
            certificate=_proxy_shadow,
        ),
        Claim(
            f"{_NAME}.fresh_proxy_limit",
            r"With the proxy refreshed continually ($S = \rho R$ at all times), the "
            r"cosine $m = R/\sqrt Q$ obeys $\frac{dm}{d\alpha} = \sqrt{2/\pi}\,c\,\rho"
            r"\,(1 - m^2)/\sqrt Q - m N/(2Q)$, $N = (\eta_1^2 P + \eta_2^2 (1 - P))/T$ "
            r"the noise term of $dQ/d\alpha$: its drift pushes $m$ towards 1, past the "
            r"fixed proxy's ceiling $\rho$, whenever $c\rho > 0$.",
            (r"$Q > 0$", r"$|\rho R| < \sqrt Q$", r"$S = \rho R$ (the fresh-proxy limit)"),
            about=_NAME,
            certificate=_fresh_proxy_limit,
        ),
    ]
