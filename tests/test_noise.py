"""SDE models: escape times against the exact 1-D quadrature and the Eyring–Kramers
law, SGD noise against its stationary closed form, reproducibility, and the
transition and tipping matrices."""

import math
import textwrap

import diffrax as dfx
import hypothesis
import hypothesis.strategies as st
import jax.numpy as jnp
import numpy as np
import numpyro.distributions as dist
import pytest
import scipy.integrate
import sympy as sp
from _command_line import product_compiler, run_python

import basinlab as bl
from basinlab.simulations import NoiseSettings
from basinlab.simulations._noise._escape import kaplan_meier

x, y = sp.symbols("x y", real=True)
QUARTIC = (x**2 - 1) ** 2 / 4  # minima at -1 and 1, saddle at 0, barrier 1/4
FAST = NoiseSettings(brownian="increments")


def well(temperature):
    return bl.Model.gradient_flow(
        QUARTIC, [x], name="quartic", noise=bl.Noise.isotropic(temperature, 1)
    )


def test_kramers_barrier_and_prefactor_are_exact():
    model = well(sp.Rational(1, 10))
    rate = bl.eyring_kramers(model, [-1], [0], 0.1)
    # L''(-1) = 2, L''(0) = -1: prefactor |-1| / (2 pi) * sqrt(2 / 1).
    assert sp.simplify(rate.barrier - sp.Rational(1, 4)) == 0
    assert sp.simplify(rate.prefactor - sp.sqrt(2) / (2 * sp.pi)) == 0
    assert math.isclose(rate.rate, math.sqrt(2) / (2 * math.pi) * math.exp(-2.5), rel_tol=1e-12)


def test_kramers_in_two_dimensions_uses_the_hessian_determinants():
    model = bl.models.alignment_double_well()
    saddle = (sp.Rational(1, 5), sp.Rational(6, 5))
    rate = bl.eyring_kramers(model, (1, 2), saddle, 0.05, params={"bias": 0.2})
    assert rate.barrier == sp.Rational(4, 5) ** 3 * sp.Rational(16, 5) / 12
    # H(min) = [[13/5, -1], [-1, 1]], H(saddle) = [[1/25, -1], [-1, 1]], by hand.
    h_min = np.array([[2.6, -1.0], [-1.0, 1.0]])
    h_saddle = np.array([[0.04, -1.0], [-1.0, 1.0]])
    unstable = abs(np.linalg.eigvalsh(h_saddle)[0])
    expected = unstable / (2 * np.pi) * np.sqrt(np.linalg.det(h_min) / abs(np.linalg.det(h_saddle)))
    assert float(rate.prefactor) == pytest.approx(expected, rel=1e-12)


def test_exact_first_passage_time_matches_an_independent_double_integral():
    temperature, target = 0.1, 0.75
    model = well(temperature)
    grid = np.linspace(-4.0, target, 200_001)
    loss = (grid**2 - 1) ** 2 / 4
    inner = scipy.integrate.cumulative_trapezoid(np.exp(-loss / temperature), grid, initial=0)
    integrand = np.exp(loss / temperature) * inner / temperature
    mask = grid >= -1
    independent = scipy.integrate.trapezoid(integrand[mask], grid[mask])
    exact = bl.exact_mean_first_passage_time(model, -1.0, target, temperature)
    assert math.isclose(exact, independent, rel_tol=1e-4)


def test_kramers_is_asymptotic_in_the_barrier_over_the_temperature():
    model = well(sp.Rational(1, 10))
    errors = []
    for temperature in (0.1, 0.025, 0.0125):
        exact = bl.exact_mean_first_passage_time(model, -1.0, 1.0, temperature)
        errors.append(exact / bl.eyring_kramers(model, [-1], [0], temperature).mean_time - 1)
    assert errors[0] > 0.2  # at barrier / D = 2.5 Kramers is more than 20% off
    assert errors[0] > errors[1] > errors[2] > 0
    assert errors[2] < 0.03


@pytest.mark.parametrize(
    "settings",
    [pytest.param(NoiseSettings(), marks=pytest.mark.slow), FAST],
    ids=["tree", "increments"],
)
def test_escape_times_match_the_exact_quadrature(settings):
    temperature = 0.2  # barrier / D = 1.25: escapes within tens of time units
    result = bl.escape_times(
        well(temperature),
        [-1.0],
        n=1000 if settings is FAST else 100,
        t1=3000,
        seed=2,
        settings=settings,
        confidence=0.99,
        progress=False,
    )
    assert result.attrs["escaped"] == result.sizes["run"]
    target = 1 - float(result.target_radius[0])
    exact = bl.exact_mean_first_passage_time(well(temperature), -1.0, target, temperature)
    assert result.attrs["mean_time_low"] < exact < result.attrs["mean_time_high"]
    assert np.all(result.survival.diff("survival_time") <= 0)


def test_escape_over_a_two_dimensional_saddle_follows_eyring_kramers():
    temperature = 0.05  # barrier 1/4: barrier / D = 5
    base = bl.models.alignment_double_well(bias=0.0)
    model = base.with_noise(bl.Noise.isotropic(temperature, 2))
    points = bl.fixed_points(model)
    minimum = next(q for q in points if q.stable and q.numeric[0] < 0)
    saddle = next(q for q in points if q.kind == bl.theory.SADDLE)
    law = bl.eyring_kramers(model, minimum, saddle, temperature)
    assert law.barrier_over_temperature == pytest.approx(5.0)
    result = bl.escape_times(
        model,
        minimum,
        n=400,
        t1=30_000,
        seed=3,
        confidence=0.99,
        progress=False,
        settings=NoiseSettings(brownian="increments", dt=0.05),
    )
    # Kramers is asymptotic: its relative error at this barrier / D, for the same
    # quartic barrier in 1-D, is computed exactly; allow twice that beyond the interval.
    quartic = well(temperature)
    exact_1d = bl.exact_mean_first_passage_time(quartic, -1.0, 1.0, temperature)
    correction = exact_1d / bl.eyring_kramers(quartic, [-1], [0], temperature).mean_time - 1
    assert 0 < correction < 0.15
    low, high = result.attrs["mean_time_low"], result.attrs["mean_time_high"]
    assert low < law.mean_time * (1 + 2 * correction) and high > law.mean_time


def test_sgd_noise_spreads_evenly_around_a_minimum_whatever_its_curvature():
    # dx = -H x dt + sqrt(eta H / B) dW has stationary covariance (eta / 2B) I, so the
    # expected excess loss tr(H) eta / 4B grows with sharpness (Zhu et al. 2019).
    rate = sp.Rational(1, 50)
    loss = (x**2 + 4 * y**2) / 2
    flow = bl.Model.gradient_flow(loss, [x, y], name="bowl")
    model = flow.with_noise(bl.Noise.sgd(flow.loss, flow.state, rate, 1))
    start = dist.Normal(jnp.zeros(2), 1e-3 * jnp.ones(2))
    result = bl.transition_probabilities(
        model, start, t1=20.0, n=4000, seed=0, noise_settings=FAST, progress=False
    )
    covariance = np.cov(result["y_end"].values.T)
    expected = float(rate) / 2
    assert np.allclose(np.diag(covariance), expected, rtol=0.1)
    assert abs(covariance[0, 1]) < 0.1 * expected


def test_sgd_noise_orders_escapes_by_the_quasi_potential_not_by_curvature_alone():
    # Minima at -1 (curvature 2) and 1 (curvature 4), both at loss 0.
    loss = (x**2 - 1) ** 2 * (1 + x / 2 + x**2 / 2) / 4
    flow = bl.Model.gradient_flow(loss, [x], name="two_wells")
    saddle = next(q for q in bl.fixed_points(flow) if not q.stable).numeric[0]
    rate, floor = sp.Rational(3, 20), sp.Rational(3, 2)
    sgd = flow.with_noise(bl.Noise.sgd(flow.loss, flow.state, rate, 1, floor=floor))
    # Small-noise exponent of a 1-D diffusion: the quasi-potential int 2 L' / Sigma.
    slope = sp.lambdify(x, sp.diff(loss, x) / (float(rate) * (sp.diff(loss, x, 2) + floor)))
    quasi = {
        -1.0: 2 * scipy.integrate.quad(slope, -1, saddle)[0],
        1.0: -2 * scipy.integrate.quad(slope, saddle, 1)[0],
    }
    times = {
        start: bl.escape_times(
            sgd, [start], n=300, t1=3000, seed=0, settings=FAST, progress=False
        ).attrs
        for start in (-1.0, 1.0)
    }
    easier = min(quasi, key=quasi.get)
    harder = max(quasi, key=quasi.get)
    assert times[easier]["mean_time_high"] < times[harder]["mean_time_low"]


# Bitwise equality across batch sizes is a property of XLA's code generation, so it is
# checked with the compiler the product runs with, not the suite's quicker one.
_SEED_AND_BATCHING = textwrap.dedent(
    """
    import numpy as np
    import sympy as sp

    import basinlab as bl
    from basinlab.simulations import NoiseSettings

    x = sp.Symbol("x")
    well = bl.Model.gradient_flow(
        (x**2 - 1) ** 2 / 4, [x], name="quartic", noise=bl.Noise.isotropic(0.1, 1)
    )
    runs = [
        bl.escape_times(
            well,
            [-1.0],
            n=100,
            t1=400,
            seed=7,
            progress=False,
            settings=NoiseSettings(brownian="increments", batch_size=size),
        )
        for size in (128, 16)
    ]
    assert np.array_equal(runs[0].time.values, runs[1].time.values)
    fast = NoiseSettings(brownian="increments")
    other = bl.escape_times(well, [-1.0], n=120, t1=200, seed=8, progress=False, settings=fast)
    assert not np.array_equal(runs[0].time.values, other.time.values)
    """
)


def test_noise_runs_are_bit_identical_for_a_seed_and_independent_of_batching():
    done = run_python(_SEED_AND_BATCHING, env=product_compiler())
    assert done.returncode == 0, done.stderr[-3000:]


def test_transition_matrix_rows_are_distributions_with_intervals():
    model = bl.models.alignment_double_well(bias=0.0).with_noise(bl.Noise.isotropic(0.1, 2))
    start = dist.Normal(jnp.zeros(2), 1.5 * jnp.ones(2))
    result = bl.transition_probabilities(
        model, start, t1=30.0, n=600, seed=1, noise_settings=FAST, progress=False
    )
    filled = result.start_count.values > 0
    assert np.allclose(result.probability.values[filled].sum(axis=1), 1.0)
    low, high = result.probability_low.values[filled], result.probability_high.values[filled]
    assert np.all(low <= result.probability.values[filled])
    assert np.all(result.probability.values[filled] <= high)
    assert np.all(np.isnan(result.probability.values[~filled]))
    # Noise moves runs between the two wells in both directions.
    assert result["count"].values[0, 1] > 0 and result["count"].values[1, 0] > 0


def test_tipping_probabilities_count_runs_that_change_basin():
    start = dist.Normal(jnp.zeros(2), 1.5 * jnp.ones(2))
    before = bl.basin_fractions(
        bl.models.alignment_double_well(bias=0.0), start, n=500, progress=False
    )
    after = bl.basin_fractions(
        bl.models.alignment_double_well(bias=0.6), start, n=500, progress=False
    )
    tipping = bl.tipping_probabilities(before, after)
    # Counted directly: aligned before (a > 0 at the end), misaligned after.
    aligned_before = before["attractor_location"].values[before["label"].values, 0] > 0
    aligned_after = after["attractor_location"].values[after["label"].values, 0] > 0
    row = int(np.flatnonzero(before["attractor_location"].values[:, 0] > 0)[0])
    column = int(np.flatnonzero(after["attractor_location"].values[:, 0] < 0)[0])
    assert tipping["count"].values[row, column] == np.sum(aligned_before & ~aligned_after) > 0


def test_a_solver_can_be_chosen():
    result = bl.escape_times(
        well(0.1),
        [-1.0],
        n=50,
        t1=2000,
        seed=0,
        progress=False,
        settings=NoiseSettings(solver=dfx.Euler(), brownian="increments"),
    )
    assert result.attrs["solver"] == "Euler"


@hypothesis.given(
    times=st.lists(st.integers(1, 12), min_size=1, max_size=60),
    flags=st.lists(st.booleans(), min_size=60, max_size=60),
)
def test_kaplan_meier_is_the_product_limit_estimate(times, flags):
    # The product over escape times s of 1 - d(s)/r(s), written out: an independent check
    # of the SciPy-based estimator on tied and censored times.
    times = np.asarray(times, float)
    escaped = np.asarray(flags[: len(times)])
    steps, survival = kaplan_meier(times, escaped)
    expected_steps = np.unique(times[escaped])
    factors = [1 - np.sum((times == s) & escaped) / np.sum(times >= s) for s in expected_steps]
    np.testing.assert_array_equal(steps, expected_steps)
    np.testing.assert_allclose(survival, np.cumprod(factors), atol=1e-15)
