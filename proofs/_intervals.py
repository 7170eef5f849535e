"""Rational interval arithmetic: a polynomial is positive on a box.

Every bound is computed with exact fractions, so no rounding can make a false
inequality look true; where the bounds are too loose the box is bisected.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import sympy as sp

from ..theory._values import symbolic_value, symbolic_values
from ._claim import CertificateFailed, Undecided

Interval = tuple[Fraction, Fraction]
Terms = list[tuple[tuple[int, ...], Fraction]]


class BoxesExhausted(Undecided):
    """Branch and bound needed more boxes than it was allowed."""


def _power(interval: Interval, k: int) -> Interval:
    lo, hi = interval
    if k == 0:
        return Fraction(1), Fraction(1)
    ends = (lo**k, hi**k)
    if k % 2 == 0 and lo <= 0 <= hi:
        return Fraction(0), max(ends)
    return min(ends), max(ends)


def _times(x: Interval, y: Interval) -> Interval:
    products = (x[0] * y[0], x[0] * y[1], x[1] * y[0], x[1] * y[1])
    return min(products), max(products)


def _enclose(terms: Terms, box: Sequence[Interval]) -> Interval:
    """The natural interval extension of a polynomial: each monomial bounded alone."""
    lo = hi = Fraction(0)
    for exponents, coefficient in terms:
        value: Interval = (coefficient, coefficient)
        for interval, k in zip(box, exponents):
            if k:
                value = _times(value, _power(interval, k))
        lo, hi = lo + value[0], hi + value[1]
    return lo, hi


def _value(terms: Terms, point: Sequence[Fraction]) -> Fraction:
    total = Fraction(0)
    for exponents, coefficient in terms:
        term = coefficient
        for x, k in zip(point, exponents):
            term *= x**k
        total += term
    return total


def _terms(poly: sp.Poly) -> Terms:
    return [(m, Fraction(int(c.p), int(c.q))) for m, c in poly.terms()]


def _lower_bound(terms: Terms, gradient: list[Terms], box: Sequence[Interval]) -> Fraction:
    """The larger of the natural and the mean-value lower bounds on the box."""
    centre = [(lo + hi) / 2 for lo, hi in box]
    mean_value_lo = _value(terms, centre)
    for derivative, (lo, hi), c in zip(gradient, box, centre):
        slope = _enclose(derivative, box)
        mean_value_lo += min(_times(slope, (lo - c, hi - c)))
    return max(mean_value_lo, _enclose(terms, box)[0])


def prove_positive(
    expr: sp.Expr,
    gens: Sequence[sp.Symbol],
    box: Sequence[tuple[sp.Rational, sp.Rational]],
    what: str,
    max_boxes: int = 200_000,
    *,
    excluding: sp.Expr | None = None,
) -> int:
    r"""Prove $p(x) > 0$ for every $x$ in a closed box (where $q(x) \le 0$, if
    `excluding` gives a polynomial $q$), by branch and bound.

    On each sub-box a lower bound of $p$ comes from exact rational interval arithmetic
    (the better of the natural extension and the mean-value form
    $p(m) + \nabla p(\text{box})\cdot(\text{box} - m)$). A box whose bound is positive
    is done, and so is one where a lower bound of $q$ is positive; otherwise it is
    halved along its widest side. A centre where $p \le 0$ (and $q \le 0$) is a
    counterexample.

    **Arguments:**

    - `expr`: a polynomial in `gens` with rational coefficients.
    - `gens`: its variables.
    - `box`: a rational `(low, high)` per variable.
    - `what`: the name of the inequality, for messages.
    - `max_boxes`: how many boxes may be examined.
    - `excluding`: a polynomial $q$ in `gens` with rational coefficients; points
      where $q > 0$ are left out (with $q = |x - m|^2 - r^2$ the claim is about a
      ball).

    **Returns:**

    The number of boxes examined.

    **Raises:**

    - `CertificateFailed`: $p \le 0$ at a point of the box (the message gives it), or
      `expr` is not a polynomial with rational coefficients.
    - `BoxesExhausted`: `max_boxes` boxes did not settle it.
    """
    expr = symbolic_value(expr, what)
    box = [symbolic_values(interval, f"{what}: box bound") for interval in box]
    try:
        poly = sp.Poly(expr, *gens, domain="QQ")
    except (sp.PolynomialError, sp.CoercionFailed) as error:
        raise CertificateFailed(f"{what}: not a rational polynomial ({error})") from None
    terms = _terms(poly)
    gradient = [_terms(poly.diff(g)) for g in gens]
    outside = None
    if excluding is not None:
        exclusion = sp.Poly(symbolic_value(excluding, what), *gens, domain="QQ")
        outside = (_terms(exclusion), [_terms(exclusion.diff(g)) for g in gens])
    stack = [[(Fraction(int(lo.p), int(lo.q)), Fraction(int(hi.p), int(hi.q))) for lo, hi in box]]
    examined = 0
    while stack:
        current = stack.pop()
        examined += 1
        if examined > max_boxes:
            raise BoxesExhausted(f"{what}: {max_boxes} boxes did not settle it")
        if _lower_bound(terms, gradient, current) > 0:
            continue
        if outside is not None and _lower_bound(*outside, current) > 0:
            continue
        centre = [(lo + hi) / 2 for lo, hi in current]
        excluded = outside is not None and _value(outside[0], centre) > 0
        if not excluded and _value(terms, centre) <= 0:
            where = ", ".join(f"{g}={float(x):.6g}" for g, x in zip(gens, centre))
            raise CertificateFailed(f"{what} fails at {where}")
        widest = max(range(len(current)), key=lambda i: current[i][1] - current[i][0])
        lo, hi = current[widest]
        middle = (lo + hi) / 2
        stack.append([*current[:widest], (lo, middle), *current[widest + 1 :]])
        stack.append([*current[:widest], (middle, hi), *current[widest + 1 :]])
    return examined
