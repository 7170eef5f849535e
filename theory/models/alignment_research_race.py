"""Alignment research that scales with capability: does alignment ever lag?"""

from __future__ import annotations

import sympy as sp

from .._model import Model


def alignment_research_race(
    capability_rate: float = 1.0,
    alignment_rate: float = 1.0,
    leak: float = 0.05,
    margin: float = 0.1,
) -> Model:
    r"""Capability grows logistically; alignment is made with the help of the system,
    so its progress scales with capability, and it decays when unattended.

    $$
    \dot c = r_c\, c\,(1 - c), \qquad \dot a = r_a\, c\,(1 - a) - \lambda\, a,
    $$

    with capability $c \in [0, 1]$ and alignment $a \in [0, 1]$. Training ends at
    $(c, a) = \bigl(1, \frac{r_a}{r_a + \lambda}\bigr)$, a stable node for every
    positive rate; $(0, 0)$ is a saddle. Where it ends says little about the way
    there: while capability takes off, alignment, which can only grow as fast as
    capability lets it, may fall behind. The predicate `"keeps_up"` is
    $a \ge c - m$ for a margin $m$; whether it holds *all along* the trajectory
    (see [`basinlab.simulations.holds_all_along`][]) is the question "does
    alignment never lag capability?", and its answer depends on $r_a / r_c$ and on
    the alignment $a_0$ a run starts with.

    This is a stylised model, stated as such in the issue that asked for it: the
    rates, the logistic capability curve and the linear coupling $r_a c$ are
    assumptions, not a published result.

    **Arguments:**

    - `capability_rate`, `alignment_rate`, `leak`: defaults of $r_c$, $r_a$, $\lambda$.
    - `margin`: default of $m$.

    **Returns:**

    A [`basinlab.Model`][] with state $(c, a)$.
    """
    c, a = sp.symbols("c a", real=True)
    r_c, r_a = sp.symbols("r_c r_a", positive=True)
    decay, m = sp.symbols("leak margin", nonnegative=True)
    return Model(
        "alignment_research_race",
        [c, a],
        [r_c * c * (1 - c), r_a * c * (1 - a) - decay * a],
        params={r_c: capability_rate, r_a: alignment_rate, decay: leak, m: margin},
        predicates={"keeps_up": a - c + m >= 0},
        description="Stylised: logistic capability c, alignment a made at a rate "
        "proportional to capability and leaking away; does a ever lag c?",
        search_box=[(0.0, 1.0), (0.0, 1.0)],
    )
