"""Lyapunov spectra by the QR method against the published values and against the
exact sum (the mean trace of the Jacobian, or log|det J| for a map)."""

import math

import numpy as np
import pytest
import sympy as sp

import basinlab as bl


def _lorenz():
    x, y, z = sp.symbols("x y z", real=True)
    sigma, rho, beta = sp.symbols("sigma rho beta", positive=True)
    field = [sigma * (y - x), x * (rho - z) - y, x * y - beta * z]
    return bl.Model("lorenz", [x, y, z], field, params={sigma: 10, rho: 28, beta: 8 / 3})


def _henon():
    x, y = sp.symbols("x y", real=True)
    a, b = sp.symbols("a b", real=True)
    return bl.Model("henon", [x, y], [1 - a * x**2 + y, b * x], params={a: 1.4, b: 0.3}, kind="map")


def test_the_lorenz_spectrum_is_the_published_one_and_sums_to_the_trace():
    # lambda_1 = 0.9056, lambda_2 = 0, lambda_3 = -14.5723 (Sprott, "Chaos and Time-Series
    # Analysis", 2003, table of exponents); the sum is -(sigma + 1 + beta) exactly.
    spectrum = bl.lyapunov_spectrum(_lorenz(), [1.0, 1.0, 1.0], t1=300.0, transient=20.0)
    first, second, third = spectrum["exponent"].values
    assert first == pytest.approx(0.9056, abs=0.04)
    assert second == pytest.approx(0.0, abs=0.02)
    assert third == pytest.approx(-14.5723, abs=0.05)
    assert first + second + third == pytest.approx(-(10 + 1 + 8 / 3), rel=1e-4)


def test_the_henon_spectrum_is_the_published_one_and_sums_to_log_det():
    # lambda_1 = 0.4192 (Sprott 2003); lambda_1 + lambda_2 = log|det J| = log b exactly.
    spectrum = bl.lyapunov_spectrum(_henon(), [0.1, 0.1], steps=20_000)
    first, second = spectrum["exponent"].values
    assert first == pytest.approx(0.4192, abs=0.01)
    assert first + second == pytest.approx(math.log(0.3), abs=1e-9)


def test_a_stable_fixed_point_has_its_eigenvalues_as_exponents():
    a, c = sp.symbols("a c", real=True)
    model = bl.Model("linear", [a, c], [-a, -3 * c + a])
    # The eigenvalues -1 and -3; their directions are not orthogonal, and the finite
    # average converges as 1/t1.
    spectrum = bl.lyapunov_spectrum(model, [1.0, 1.0], t1=40.0, transient=0.0)
    assert spectrum["exponent"].values == pytest.approx([-1.0, -3.0], abs=0.05)
    np.testing.assert_allclose(spectrum["y_end"].values, 0.0, atol=1e-8)


def test_the_largest_exponent_alone_is_found_where_the_axes_are_invariant():
    a, c = sp.symbols("a c", real=True)
    # Decoupled: a tangent vector started on the a axis would stay there and give -3.
    model = bl.Model("decoupled", [a, c], [-3 * a, -c])
    spectrum = bl.lyapunov_spectrum(model, [1.0, 1.0], exponents=1, t1=40.0, transient=0.0)
    assert spectrum["exponent"].values == pytest.approx([-1.0], abs=0.05)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(y0=[1.0, 1.0]), "y0 must be 3 finite numbers"),
        (dict(y0=[1.0, 1.0, np.nan]), "finite numbers"),
        (dict(exponents=4), r"exponents must lie in \[1, 3\]"),
        (dict(interval=0.001, dt=0.01), "interval"),
        (dict(t1=-1.0), "t1"),
    ],
)
def test_bad_spectra_are_refused(kwargs, match):
    arguments = dict(y0=[1.0, 1.0, 1.0], t1=2.0, transient=0.0) | kwargs
    y0 = arguments.pop("y0")
    with pytest.raises(ValueError, match=match):
        bl.lyapunov_spectrum(_lorenz(), y0, **arguments)
