"""Early-warning signals: the Lyapunov-equation covariance against long SDE runs, and the
signals and their warning horizon before an exact fold and transcritical point."""

import numpy as np
import pytest
import sympy as sp

import basinlab as bl
from basinlab.simulations.training import noisy_reward_sgd

QUIET = bl.NoiseSettings(dt=0.01, brownian="increments")


def _noisy(model, amplitude):
    return model.with_noise(bl.Noise.diagonal([amplitude] * model.dim))


def test_one_dimensional_fold_has_the_textbook_variance_and_autocorrelation():
    # x' = mu - x^2 + g xi at x* = sqrt(mu): J = -2 sqrt(mu), Sigma = g^2 / (4 sqrt(mu)),
    # rho(tau) = exp(-2 sqrt(mu) tau).
    x, mu = sp.symbols("x mu", real=True)
    model = bl.Model(
        "fold", [x], [mu - x**2], {mu: 1.0}, noise=bl.Noise.diagonal([sp.Rational(1, 5)])
    )
    for value in (sp.Rational(1, 4), sp.Rational(9, 16), 4):
        root = sp.sqrt(value)
        covariance = bl.stationary_covariance(model, [root], params={"mu": value})
        assert sp.simplify(covariance[0, 0] - sp.Rational(1, 25) / (4 * root)) == 0
        rho = bl.stationary_autocorrelation(model, [root], 0.7, params={"mu": value})
        assert rho[0] == pytest.approx(float(sp.exp(-2 * root * sp.Rational(7, 10))), rel=1e-12)
    with pytest.raises(ValueError, match="not a stable point"):
        bl.stationary_covariance(model, [-1], params={"mu": 1})
    with pytest.raises(ValueError, match="no noise"):
        bl.stationary_covariance(model.with_noise(None), [1])


@pytest.fixture(scope="module")
def tilted_runs():
    """Long runs of the tilted well at two biases before its fold (2 sqrt 3 / 9)."""
    model = _noisy(bl.models.alignment_tilted_well(), sp.Rational(1, 20))
    start = [
        q for q in bl.fixed_points(model, params={"bias": 0.0}) if q.stable and q.numeric[0] > 0
    ]
    return bl.early_warning(
        model,
        "bias",
        [0.2, 0.3],
        attractor=start[0].numeric,
        reference=0.0,
        n=16,
        t1=1000.0,
        interval=0.5,
        settings=QUIET,
    )


def test_the_lyapunov_covariance_matches_long_sde_runs(tilted_runs):
    result = tilted_runs
    assert result.attrs["bifurcation_kind"] == "fold"
    assert result.attrs["bifurcation"] == pytest.approx(2 * np.sqrt(3) / 9, rel=1e-12)
    for value in result.value.values:
        here = result.sel(value=value)
        predicted, measured = here.predicted_covariance.values, here.measured_covariance.values
        # 16 runs of 2000 samples, decorrelating in about 2-3 time units: 1-2% errors.
        assert np.allclose(measured, predicted, rtol=0.06), (value, measured, predicted)
        runs = here.autocorrelation.values
        spread = np.std(runs, ddof=1) / np.sqrt(len(runs))
        bias = (1 + 4 * float(here.predicted_autocorrelation)) / 2000  # Kendall 1954
        assert abs(np.mean(runs) + bias - float(here.predicted_autocorrelation)) < 4 * spread
    # Critical slowing down: both grow towards the fold.
    assert np.all(np.diff(result.predicted_variance.values) > 0)
    assert np.all(np.diff(result.predicted_autocorrelation.values) > 0)
    assert np.all(np.diff(result.eigenvalue.values) > 0)


def test_signals_before_a_transcritical_point_and_their_horizon():
    model = _noisy(bl.models.alignment_double_well(), sp.Rational(1, 40))
    start = [
        q for q in bl.fixed_points(model, params={"bias": 0.0}) if q.stable and q.numeric[0] > 0
    ]
    values = [0.5, 0.7, 0.8, 0.85, 0.9]
    result = bl.early_warning(
        model,
        "bias",
        values,
        attractor=start[0].numeric,
        reference=0.0,
        n=40,
        t1=50.0,
        settings=QUIET,
    )
    assert result.attrs["bifurcation_kind"] == "transcritical"
    assert result.attrs["bifurcation"] == 1.0
    assert np.allclose(result.distance.values, 1 - np.array(values))
    auc = result.auc_autocorrelation.values
    # The signal is told apart better the closer the parameter is to the bifurcation.
    assert auc[-1] > 0.9 and auc[-1] > auc[0]
    # Near the point runs go over the approaching saddle, and are left out.
    assert result.tipped.values[0] == 0 and 0 < result.tipped.values[-1] < 1
    horizon = result.attrs["horizon_autocorrelation"]
    closer = result.distance.values <= horizon + 1e-12
    assert 0 < horizon < 0.5 and np.all(auc[closer] >= 0.9)


def test_bad_input_to_early_warning_is_refused():
    model = _noisy(bl.models.alignment_tilted_well(), sp.Rational(1, 20))
    start = (0.9, 1.9)
    with pytest.raises(ValueError, match="has none"):
        bl.early_warning(
            bl.models.alignment_tilted_well(), "bias", [0.1], attractor=start, reference=0.0
        )
    with pytest.raises(ValueError, match="no fold, transcritical or pitchfork"):
        bl.early_warning(model, "bias", [-0.1], attractor=start, reference=0.2)
    with pytest.raises(ValueError, match=r"gone|no stable point"):
        bl.early_warning(model, "bias", [0.2, 0.5], attractor=start, reference=0.0)
    with pytest.raises(ValueError, match="must not contain the reference"):
        bl.early_warning(model, "bias", [0.0, 0.2], attractor=start, reference=0.0)
    with pytest.raises(ValueError, match="t1"):
        bl.early_warning(model, "bias", [0.2], attractor=start, reference=0.0, t1=1.0)


def test_real_sgd_runs_show_the_predicted_signals():
    # Minibatch SGD on noisy reward labels; its SDE (the tilted well with the data's
    # gradient covariance times eta/B) predicts the logged alignment's statistics.
    values = [0.0, 0.25, 0.36]
    runs, model = noisy_reward_sgd(
        values, start=(0.9, 1.9), n=24, steps=30_000, log_every=100, seed=1
    )
    settled = runs.time.values > 50
    paths = {v: runs.state.sel(value=v, name="a").values[:, settled] for v in values}
    result = bl.early_warning(
        model,
        "bias",
        values[1:],
        attractor=(0.9, 1.9),
        reference=0.0,
        observable="a",
        interval=1.0,
        paths=paths,
    )
    samples = int(settled.sum())
    for value in result.value.values:
        here = result.sel(value=value)
        variance, rho = here.variance.values, here.autocorrelation.values
        assert abs(np.mean(variance) / float(here.predicted_variance) - 1) < 0.15
        bias = (1 + 4 * float(here.predicted_autocorrelation)) / samples
        error = np.std(rho, ddof=1) / np.sqrt(len(rho))
        assert abs(np.mean(rho) + bias - float(here.predicted_autocorrelation)) < 4 * error
    assert result.auc_autocorrelation.values[-1] > 0.9
    with pytest.raises(ValueError, match="name the observable"):
        bl.early_warning(
            model, "bias", values[1:], attractor=(0.9, 1.9), reference=0.0, paths=paths
        )
