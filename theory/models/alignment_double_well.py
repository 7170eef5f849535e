"""The alignment double well: the default model of basinlab."""

from __future__ import annotations

import sympy as sp

from .._model import Model


def alignment_double_well(bias: float = 0.2, coupling: float = 1.0) -> Model:
    r"""Gradient flow on a loss with an aligned and a misaligned minimum.

    The state is an *alignment* coordinate $a$ and a *capability* coordinate $c$.
    The loss is

    $$
    L(a, c) = \frac{a^4}{4} - \frac{b\,a^3}{3} - \frac{a^2}{2} + b\,a
              + \frac{1}{2}\bigl(c - 1 - \kappa a\bigr)^2,
    $$

    so $\partial_a L = (a - b)(a^2 - 1) - \kappa\,(c - 1 - \kappa a)$ and
    $\partial_c L = c - 1 - \kappa a$, and training follows
    $\dot a = -\partial_a L$, $\dot c = -\partial_c L$. Its critical points are exact
    for every parameter value:

    - the aligned minimum $(a, c) = (1, 1 + \kappa)$,
    - the misaligned minimum $(-1, 1 - \kappa)$,
    - a saddle $(b, 1 + \kappa b)$ between them, for $|b| < 1$.

    The *bias* $b$ stands for a systematic reward misspecification: it moves the
    barrier towards the aligned side, so the aligned minimum becomes shallower,
    $L(1, \cdot) - L(-1, \cdot) = 4b/3$, and its basin smaller; the barrier that
    holds a run in the aligned minimum, $(1 - b)^3 (b + 3) / 12$, vanishes at $b = 1$.
    There the saddle meets the aligned minimum and they exchange stability (a
    transcritical bifurcation: $\partial f / \partial b = 0$ at the meeting point, so
    it is not a fold); for $b > 1$ the stable point sits at $a = b$, still aligned, and
    $a = 1$ is the saddle. The aligned attractor therefore persists in this model; for
    one that vanishes in a fold see [`basinlab.models.alignment_tilted_well`][]. The
    *coupling* $\kappa$ ties capability to alignment: capability
    settles at $c = 1 + \kappa a$, and a capability that runs ahead of that value
    pushes alignment up (for $\kappa > 0$), so the basin boundary in the $(a, c)$
    plane is tilted. For $b = 0$ the loss is symmetric under
    $(a, c) \mapsto (-a, 2 - c)$ and the two basins are mirror images.

    The predicate `"aligned"` is $a > 0$; the observable `"loss"` is $L$.

    This is a stylised model for the basinlab demo, not a published result.

    **Arguments:**

    - `bias`: default of $b$.
    - `coupling`: default of $\kappa$.

    **Returns:**

    A gradient-flow [`basinlab.Model`][] with state $(a, c)$ and parameters
    `bias`, `coupling`.
    """
    a, c = sp.symbols("a c", real=True)
    b, kappa = sp.symbols("bias coupling", real=True)
    loss = a**4 / 4 - b * a**3 / 3 - a**2 / 2 + b * a + sp.Rational(1, 2) * (c - 1 - kappa * a) ** 2
    return Model.gradient_flow(
        loss,
        state=[a, c],
        params={b: bias, kappa: coupling},
        predicates={"aligned": a > 0},
        name="alignment_double_well",
        description=(
            "Gradient flow on alignment a and capability c with an aligned and a "
            "misaligned minimum; `bias` moves the barrier and shrinks the aligned basin."
        ),
    )
