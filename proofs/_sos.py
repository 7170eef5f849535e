r"""Sums of squares with rational Gram matrices, rounded from a numerical solution.

A polynomial $p$ is a sum of squares when $p = m^\top G m$ for a vector of monomials
$m$ and a positive semidefinite Gram matrix $G$. A semidefinite solver finds $G$ in
floating point; it is then rounded to rationals and projected exactly onto the affine
space of Gram matrices of $p$, and positive semidefiniteness is checked in exact
arithmetic (H. Peyrl and P. A. Parrilo, "Computing sum of squares decompositions with
rational coefficients", Theoretical Computer Science 409, 269–281, 2008).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections import defaultdict
from collections.abc import Sequence
from fractions import Fraction

import numpy as np
import sympy as sp

from ._claim import CertificateFailed
from ._definiteness import rational_psd_failure
from ._identities import polynomial_identity

Exponent = tuple[int, ...]


def monomial_exponents(n: int, low: int, high: int) -> list[Exponent]:
    """All exponent vectors of `n` variables with total degree in `[low, high]`."""
    return [
        e
        for degree in range(low, high + 1)
        for e in sorted(
            (e for e in itertools.product(range(degree + 1), repeat=n) if sum(e) == degree),
            reverse=True,
        )
    ]


def product_index(basis: Sequence[Exponent]) -> dict[Exponent, list[tuple[int, int]]]:
    """For each monomial $m_i m_j$, the index pairs $(i, j)$ that produce it."""
    pairs: dict[Exponent, list[tuple[int, int]]] = defaultdict(list)
    for i, a in enumerate(basis):
        for j, b in enumerate(basis):
            pairs[tuple(x + y for x, y in zip(a, b))].append((i, j))
    return dict(pairs)


def to_fraction(value: float, denominator: int = 10**8) -> Fraction:
    return Fraction(value).limit_denominator(denominator)


@dataclasses.dataclass(frozen=True)
class SumOfSquares:
    r"""$p = m^\top G m$ with a rational positive semidefinite $G$.

    **Fields:**

    - `gens`: the variables.
    - `basis`: the exponent vectors of the monomials $m$.
    - `gram`: $G$, rational and symmetric.
    """

    gens: tuple[sp.Symbol, ...]
    basis: tuple[Exponent, ...]
    gram: tuple[tuple[Fraction, ...], ...]

    def __post_init__(self):
        assert len(self.gram) == len(self.basis)
        assert all(len(row) == len(self.basis) for row in self.gram)
        assert all(len(e) == len(self.gens) for e in self.basis)

    def monomials(self) -> list[sp.Expr]:
        return [sp.Mul(*(g**k for g, k in zip(self.gens, e))) for e in self.basis]

    def expression(self) -> sp.Expr:
        r"""$m^\top G m$ as a SymPy polynomial."""
        m = self.monomials()
        return sp.expand(
            sum(
                sp.Rational(g.numerator, g.denominator) * m[i] * m[j]
                for i, row in enumerate(self.gram)
                for j, g in enumerate(row)
                if g
            )
        )

    def verify(self, target: sp.Expr, what: str) -> str:
        """Check exactly that `target` equals $m^\\top G m$ and that $G \\succeq 0$.

        **Raises:**

        - `CertificateFailed`: either check fails.
        """
        polynomial_identity(target, self.expression(), self.gens, what)
        failure = rational_psd_failure([list(row) for row in self.gram])
        if failure is not None:
            raise CertificateFailed(f"{what}: the Gram matrix is not PSD ({failure})")
        return f"{what}: SOS with a {len(self.basis)}x{len(self.basis)} rational Gram matrix"


def round_gram(
    numeric: np.ndarray,
    basis: Sequence[Exponent],
    target: sp.Poly,
    gens: Sequence[sp.Symbol],
    what: str,
) -> SumOfSquares:
    """Round a numerical Gram matrix of `target` to a rational one that is exact.

    The rounded matrix is projected orthogonally (in the Frobenius norm) onto the
    matrices with $m^\\top G m = p$: each monomial's residual is spread evenly over
    the entries that produce it. Positive semidefiniteness is not checked here; see
    [`SumOfSquares.verify`][].

    **Raises:**

    - `CertificateFailed`: `target` has a monomial that no product $m_i m_j$ gives.
    """
    size = len(basis)
    gram = [
        [to_fraction((numeric[i, j] + numeric[j, i]) / 2) for j in range(size)] for i in range(size)
    ]
    coefficients = {m: Fraction(int(c.p), int(c.q)) for m, c in target.terms()}
    pairs = product_index(basis)
    unreachable = set(coefficients) - set(pairs)
    if unreachable:
        raise CertificateFailed(f"{what}: monomials {sorted(unreachable)} are out of the basis")
    for monomial, entries in pairs.items():
        residual = sum(gram[i][j] for i, j in entries) - coefficients.get(monomial, Fraction(0))
        if residual:
            share = residual / len(entries)
            for i, j in entries:
                gram[i][j] -= share
    return SumOfSquares(tuple(gens), tuple(basis), tuple(tuple(row) for row in gram))
