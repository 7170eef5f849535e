"""Exact identities: an expression that reduces to zero, two polynomials that agree."""

from __future__ import annotations

import random
from collections.abc import Sequence

import sympy as sp

from ..theory._values import symbolic_value
from ._claim import CertificateFailed


def _witness(expr: sp.Expr) -> str:
    """Where a non-zero residual is visibly non-zero, for the failure message."""
    symbols = sorted(expr.free_symbols, key=str)
    rng = random.Random(0)
    for _ in range(20):
        point = {s: sp.Rational(rng.randint(1, 97), rng.randint(1, 13)) for s in symbols}
        try:
            value = complex(expr.subs(point).evalf(30))
        except (TypeError, ValueError, ZeroDivisionError):
            continue
        if abs(value) > 1e-20:
            where = ", ".join(f"{s}={v}" for s, v in point.items())
            return f"; at {where or 'every point'} it is {value.real:.6g}"
    return ""


def vanishes(expr: sp.Expr, what: str) -> str:
    """Check that `expr` reduces to exactly 0.

    Cheap exact reductions (`expand`, `cancel`) are tried before `simplify`; any of
    them returning the integer 0 is a proof.

    **Arguments:**

    - `expr`: a SymPy expression.
    - `what`: the name of the identity, for messages.

    **Returns:**

    One line saying what was reduced.

    **Raises:**

    - `CertificateFailed`: no reduction reached 0; the message gives a point where the
      residual is non-zero when one is found.
    """
    expr = symbolic_value(expr, what)
    for reduce in (sp.expand, sp.cancel, sp.simplify):
        if reduce(expr) == 0:
            return f"{what}: reduced to 0 by {reduce.__name__}"
    raise CertificateFailed(f"{what} does not reduce to 0{_witness(expr)}")


def all_vanish(expressions: Sequence[sp.Expr], what: str) -> str:
    """Check that every expression reduces to 0; see [`vanishes`][].

    **Raises:**

    - `CertificateFailed`: one does not; the message names its position.
    """
    for i, expr in enumerate(expressions):
        vanishes(expr, f"{what} [{i}]")
    return f"{what}: all {len(expressions)} components reduced to 0"


def polynomial_identity(lhs: sp.Expr, rhs: sp.Expr, gens: Sequence[sp.Symbol], what: str) -> str:
    """Check that two polynomials in `gens` are identical, coefficient by coefficient.

    **Raises:**

    - `CertificateFailed`: a coefficient differs (the message names the monomial), or
      a side is not a polynomial in `gens`.
    """
    try:
        difference = sp.Poly(sp.expand(lhs - rhs), *gens)
    except sp.PolynomialError as error:
        raise CertificateFailed(f"{what}: not a polynomial identity ({error})") from None
    for monomial, coefficient in difference.terms():
        if coefficient != 0:
            term = sp.Mul(*(g**e for g, e in zip(gens, monomial)))
            raise CertificateFailed(f"{what}: the coefficients of {term} differ by {coefficient}")
    return f"{what}: polynomial identity in {', '.join(map(str, gens))}"
