"""The default model, the alignment double well: its fixed points and a certified basin."""

from __future__ import annotations

import sympy as sp

from ...theory import NON_HYPERBOLIC, SADDLE, STABLE_NODE, UNSTABLE, models
from .._claim import CertificateFailed, Claim
from .._definiteness import inertia
from .._identities import vanishes
from .._sublevel import critical_points, sublevel_certificate

_NAME = "alignment_double_well"


def _kind(positive_curvature: int, flat: int, dim: int) -> tuple[str, int]:
    """The kind of a critical point of a gradient flow from the Hessian's inertia."""
    unstable = dim - positive_curvature - flat
    if flat:
        return NON_HYPERBOLIC, unstable
    if unstable == 0:
        return STABLE_NODE, 0
    return (UNSTABLE if unstable == dim else SADDLE), unstable


def _expected() -> dict[tuple[sp.Expr, ...], tuple[str, int]]:
    model = models.build(_NAME)
    values = model.param_substitution(exact=True)
    b, kappa = (values[p] for p in model.params)
    return {
        (sp.Integer(1), 1 + kappa): (STABLE_NODE, 0),
        (sp.Integer(-1), 1 - kappa): (STABLE_NODE, 0),
        (b, 1 + kappa * b): (SADDLE, 1),
    }


def _fixed_points() -> str:
    model = models.build(_NAME)
    loss = model.loss.subs(model.param_substitution(exact=True))
    found = critical_points(loss, model.state)
    expected = _expected()
    if sorted(found, key=str) != sorted(expected, key=str):
        raise CertificateFailed(f"the real fixed points are {found}, not {list(expected)}")
    hessian = sp.hessian(loss, model.state)
    for point, claimed in expected.items():
        positive, flat, _ = inertia(hessian.subs(dict(zip(model.state, point))))
        kind = _kind(positive, flat, model.dim)
        if kind != claimed:
            raise CertificateFailed(f"{point} is a {kind[0]} (index {kind[1]}), not {claimed[0]}")
    return (
        f"Groebner solve of grad L = 0 gives exactly {len(found)} real points; "
        "kinds from the exact inertia of the Hessian (Descartes' rule on its "
        "characteristic polynomial)"
    )


def _barrier() -> str:
    model = models.build(_NAME)
    a, c = model.state
    b, kappa = model.params
    loss = model.loss
    gap = loss.subs({a: 1, c: 1 + kappa}) - loss.subs({a: -1, c: 1 - kappa})
    return vanishes(gap - sp.Rational(4, 3) * b, "L(aligned) - L(misaligned) - 4b/3")


def _escape_barrier() -> str:
    model = models.build(_NAME)
    a, c = model.state
    b, kappa = model.params
    loss = model.loss
    barrier = loss.subs({a: b, c: 1 + kappa * b}) - loss.subs({a: 1, c: 1 + kappa})
    return vanishes(
        barrier - (1 - b) ** 3 * (b + 3) / 12, "L(saddle) - L(aligned) - (1 - b)^3 (b + 3) / 12"
    )


def _certified_basin() -> str:
    return sublevel_certificate(models.build(_NAME), (1, 2)).report


def claims() -> list[Claim]:
    defaults = "default parameters: bias $b = 1/5$, coupling $\\kappa = 1$"
    return [
        Claim(
            f"{_NAME}.fixed_points",
            r"At its default parameters the alignment double well has exactly three real "
            r"fixed points: stable nodes at the aligned minimum $(1, 1 + \kappa)$ and the "
            r"misaligned minimum $(-1, 1 - \kappa)$, and a saddle of index 1 at "
            r"$(b, 1 + \kappa b)$.",
            (defaults,),
            about=_NAME,
            certificate=_fixed_points,
        ),
        Claim(
            f"{_NAME}.barrier",
            r"The aligned minimum lies higher than the misaligned one by exactly "
            r"$L(1, 1 + \kappa) - L(-1, 1 - \kappa) = \frac{4b}{3}$, for every $b$ and "
            r"$\kappa$.",
            (),
            about=_NAME,
            certificate=_barrier,
        ),
        Claim(
            f"{_NAME}.escape_barrier",
            r"The barrier that holds a run in the aligned minimum is exactly "
            r"$L(b, 1 + \kappa b) - L(1, 1 + \kappa) = \frac{(1 - b)^3 (b + 3)}{12}$, for "
            r"every $b$ and $\kappa$; it vanishes at $b = 1$.",
            (),
            about=_NAME,
            certificate=_escape_barrier,
        ),
        Claim(
            f"{_NAME}.certified_basin",
            r"A sublevel set $\{x \in B : L(x) < c\}$ in a rational box $B$ around the "
            r"aligned minimum, with $c$ just below the saddle's loss, lies in the aligned "
            r"basin.",
            (defaults,),
            about=_NAME,
            certificate=_certified_basin,
        ),
    ]
