"""The capability race: the exact curricula of constant weight under which values come
first (Saxe, McClelland & Ganguli 2014, Eq 11)."""

from __future__ import annotations

import math

import sympy as sp

from ...theory.models._curriculum import Curriculum
from ...theory.models.capability_race import (
    AWARENESS,
    AWARENESS_LEVEL,
    VALUES,
    VALUES_LEVEL,
    capability_race,
    constant_weight_threshold,
)
from ...theory.models.deep_linear import learning_time, mode_strength
from .._claim import Claim
from .._identities import vanishes

_NAME = "capability_race"


def _constant_weights() -> str:
    model = capability_race(curriculum=Curriculum([(math.inf, {VALUES: 0.5, AWARENESS: 0.5})]))
    symbols = {str(x): x for x in (*model.state, *model.param_symbols)}
    w, tau = symbols["phase_1_values"], symbols["tau"]
    field = dict(zip(model.state, model.vector_field))
    steps = []
    for mode, weight in ((VALUES, w), (AWARENESS, 1 - w)):
        a, b, s = symbols[f"a_{mode}"], symbols[f"b_{mode}"], symbols[f"s_{mode}"]
        rate = b * field[a] + a * field[b]  # d(ab)/dt
        steps.append(
            vanishes(
                (rate - 2 * weight * a * b * (s - a * b) / tau).subs(b, a),
                f"d(u_{mode})/dt - 2 w u (s - u)/tau at a = b",
            )
        )
    t, weight, s, u0, level = sp.symbols("t w s u_0 c", positive=True)
    u = mode_strength(weight * t, s, u0, tau)
    steps.append(vanishes(tau * sp.diff(u, t) - 2 * weight * u * (s - u), "the sigmoid's ODE"))
    steps.append(vanishes(u.subs(t, 0) - u0, "u(0) - u_0"))
    crossing = learning_time(s, u0, level * s, tau) / weight
    steps.append(vanishes(u.subs(t, crossing) - level * s, "u(t_c) - c s"))
    s_v, s_a, u_v, u_a = (
        symbols[f"s_{VALUES}"],
        symbols[f"s_{AWARENESS}"],
        *sp.symbols("u_v u_a", positive=True),
    )
    values_time = learning_time(s_v, u_v, VALUES_LEVEL * s_v, tau) / w
    awareness_time = learning_time(s_a, u_a, AWARENESS_LEVEL * s_a, tau) / (1 - w)
    lag_values = sp.log(9 * (s_v - u_v) / u_v)
    lag_awareness = sp.log((s_a - u_a) / (9 * u_a))
    scale = tau * (s_a * lag_values + s_v * lag_awareness) / (2 * s_v * s_a * w * (1 - w))
    threshold = constant_weight_threshold(s_v, s_a, u_v, u_a)
    difference = sp.expand_log(values_time - awareness_time - scale * (threshold - w), force=True)
    steps.append(vanishes(difference, "t_values - t_awareness - scale (w* - w)"))
    return "; ".join(steps) + (
        "; u grows strictly while 0 < u < s, so each level is crossed once; scale > 0 "
        "when u_v < 9 s_v/10 and u_a < s_a/10, so t_values <= t_awareness iff w >= w*"
    )


def claims() -> list[Claim]:
    return [
        Claim(
            f"{_NAME}.constant_weights",
            r"Under constant weights $(w, 1 - w)$ and from balanced starts "
            r"$u_\mathrm{val}(0) < 0.9\,s_\mathrm{val}$, $u_\mathrm{aw}(0) < 0.1\,"
            r"s_\mathrm{aw}$, the values mode passes 90% of its strength no later than "
            r"the awareness mode passes 10% iff $w \ge w^\star = s_\mathrm{aw} L_\mathrm{val}"
            r"/(s_\mathrm{aw} L_\mathrm{val} + s_\mathrm{val} L_\mathrm{aw})$, "
            r"$L_\mathrm{val} = \ln(9(s_\mathrm{val} - u_\mathrm{val})/u_\mathrm{val})$, "
            r"$L_\mathrm{aw} = \ln((s_\mathrm{aw} - u_\mathrm{aw})/(9 u_\mathrm{aw}))$ "
            r"(Saxe et al. 2014, Eq 11 for both crossings).",
            (
                r"$0 < w < 1$",
                r"balanced starts $a_k = b_k$",
                r"$0 < u_\mathrm{val}(0) < 0.9\,s_\mathrm{val}$, "
                r"$0 < u_\mathrm{aw}(0) < 0.1\,s_\mathrm{aw}$",
            ),
            about=_NAME,
            certificate=_constant_weights,
        )
    ]
