"""Iterated retraining of a Gaussian: the exact moments against Monte Carlo."""

import numpy as np
import pytest
import sympy as sp

import basinlab as bl
from basinlab.simulations import gaussian_refit
from basinlab.theory import (
    collapse_factor,
    log_variance_drift,
    refit_expectations,
    second_moment_recursion,
    stationary_moments,
)


def _within(samples: np.ndarray, expected: float, sigmas: float = 4.0) -> bool:
    error = samples.std(ddof=1) / np.sqrt(samples.size)
    return abs(samples.mean() - expected) < sigmas * error


@pytest.mark.parametrize("fresh", [0, 3, 10])
def test_one_refit_matches_its_exact_expectations(fresh):
    start = (0.5, 2.0)
    runs = gaussian_refit(10, fresh, steps=1, n=200_000, seed=1, start=start)
    mean, variance = runs["mean"].values[:, 1], runs["variance"].values[:, 1]
    expected_mean, expected_variance = refit_expectations(10, fresh, *start)
    assert _within(mean, float(expected_mean))
    assert _within(variance, float(expected_variance))
    matrix, offset = second_moment_recursion(10, fresh)
    squared = matrix * sp.Matrix([start[0] ** 2, start[1]]) + offset
    assert _within(mean**2, float(squared[0]))


def test_without_fresh_data_the_variance_collapses_at_the_exact_rates():
    runs = gaussian_refit(10, 0, steps=40, n=20_000, seed=2)
    variance = runs["variance"].values
    for generation in (1, 10, 40):
        assert _within(np.sqrt(variance[:, generation]), float(collapse_factor(10)) ** generation)
        assert _within(np.log(variance[:, generation]), generation * float(log_variance_drift(10)))
    assert _within(variance[:, 1], 1.0)  # a martingale: the mean variance is kept
    assert np.median(variance[:, 40]) < 0.2  # while typical runs have collapsed


def test_fresh_data_holds_the_moments_at_the_exact_stationary_point():
    runs = gaussian_refit(10, 2, steps=200, n=8000, seed=3, start=(1.0, 0.2))
    squared, variance = stationary_moments(10, 2)
    assert (squared, variance) == (sp.Rational(9, 26), sp.Rational(17, 13))
    assert _within(runs["mean"].values[:, -1] ** 2, float(squared))
    assert _within(runs["variance"].values[:, -1], float(variance))


def test_the_moment_map_attracts_every_start_to_the_real_moments():
    model = bl.models.retraining_moments(fresh_share=0.2, samples=10)
    (point,) = bl.fixed_points(model)
    assert point.location == (0, 1) and point.kind == bl.theory.STABLE_NODE
    assert np.allclose(point.eigenvalues, [0.8, 0.8])
    starts = np.array([[-1.5, 0.1], [1.9, 2.9], [0.0, 0.0]])
    final = bl.integrate(model, starts, progress=False)
    assert np.allclose(final["y_final"].values, [0.0, 1.0], atol=1e-4)


def test_runs_are_reproducible_for_a_seed():
    first = gaussian_refit(5, 1, steps=3, n=7, seed=11)
    second = gaussian_refit(5, 1, steps=3, n=7, seed=11)
    assert np.array_equal(first["variance"].values, second["variance"].values)
    other = gaussian_refit(5, 1, steps=3, n=7, seed=12)
    assert not np.array_equal(first["variance"].values, other["variance"].values)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: gaussian_refit(1), "samples must be"),
        (lambda: gaussian_refit(5, 6), "fresh (6) cannot exceed samples (5)"),
        (lambda: gaussian_refit(5, -1), "fresh must be"),
        (lambda: gaussian_refit(5, start=(0.0, 0.0)), "the start variance"),
        (lambda: gaussian_refit(5, start=(np.nan, 1.0)), "the start mean must be finite"),
        (lambda: gaussian_refit(5, steps=0), "steps must be"),
        (lambda: stationary_moments(5, 0), "the variance collapses"),
    ],
)
def test_retraining_bad_input(call, message):
    with pytest.raises(ValueError) as raised:
        call()
    assert message in str(raised.value)
