r"""Deep linear networks (Saxe, McClelland & Ganguli 2014): closed forms and invariants."""

from __future__ import annotations

import itertools

import sympy as sp

from ...theory.models import deep_linear_depth, deep_linear_mode
from ...theory.models.deep_linear import learning_time, mode_strength
from .._claim import Claim
from .._identities import all_vanish, vanishes

_CITATION = "Saxe, McClelland & Ganguli, ICLR 2014"
_t = sp.Symbol("t", nonnegative=True)
_s, _tau = sp.symbols("s tau", positive=True)
_u0, _uf = sp.symbols("u_0 u_f", positive=True)


def _sigmoid() -> str:
    u = mode_strength(_t, _s, _u0, _tau)
    ode = vanishes(sp.diff(u, _t) - 2 * u * (_s - u) / _tau, "du/dt - 2u(s - u)/tau")
    start = vanishes(u.subs(_t, 0) - _u0, "u(0) - u_0")
    model = deep_linear_mode()
    a, b = model.state
    tau = next(p for p in model.params if str(p) == "tau")
    s = next(p for p in model.params if str(p) == "s")
    rate = b * model.vector_field[0] + a * model.vector_field[1]  # d(ab)/dt
    balanced = vanishes(
        (rate - 2 * a * b * (s - a * b) / tau).subs(b, a), "d(ab)/dt - 2ab(s - ab)/tau at a = b"
    )
    return f"{ode}; {start}; {balanced}"


def _learning_time() -> str:
    crossing = mode_strength(learning_time(_s, _u0, _uf, _tau), _s, _u0, _tau)
    return vanishes(crossing - _uf, "u(t(u_0 -> u_f)) - u_f")


def _mode_conservation() -> str:
    model = deep_linear_mode()
    (a, b), (fa, fb) = model.state, model.vector_field
    return vanishes(2 * a * fa - 2 * b * fb, "d(a^2 - b^2)/dt")


def _depth_conservation(depth: int):
    def certificate() -> str:
        model = deep_linear_depth(depth=depth)
        rates = [
            2 * ai * fi - 2 * aj * fj
            for (ai, fi), (aj, fj) in itertools.combinations(
                zip(model.state, model.vector_field), 2
            )
        ]
        return all_vanish(rates, f"d(a_i^2 - a_j^2)/dt, depth {depth}")

    return certificate


def claims() -> list[Claim]:
    balanced = "the mode starts balanced, $a(0) = b(0)$, with $0 < u_0 < s$"
    return [
        Claim(
            "deep_linear.sigmoid",
            r"The balanced mode $u = ab$ of $\tau\dot a = (s - ab)b$, "
            r"$\tau\dot b = (s - ab)a$ obeys $\tau\dot u = 2u(s - u)$, solved by "
            r"$u(t) = \frac{s e^{2st/\tau}}{e^{2st/\tau} - 1 + s/u_0}$ "
            f"({_CITATION}, Eq 10).",
            (balanced,),
            about="deep_linear_mode",
            certificate=_sigmoid,
        ),
        Claim(
            "deep_linear.learning_time",
            r"The balanced mode reaches $u_f$ from $u_0$ at "
            r"$t = \frac{\tau}{2s}\ln\frac{u_f(s - u_0)}{u_0(s - u_f)}$ "
            f"({_CITATION}, Eq 11).",
            (balanced, "$0 < u_f < s$"),
            about="deep_linear_mode",
            certificate=_learning_time,
        ),
        Claim(
            "deep_linear.conservation",
            r"$a^2 - b^2$ is conserved by the two-layer mode dynamics "
            f"({_CITATION}).",
            (),
            about="deep_linear_mode",
            certificate=_mode_conservation,
        ),
        *(
            Claim(
                f"deep_linear.conservation.depth{depth}",
                rf"$a_i^2 - a_j^2$ is conserved for every pair of layers of the depth-{depth} "
                rf"scalar chain $\tau\dot a_i = (s - \prod_k a_k)\prod_{{k \ne i}} a_k$ "
                f"({_CITATION}, Sec 4).",
                (),
                about=f"deep_linear_depth(depth={depth})",
                certificate=_depth_conservation(depth),
            )
            for depth in (3, 4)
        ),
    ]
