"""A double well whose aligned minimum disappears in a fold as the reward bias grows."""

from __future__ import annotations

import sympy as sp

from .._model import Model


def alignment_tilted_well(bias: float = 0.2, coupling: float = 1.0) -> Model:
    r"""Gradient flow on a tilted double well: the aligned minimum vanishes at a fold.

    With alignment $a$ and capability $c$,

    $$
    L(a, c) = \frac{a^4}{4} - \frac{a^2}{2} + b\,a + \frac{1}{2}\bigl(c - 1 - \kappa a
    \bigr)^2,
    $$

    so the rest points are $c = 1 + \kappa a$ with $a^3 - a + b = 0$. The reward bias
    $b > 0$ tilts the well towards misalignment ($a < 0$). For
    $0 \le b < b^* = 2/(3\sqrt 3) = 2\sqrt 3 / 9$ there are an aligned minimum
    ($a > 0$), a saddle and a misaligned minimum; at $b = b^*$ the aligned minimum and
    the saddle meet at $a = 1/\sqrt 3$ and disappear (a saddle-node, or fold,
    bifurcation), and every start ends misaligned. This is the normal form of the cusp
    catastrophe, the generic way an attractor vanishes as one parameter moves (S. H.
    Strogatz, *Nonlinear Dynamics and Chaos*, §3.6, "Imperfect bifurcations and
    catastrophes"). [`tilted_well_fold`][] gives the fold exactly.

    Unlike [`basinlab.models.alignment_double_well`][], whose bias only moves the
    barrier (its aligned attractor persists through a transcritical point), here the
    aligned attractor itself disappears. A stylised model, not a published result
    about training.

    The predicate `"aligned"` is $a > 0$; the observable `"loss"` is $L$.

    **Arguments:**

    - `bias`: default of $b$.
    - `coupling`: default of $\kappa$.

    **Returns:**

    A gradient-flow [`basinlab.Model`][] with state $(a, c)$ and parameters `bias`,
    `coupling`.
    """
    a, c = sp.symbols("a c", real=True)
    b, kappa = sp.symbols("bias coupling", real=True)
    loss = a**4 / 4 - a**2 / 2 + b * a + sp.Rational(1, 2) * (c - 1 - kappa * a) ** 2
    return Model.gradient_flow(
        loss,
        state=[a, c],
        params={b: bias, kappa: coupling},
        predicates={"aligned": a > 0},
        name="alignment_tilted_well",
        description="Gradient flow on a tilted double well; `bias` tilts it towards "
        "misalignment until the aligned minimum vanishes in a fold at 2*sqrt(3)/9.",
    )


def tilted_well_fold() -> tuple[sp.Expr, sp.Expr]:
    r"""The fold of [`alignment_tilted_well`][]: the bias $b^* = 2\sqrt 3/9$ and the
    alignment $a^* = 1/\sqrt 3$ at which the aligned minimum and the saddle meet
    ($a^3 - a + b = 0$ and $3a^2 - 1 = 0$)."""
    return 2 * sp.sqrt(3) / 9, 1 / sp.sqrt(3)
