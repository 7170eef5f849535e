r"""Gradient flow never increases its loss: $\dot L = -|\nabla L|^2$."""

from __future__ import annotations

import sympy as sp

from ...theory import Model, models
from .._claim import Claim
from .._identities import vanishes


def _descent_rate(model: Model) -> sp.Expr:
    """$\\nabla L \\cdot f + |\\nabla L|^2$, which is 0 exactly for a gradient flow."""
    gradient = [sp.diff(model.loss, s) for s in model.state]
    rate = sum(g * f for g, f in zip(gradient, model.vector_field))
    return rate + sum(g**2 for g in gradient)


def _generic() -> str:
    state = sp.symbols("x_1:4", real=True)
    model = Model.gradient_flow(sp.Function("L")(*state), state, name="generic")
    return vanishes(_descent_rate(model), "dL/dt + |grad L|^2 for an arbitrary L(x_1, x_2, x_3)")


def _for(name: str):
    def certificate() -> str:
        model = models.build(name)
        return vanishes(_descent_rate(model), f"dL/dt + |grad L|^2 for {name}")

    return certificate


def claims() -> list[Claim]:
    statement = r"Along $\dot x = -\nabla L(x)$, $\frac{d}{dt} L(x(t)) = -|\nabla L(x(t))|^2 \le 0$"
    generic = Claim(
        "gradient_flow.descent",
        statement + " (chain rule, for an arbitrary differentiable $L$ of three variables).",
        ("$L$ is differentiable",),
        about="dL/dt = grad L . f",
        certificate=_generic,
    )
    catalogue = [
        Claim(
            f"gradient_flow.descent.{name}",
            statement + f" for the catalogue model `{name}`, whose field is $-\\nabla L$.",
            ("default parameters (the identity holds for all of them)",),
            about=name,
            certificate=_for(name),
        )
        for name in models.names()
        if models.build(name).loss is not None
    ]
    return [generic, *catalogue]
