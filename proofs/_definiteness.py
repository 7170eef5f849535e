"""Exact definiteness: PSD rational matrices, and the inertia of symmetric matrices."""

from __future__ import annotations

import itertools
from fractions import Fraction

import sympy as sp

from ..theory._values import symbolic_value
from ._claim import CertificateFailed


def exact_sign(value: sp.Expr, what: str) -> int:
    """The exact sign of a real number given in closed form."""
    value = symbolic_value(value, what)
    value = sp.nsimplify(value) if isinstance(value, sp.Float) else value
    for candidate in (value, sp.simplify(value)):
        if candidate.is_zero:
            return 0
        if candidate.is_positive:
            return 1
        if candidate.is_negative:
            return -1
    raise CertificateFailed(f"cannot decide the sign of {what} = {value} exactly")


def rational_psd_failure(matrix: list[list[Fraction]]) -> str | None:
    """Why a symmetric rational matrix is not positive semidefinite, or `None` if it is.

    Symmetric Gaussian elimination with diagonal pivoting, in exact rational arithmetic:
    a negative pivot, or a zero pivot with a non-zero row, shows a direction of negative
    curvature; reaching the end shows $A = L D L^\\top$ with $D \\ge 0$.
    """
    a = [list(map(Fraction, row)) for row in matrix]
    n = len(a)
    if any(len(row) != n for row in a):
        return "the matrix is not square"
    if any(a[i][j] != a[j][i] for i in range(n) for j in range(i)):
        return "the matrix is not symmetric"
    remaining = list(range(n))
    while remaining:
        pivot = max(remaining, key=lambda i: a[i][i])
        if a[pivot][pivot] < 0:
            return f"a negative pivot {a[pivot][pivot]} at index {pivot}"
        others = [j for j in remaining if j != pivot]
        if a[pivot][pivot] == 0:
            if any(a[pivot][j] != 0 for j in others):
                return f"a zero pivot with a non-zero row at index {pivot}"
            remaining = others
            continue
        for i in others:
            factor = a[i][pivot] / a[pivot][pivot]
            if factor:
                for j in others:
                    a[i][j] -= factor * a[pivot][j]
        remaining = others
    return None


def inertia(matrix: sp.Matrix) -> tuple[int, int, int]:
    r"""The numbers of positive, zero and negative eigenvalues of a symmetric matrix.

    The eigenvalues of a real symmetric matrix are real, so Descartes' rule of signs is
    exact for its characteristic polynomial: the number of positive roots equals the
    number of sign changes of the coefficients, and the multiplicity of the root 0 is
    the lowest power with a non-zero coefficient.

    **Raises:**

    - `CertificateFailed`: the matrix is not symmetric, or the sign of a coefficient
      cannot be decided exactly.
    """
    matrix = sp.Matrix(matrix)
    if matrix.shape[0] != matrix.shape[1] or (matrix - matrix.T).applyfunc(sp.simplify) != (
        sp.zeros(*matrix.shape)
    ):
        raise CertificateFailed("the inertia needs a symmetric matrix")
    coefficients = matrix.charpoly().all_coeffs()[::-1]
    signs = [
        exact_sign(c, f"coefficient {k} of the characteristic polynomial")
        for k, c in enumerate(coefficients)
    ]
    zero = next(k for k, s in enumerate(signs) if s != 0)
    nonzero = [s for s in signs if s != 0]
    positive = sum(1 for s, t in itertools.pairwise(nonzero) if s != t)
    return positive, zero, matrix.shape[0] - positive - zero
