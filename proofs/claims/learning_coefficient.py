r"""Exact learning coefficients: regular minima, the deep-linear continuum, and Aoyagi's
closed form for deep linear networks against two independent derivations."""

from __future__ import annotations

import itertools

import sympy as sp

from ...theory import Model, learning_coefficient
from ...theory.models import (
    deep_linear_depth,
    deep_linear_learning_coefficient,
    deep_linear_mode,
    reduced_rank_learning_coefficient,
)
from .._claim import CertificateFailed, Claim

# Positive while integrating (where the integral converges); its poles continue it.
_z = sp.Symbol("z", positive=True)
_WATANABE = "S. Watanabe, Algebraic Geometry and Statistical Learning Theory, 2009"
_AOYAGI = "M. Aoyagi, Neural Networks 172, 2024"
# Widths up to this bound, every rank, in the one-hidden-layer comparison.
_LARGEST_WIDTH = 7


def _largest_pole(zeta: sp.Expr) -> tuple[sp.Expr, int]:
    """The largest pole of a rational zeta function $\\zeta(z)$ and its order."""
    denominator = sp.denom(sp.together(zeta))
    poles = sp.roots(sp.Poly(denominator, _z))
    largest = max(poles, key=lambda p: sp.re(p))
    return largest, poles[largest]


def _zeta_threshold(zeta: sp.Expr, expected: tuple[sp.Expr, int], what: str) -> str:
    pole, order = _largest_pole(zeta)
    if (-pole, order) != expected:
        raise CertificateFailed(
            f"{what}: the zeta function's largest pole is {pole} of order {order}, "
            f"not -{expected[0]} of order {expected[1]}"
        )
    return f"{what}: zeta(z) = {sp.factor(zeta)}, largest pole z = {pole} of order {order}"


def _regular() -> str:
    """In polar coordinates about a nondegenerate minimum, $K = r^2$ up to a smooth
    positive factor, and $\\int_0^1 r^{2z} r^{d-1} dr = 1/(2z + d)$."""
    r = sp.Symbol("r", positive=True)
    lines = []
    for dim in (1, 2, 3, 5):
        zeta = sp.integrate(r ** (2 * _z + dim - 1), (r, 0, 1), conds="none")
        lines.append(_zeta_threshold(zeta, (sp.Rational(dim, 2), 1), f"d = {dim}"))
    quadratic = learning_coefficient(_quadratic(3), [0, 0, 0])
    if quadratic.value != sp.Rational(3, 2):
        raise CertificateFailed(f"learning_coefficient gives {quadratic.value} for d = 3")
    return "; ".join(lines) + "; learning_coefficient gives 3/2 for a 3-D quadratic"


def _quadratic(dim: int) -> Model:
    w = sp.symbols(f"w1:{dim + 1}", real=True)
    loss = sum((i + 1) * x**2 for i, x in enumerate(w)) / 2
    return Model.gradient_flow(loss, state=w, name="quadratic")


def _crossing_of_axes(depth: int):
    """$K = (a_1 \\cdots a_L)^2$ at the origin: a normal crossing, so
    $\\zeta(z) = \\int_{[0,1]^L} \\prod a_i^{2z} = (2z + 1)^{-L}$."""

    def certificate() -> str:
        weights = sp.symbols(f"a1:{depth + 1}", positive=True)
        zeta = sp.Mul(*[x ** (2 * _z) for x in weights])
        for x in weights:
            zeta = sp.integrate(zeta, (x, 0, 1), conds="none")
        exact = deep_linear_learning_coefficient([1] * (depth + 1), 0)
        return _zeta_threshold(
            zeta, (exact.value, exact.multiplicity), f"depth {depth}, true map 0 (Aoyagi)"
        )

    return certificate


def _continuum(depth: int):
    """At a point of $a_1\\cdots a_L = s \\ne 0$, the Morse-Bott count and Aoyagi's
    formula (widths all 1, rank 1) agree on 1/2."""

    def certificate() -> str:
        if depth == 2:
            model = deep_linear_mode(s=3.0)
            point = [sp.sqrt(3), sp.sqrt(3)]
        else:
            model = deep_linear_depth(s=3.0, depth=depth + 1)
            point = [sp.root(3, depth)] * depth
        morse_bott = learning_coefficient(model, point)
        aoyagi = deep_linear_learning_coefficient([1] * (depth + 1), 1)
        if (morse_bott.value, morse_bott.multiplicity) != (aoyagi.value, aoyagi.multiplicity):
            raise CertificateFailed(f"Morse-Bott gives {morse_bott}, Aoyagi {aoyagi}")
        return (
            f"{depth} weights: Morse-Bott (Hessian rank 1, a {depth - 1}-D manifold of "
            f"minima) and Aoyagi both give lambda = {aoyagi.value}, m = 1"
        )

    return certificate


def _reduced_rank() -> str:
    cases = 0
    for m, h, n in itertools.product(range(1, _LARGEST_WIDTH + 1), repeat=3):
        for rank in range(min(m, h, n) + 1):
            deep = deep_linear_learning_coefficient([m, h, n], rank)
            shallow = reduced_rank_learning_coefficient(m, h, n, rank)
            if (deep.value, deep.multiplicity) != (shallow.value, shallow.multiplicity):
                raise CertificateFailed(
                    f"widths ({m}, {h}, {n}), rank {rank}: Aoyagi 2024 gives "
                    f"({deep.value}, {deep.multiplicity}), Aoyagi & Watanabe 2005 "
                    f"({shallow.value}, {shallow.multiplicity})"
                )
            cases += 1
    return f"lambda and m agree exactly in all {cases} cases with widths 1..{_LARGEST_WIDTH}"


def _single_layer() -> str:
    """One weight matrix is a regular model: $\\lambda = H_1 H_2 / 2$ for every rank."""
    for h1, h2 in itertools.product(range(1, 6), repeat=2):
        for rank in range(min(h1, h2) + 1):
            got = deep_linear_learning_coefficient([h1, h2], rank)
            if (got.value, got.multiplicity) != (sp.Rational(h1 * h2, 2), 1):
                raise CertificateFailed(f"widths ({h1}, {h2}), rank {rank}: {got}")
    return "lambda = H1 H2 / 2, m = 1 for widths 1..5 and every rank"


def claims() -> list[Claim]:
    squared = "squared-error loss, whitened inputs; a prior positive near the point"
    return [
        Claim(
            "learning_coefficient.regular",
            r"At a nondegenerate minimum of a loss of $d$ parameters the learning "
            r"coefficient is $\lambda = d/2$, with multiplicity 1 "
            f"({_WATANABE}, §6).",
            ("the Hessian at the minimum is positive definite",),
            about="learning_coefficient",
            certificate=_regular,
        ),
        *(
            Claim(
                f"learning_coefficient.continuum.depth{depth}",
                rf"On the set $a_1 \cdots a_{{{depth}}} = s \ne 0$ of minima of "
                r"$(s - a_1\cdots a_L)^2/2$, $\lambda = 1/2$ with multiplicity 1: the "
                r"Morse-Bott count (rank of the Hessian over 2) and Aoyagi's formula agree.",
                ("$s \\ne 0$",),
                about="deep_linear_mode" if depth == 2 else "deep_linear_depth",
                certificate=_continuum(depth),
            )
            for depth in (2, 3)
        ),
        *(
            Claim(
                f"learning_coefficient.origin.depth{depth}",
                rf"At the origin of $(a_1 \cdots a_{{{depth}}})^2$ (true map 0) "
                rf"$\lambda = 1/2$ with multiplicity {depth}: the zeta function "
                r"$\int \prod a_i^{2z}$ has its largest pole at $-1/2$, of that order, "
                f"as Aoyagi's formula says ({_AOYAGI}).",
                (squared,),
                about="deep_linear_learning_coefficient",
                certificate=_crossing_of_axes(depth),
            )
            for depth in (2, 3)
        ),
        Claim(
            "learning_coefficient.aoyagi_reduces_to_reduced_rank",
            r"With one hidden layer, Aoyagi's deep-linear learning coefficient and its "
            r"multiplicity equal those of reduced-rank regression derived separately by "
            r"Aoyagi & Watanabe (Neural Networks 18, 2005), for every width up to "
            f"{_LARGEST_WIDTH} and every true rank.",
            (squared,),
            about="deep_linear_learning_coefficient",
            certificate=_reduced_rank,
        ),
        Claim(
            "learning_coefficient.single_layer",
            r"With one weight matrix Aoyagi's formula gives the regular value "
            r"$\lambda = H_1 H_2 / 2$ for every true rank.",
            (squared,),
            about="deep_linear_learning_coefficient",
            certificate=_single_layer,
        ),
    ]
