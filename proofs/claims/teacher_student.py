r"""Teacher–student committee machines (Saad & Solla 1995): the symmetric plateau."""

from __future__ import annotations

from ...theory.models import teacher_student
from ...theory.models.teacher_student import at, first_order_flow, plateau
from .._claim import Claim
from .._identities import all_vanish, vanishes

_CITATION = "Saad & Solla, Phys. Rev. E 52, 4225 (1995)"


def _fixed_point(K: int):
    def certificate() -> str:
        state, flow = first_order_flow(K, K)
        point, _ = plateau(K)
        return all_vanish(list(at(flow, state, point)), f"O(eta) flow at the K={K} plateau")

    return certificate


def _error(K: int):
    def certificate() -> str:
        model = teacher_student(K, K)
        point, closed_form = plateau(K)
        sigma = next(p for p in model.params if str(p) == "sigma")
        eps_g = at(model.observables["eps_g"], model.state, point).subs(sigma, 0)
        return vanishes(eps_g - closed_form, f"eps_g at the K={K} plateau minus the closed form")

    return certificate


def claims() -> list[Claim]:
    assumptions = (
        "$K = M$, erf activation, teacher $T = I$, second layers fixed at 1",
        "the limit of small learning rate: the $O(\\eta)$ part of the flow",
    )
    fixed = [
        Claim(
            f"teacher_student.plateau.k{K}",
            rf"For $K = M = {K}$ the symmetric plateau $Q_{{ik}} = \frac{{1}}{{2K-1}}$, "
            rf"$R_{{in}} = \frac{{1}}{{\sqrt{{K(2K-1)}}}}$ is a fixed point of the "
            rf"$O(\eta)$ order-parameter flow ({_CITATION}).",
            assumptions,
            about=f"teacher_student({K}, {K})",
            certificate=_fixed_point(K),
            timeout=120.0,
        )
        for K in (2, 3, 4)
    ]
    errors = [
        Claim(
            f"teacher_student.plateau_error.k{K}",
            rf"On the $K = M = {K}$ plateau the generalisation error is "
            rf"$\epsilon_g = \frac{{K}}{{\pi}}\left[\frac{{\pi}}{{6}} - "
            rf"K \arcsin\frac{{1}}{{2K}}\right]$ ({_CITATION}).",
            (*assumptions[:1], "no output noise, $\\sigma = 0$"),
            about=f"teacher_student({K}, {K})",
            certificate=_error(K),
            timeout=120.0,
        )
        for K in (2, 3, 4)
    ]
    return [*fixed, *errors]
