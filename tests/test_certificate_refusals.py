"""Every rejection branch of the exact certificates, exercised by certificates built
by hand. The optimisers never propose a bad certificate, so without these a check
that was skipped would pass every other test. Each case is a valid certificate
(which must verify) with one thing broken (which must be refused)."""

import dataclasses
from fractions import Fraction

import pytest
import sympy as sp

from basinlab.proofs import (
    BoxesExhausted,
    CertificateFailed,
    LyapunovCertificate,
    SublevelCertificate,
    SumOfSquares,
    prove_positive,
)

x, y = sp.symbols("x y", real=True)
z1, z2 = sp.symbols("z1 z2", real=True)
half, one = sp.Rational(1, 2), sp.Integer(1)

# L = (x^2 - 1)^2 / 4 + y^2 / 2: minima at (+-1, 0), a saddle at (0, 0) with L = 1/4.
LOSS = (x**2 - 1) ** 2 / 4 + y**2 / 2
VALID_SUBLEVEL = SublevelCertificate(
    state=(x, y),
    loss=LOSS,
    minimum=(one, sp.Integer(0)),
    box=((sp.Rational(1, 10), sp.Integer(2)), (-one, one)),
    level=sp.Rational(1, 5),
)


def test_the_valid_sublevel_certificate_verifies():
    assert "c = 1/5" in VALID_SUBLEVEL.verify()


@pytest.mark.parametrize(
    "change, message",
    [
        # A box that holds the saddle, with a level above the saddle's loss: the
        # sublevel set leaks out of the basin through the saddle.
        (
            dict(box=((-half, sp.Integer(2)), (-one, one)), level=sp.Rational(3, 10)),
            "the critical point (0, 0) in the box has L < c",
        ),
        # The other minimum inside the box, below the level.
        (dict(box=((-sp.Integer(2), sp.Integer(2)), (-one, one))), "in the box has L < c"),
        # A face on which L < c: at x = 1/2, L(1/2, 0) = 9/64 < 1/5.
        (dict(box=((half, sp.Integer(2)), (-one, one))), "low face x = 1/2"),
        (dict(level=sp.Integer(0)), "the level is not above the loss at the minimum"),
        (dict(minimum=(sp.Integer(-1), sp.Integer(0))), "is not inside the box"),
        (dict(minimum=(sp.Rational(11, 10), sp.Integer(0))), "is not a critical point"),
        (
            dict(loss=-LOSS + 1, level=sp.Integer(2)),
            "is not a strict minimum (Hessian inertia)",
        ),
    ],
)
def test_a_broken_sublevel_certificate_is_refused(change, message):
    broken = dataclasses.replace(VALID_SUBLEVEL, **change)
    with pytest.raises(CertificateFailed) as raised:
        broken.verify()
    assert message in str(raised.value)


def _sos(gens, basis, gram) -> SumOfSquares:
    return SumOfSquares(
        tuple(gens), tuple(basis), tuple(tuple(Fraction(v) for v in row) for row in gram)
    )


# dx/dt = -x, dy/dt = -y around 0, V = x^2 + y^2: -dV/dt = 2|z|^2, and with lambda = 0
# and eps = 1 the slack -dV/dt - eps |z|^2 = |z|^2 is a sum of squares.
VALID_LYAPUNOV = LyapunovCertificate(
    state=(x, y),
    shift=(z1, z2),
    centre=(sp.Integer(0), sp.Integer(0)),
    gram=sp.eye(2),
    level=one,
    solver_level=1.0,
    epsilon=one,
    multiplier=_sos((z1, z2), [(0, 0)], [[0]]),
    slack=_sos((z1, z2), [(1, 0), (0, 1)], [[1, 0], [0, 1]]),
    decay=2 * z1**2 + 2 * z2**2,
)


def test_the_valid_lyapunov_certificate_verifies():
    assert "lambda is SOS" in VALID_LYAPUNOV.verify()


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(gram=sp.diag(1, -1)), "P is not positive definite"),
        (dict(gram=sp.Matrix([[1, 1], [1, 1]])), "P is not positive definite"),
        # A Gram matrix perturbed in one entry no longer sums to the slack.
        (
            dict(slack=_sos((z1, z2), [(1, 0), (0, 1)], [[1 + Fraction(1, 10**6), 0], [0, 1]])),
            "the coefficients of z1**2 differ by -1/1000000",
        ),
        # A field that decays more slowly than the certificate says.
        (dict(decay=z1**2 + 2 * z2**2), "the coefficients of z1**2 differ by -1"),
        # A multiplier that is not a sum of squares: lambda = -1.
        (dict(multiplier=_sos((z1, z2), [(0, 0)], [[-1]])), "lambda: the Gram matrix is not PSD"),
    ],
)
def test_a_broken_lyapunov_certificate_is_refused(change, message):
    broken = dataclasses.replace(VALID_LYAPUNOV, **change)
    with pytest.raises(CertificateFailed) as raised:
        broken.verify()
    assert message in str(raised.value)


def test_a_gram_matrix_that_gives_the_right_polynomial_but_is_not_psd_is_refused():
    # x^2 = m' G m for m = (1, x, x^2) with G = [[0, 0, -1], [0, 3, 0], [-1, 0, 0]]:
    # the identity holds, but G has a zero diagonal entry beside a non-zero one.
    indefinite = _sos((x,), [(0,), (1,), (2,)], [[0, 0, -1], [0, 3, 0], [-1, 0, 0]])
    assert sp.expand(indefinite.expression() - x**2) == 0
    with pytest.raises(CertificateFailed, match="the Gram matrix is not PSD"):
        indefinite.verify(x**2, "x^2")
    assert "SOS" in _sos((x,), [(1,)], [[1]]).verify(x**2, "x^2")


def test_a_box_whose_interval_bound_fails_is_never_proved():
    box = [(sp.Integer(0), sp.Integer(1))]
    with pytest.raises(CertificateFailed, match="x - 1/2 > 0"):
        prove_positive(x - half, [x], box, "x - 1/2 > 0")
    # Negative only within 1e-6 of 1/3, where no box centre lands early: the branch
    # and bound runs out of boxes, which is not a proof either.
    thin = (x - sp.Rational(1, 3)) ** 2 - sp.Rational(1, 10**12)
    with pytest.raises((BoxesExhausted, CertificateFailed)):
        prove_positive(thin, [x], box, "thin", max_boxes=50)
    assert prove_positive(x + half, [x], box, "x + 1/2 > 0") >= 1
