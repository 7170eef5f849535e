"""Linear self-attention on in-context regression: the exact risk and dynamics against
Monte Carlo, and a real SGD run against them."""

import numpy as np
import numpyro.distributions as dist
import pytest

import basinlab as bl
from basinlab.simulations import calibrate
from basinlab.simulations.training import compare_with_theory, exact_risk, linear_attention_run


def monte_carlo_risk(gamma, spectrum, prompt_length, count=200_000, seed=0):
    """The squared error of x^T Gamma (1/N) sum y_i x_i, sampled prompt by prompt."""
    rng = np.random.default_rng(seed)
    dim = len(spectrum)
    root = np.sqrt(np.asarray(spectrum))
    w = rng.standard_normal((count, dim))
    xs = rng.standard_normal((count, prompt_length, dim)) * root
    query = rng.standard_normal((count, dim)) * root
    summary = np.einsum("bnd,bn->bd", xs, np.einsum("bnd,bd->bn", xs, w)) / prompt_length
    errors = (np.einsum("bi,ij,bj->b", query, gamma, summary) - np.sum(query * w, 1)) ** 2
    return errors.mean(), errors.std() / np.sqrt(count)


@pytest.mark.parametrize("u", [0.0, 1.0, 3.0, 6.0])
def test_isotropic_risk_matches_monte_carlo(u):
    dim, length = 4, 10
    mean, sem = monte_carlo_risk(u * np.eye(dim), np.full(dim, 1 / dim), length, 50_000)
    c = bl.models.attention_loss_coefficient(dim, length)
    assert abs(mean - (1 - 2 * u / dim + c * u**2)) < 4 * sem


def test_anisotropic_minimum_and_exact_risk_match_monte_carlo():
    spectrum, length = np.array([0.5, 0.3, 0.2]), 8
    second = (1 + 1 / length) * spectrum**2 + spectrum.sum() * spectrum / length
    optimum = np.diag(spectrum / second)
    mean, sem = monte_carlo_risk(optimum, spectrum, length)
    assert abs(mean - bl.models.anisotropic_minimum_risk(spectrum, length)) < 4 * sem
    other = optimum + 0.3 * np.random.default_rng(1).standard_normal((3, 3))
    mean, sem = monte_carlo_risk(other, spectrum, length, seed=2)
    assert abs(mean - float(exact_risk(other, spectrum, length))) < 4 * sem
    assert mean > bl.models.anisotropic_minimum_risk(spectrum, length) + 10 * sem


def test_the_balanced_flow_is_the_logistic_curve():
    dim, length, kappa, u0 = 5, 20, 0.7, 0.01
    model = bl.models.linear_attention(dim, length, kappa)
    times = np.linspace(0, 40, 41)
    path = bl.trajectories(model, [[np.sqrt(u0), np.sqrt(u0)]], times, rtol=1e-10, atol=1e-12)
    star, least = bl.models.attention_minimum(dim, length)
    logistic = star / (1 + (star / u0 - 1) * np.exp(-4 * kappa * times / dim))
    np.testing.assert_allclose(path["u"].values[0], logistic, rtol=1e-6)
    assert path["risk"].values[0, -1] == pytest.approx(least, abs=1e-6)


def test_a_real_isotropic_run_follows_the_theory_and_calibrates_n():
    run = linear_attention_run(dim=5, prompt_length=20, t1=40.0, log_points=41, progress=False)
    comparison = compare_with_theory(run)
    assert comparison.attrs["solved"] and comparison.attrs["risk_max_gap"] < 0.02
    least = bl.models.attention_minimum(5, 20)[1]
    assert run["risk"].values[-1] == pytest.approx(least, abs=0.01)
    assert run["risk"].values[0] > 0.99
    idata = calibrate(
        bl.models.linear_attention(5, 20, kappa=run.attrs["kappa"]),
        run,
        {"N": dist.Uniform(5.0, 80.0), "noise": dist.HalfNormal(0.05)},
        observed=["risk"],
        # The sizes of notebook 10's fast run: one compiled sampler serves both.
        num_warmup=100,
        num_samples=100,
        basin_draws=10,
        progress=False,
    )
    draws = idata.posterior["N"].values.ravel()
    assert abs(np.median(draws) - 20) < 3


def test_rank_one_heads_step_down_the_plateaus_in_order():
    spectrum = [0.6, 0.25, 0.15]
    run = linear_attention_run(
        dim=3,
        prompt_length=20,
        spectrum=spectrum,
        heads=3,
        init_scale=0.02,
        t1=600.0,
        learning_rate=0.25,
        log_points=241,
        progress=False,
    )
    comparison = compare_with_theory(run)
    plateaus = comparison["plateau_loss"].values
    np.testing.assert_allclose(plateaus, bl.models.plateau_losses(spectrum, 20))
    assert np.all(comparison["plateau_gap"].values[:3] < 0.01)
    risk = run["risk"].values
    first_visits = [np.argmax(np.abs(risk - level) < 0.01) for level in plateaus[:3]]
    assert first_visits == sorted(first_visits) and len(set(first_visits)) == 3


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: bl.models.plateau_losses([0.5, -0.1], 10), "eigenvalues must be positive"),
        (lambda: bl.models.plateau_losses([], 10), "non-empty"),
        (lambda: bl.models.attention_minimum(0, 10), "dim must be a positive integer"),
        (lambda: bl.models.linear_attention(kappa=0.0), "kappa must be a positive"),
        (lambda: linear_attention_run(dim=3, spectrum=[1.0, 2.0], progress=False), "dim = 3"),
        (lambda: linear_attention_run(heads=0, progress=False), "heads must be a positive"),
        (lambda: linear_attention_run(log_points=1, progress=False), "log_points must be"),
    ],
)
def test_bad_linear_attention_input_is_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call()
