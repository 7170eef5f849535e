"""Exact bifurcations of the alignment models along the reward bias."""

from __future__ import annotations

import sympy as sp

from ...theory import bifurcations, models
from ...theory._bifurcations import FOLD, TRANSCRITICAL
from ...theory.models.alignment_tilted_well import tilted_well_fold
from .._claim import CertificateFailed, Claim


def _check(name: str, expected: list[tuple[str, sp.Expr, tuple[sp.Expr, ...]]]) -> str:
    model = models.build(name)
    found = bifurcations(model, "bias")
    got = [(b.kind, b.value, b.location) for b in found]
    if len(got) != len(expected) or any(
        kind != k
        or sp.simplify(value - v) != 0
        or any(sp.simplify(p - q) != 0 for p, q in zip(at, x))
        for (kind, value, at), (k, v, x) in zip(got, expected)
    ):
        raise CertificateFailed(f"the bifurcations in the bias are {got}, not {expected}")
    # Independently of the solver: f and det J vanish exactly at each point.
    bias = model.param_symbols[model.param_names.index("bias")]
    others = {s: v for s, v in model.param_substitution(exact=True).items() if s != bias}
    field = model.vector_field.subs(others)
    jacobian = field.jacobian(model.state)
    for _, value, at in expected:
        where = {bias: value, **dict(zip(model.state, at))}
        if any(sp.simplify(e.subs(where)) != 0 for e in field):
            raise CertificateFailed(f"f does not vanish at {where}")
        if sp.simplify(jacobian.subs(where).det()) != 0:
            raise CertificateFailed(f"det J does not vanish at {where}")
    return (
        f"Groebner solve of f = 0, det J = 0 in (state, bias) gives exactly {len(got)} real "
        "points; types from the null vectors (w . df/db and w . D2f(v, v)); f and det J "
        "reduce to 0 exactly at each"
    )


def claims() -> list[Claim]:
    defaults = "coupling $\\kappa = 1$; bias $b$ free"
    a_fold, b_fold = tilted_well_fold()[1], tilted_well_fold()[0]
    return [
        Claim(
            "alignment_double_well.transcritical",
            r"Along the reward bias $b$, the fixed points of the alignment double well "
            r"bifurcate only at $b = \pm 1$, where the saddle meets a minimum in a "
            r"transcritical bifurcation (the minimum persists and exchanges stability).",
            (defaults,),
            about="alignment_double_well",
            certificate=lambda: _check(
                "alignment_double_well",
                [
                    (TRANSCRITICAL, sp.Integer(-1), (sp.Integer(-1), sp.Integer(0))),
                    (TRANSCRITICAL, sp.Integer(1), (sp.Integer(1), sp.Integer(2))),
                ],
            ),
        ),
        Claim(
            "alignment_tilted_well.fold",
            r"The aligned minimum of the tilted well disappears in a fold at "
            r"$b^* = 2\sqrt 3 / 9$, at $a = 1/\sqrt 3$; the mirror fold is at $-b^*$.",
            (defaults,),
            about="alignment_tilted_well",
            certificate=lambda: _check(
                "alignment_tilted_well",
                [
                    (FOLD, -b_fold, (-a_fold, 1 - a_fold)),
                    (FOLD, b_fold, (a_fold, 1 + a_fold)),
                ],
            ),
        ),
    ]
