"""Calibration with NumPyro: recovery of known parameters, failed solves, bad input."""

import warnings

import jax
import numpy as np
import numpyro.distributions as dist
import pytest
import xarray as xr
from _command_line import host_devices, run_python
from _readme import readme_arguments
from numpyro.infer.util import log_density

import basinlab as bl
from basinlab import _cli
from basinlab.simulations import SolverSettings, calibrate, plot_calibration
from basinlab.simulations._calibration._likelihood import Parametrisation, initial_state
from basinlab.simulations._calibration._observations import as_observations

with warnings.catch_warnings():
    warnings.simplefilter("ignore", FutureWarning)
    import arviz as az

WELL = bl.compile_model(bl.models.alignment_double_well())
TRUTH = {"bias": 0.2, "time_scale": 1.3, "noise": 0.02}
START = [0.4, 0.8]
TIMES = np.linspace(0.0, 4.0, 21)


def noisy_observations(truth=TRUTH, start=START, times=TIMES, seed=0):
    path = bl.trajectories(
        WELL, [start], truth["time_scale"] * times, params={"bias": truth["bias"]}
    )
    rng = np.random.default_rng(seed)
    y = path["y"].values[0] + truth["noise"] * rng.standard_normal((len(times), 2))
    return xr.Dataset(
        {"y": (("time", "state"), y)},
        coords={"time": times, "state": list(WELL.state_names)},
    )


PRIORS = {
    "bias": dist.Uniform(-0.8, 0.8),
    "time_scale": dist.LogNormal(0.0, 0.5),
    "noise": dist.HalfNormal(0.1),
}


@pytest.fixture(scope="module")
def recovery():
    return calibrate(WELL, noisy_observations(), PRIORS, y0=START, progress=False)


def test_truth_lies_in_the_90_percent_interval(recovery):
    for name, value in TRUTH.items():
        low, high = np.quantile(recovery.posterior[name].values, [0.05, 0.95])
        assert low < value < high, (name, low, high)


def test_default_settings_converge_without_divergences(recovery):
    assert recovery.diagnostics.attrs["divergences"] == 0
    assert int(recovery.sample_stats["diverging"].sum()) == 0
    assert float(recovery.diagnostics["r_hat"].max()) < 1.01
    # The diagnostics group agrees with ArviZ computed afresh.
    assert float(az.rhat(recovery)["bias"]) == pytest.approx(
        float(recovery.diagnostics["r_hat"].sel(parameter="bias"))
    )
    assert float(recovery.diagnostics["ess_bulk"].min()) > 200


def test_posterior_predictive_band_covers_the_data(recovery):
    band = recovery.posterior_predictive["a"].values.reshape(-1, 200)
    grid = recovery.posterior_predictive["prediction_time"].values
    low, high = np.nanquantile(band, [0.005, 0.995], axis=0)
    truth = bl.trajectories(WELL, [START], TRUTH["time_scale"] * grid, params={"bias": 0.2})
    curve = truth["y"].values[0, :, 0]
    assert np.all((low - 0.01 <= curve) & (curve <= high + 0.01))
    prior = recovery.prior_predictive["a"].values.reshape(-1, 200)
    assert np.nanstd(prior[:, -1]) > 5 * np.nanstd(band[:, -1])


def test_basin_probability_is_each_draw_pushed_to_its_attractor(recovery):
    basins = recovery.basins
    draws = basins["basin_draw"].values
    bias = recovery.posterior["bias"].values.reshape(-1)[draws]
    # Independently: the ensemble integrator, one draw at a time.
    aligned = [
        bool(
            bl.integrate(WELL, [START], params={"bias": float(b)}, progress=False)["y_final"][0, 0]
            > 0
        )
        for b in bias[:: max(1, len(bias) // 40)]
    ]
    expected = np.mean(aligned)
    assert float(basins["probability"].sel(outcome="aligned")) == pytest.approx(expected, abs=0.05)
    assert float(basins["probability"].sel(outcome="DIVERGED")) == 0.0


def test_uncertain_start_gives_a_probability_between_basins():
    # Observed briefly near the saddle at a = bias, with noise: either side is possible.
    truth = {"bias": 0.2, "time_scale": 1.0, "noise": 0.05}
    data = noisy_observations(truth, start=[0.21, 1.2], times=np.linspace(0, 0.5, 6))
    idata = calibrate(
        WELL,
        data,
        {"a(0)": dist.Normal(0.2, 0.05), "noise": dist.HalfNormal(0.1)},
        y0={"c": 1.2},
        params={"bias": 0.2},
        num_warmup=200,
        num_samples=200,
        progress=False,
    )
    p = float(idata.basins["probability"].sel(outcome="aligned"))
    start = idata.posterior["a(0)"].values.reshape(-1)[idata.basins["basin_draw"].values]
    holds = idata.basins["holds"].values[:, 0]
    assert 0.05 < p < 0.95
    # Draws that start right of the stable manifold end aligned, and conversely.
    assert np.mean(start[holds]) > np.mean(start[~holds])


def test_same_seed_same_draws():
    data = noisy_observations()
    kwargs = dict(y0=START, num_warmup=50, num_samples=50, num_chains=1, progress=False)
    one = calibrate(WELL, data, PRIORS, seed=7, **kwargs)
    two = calibrate(WELL, data, PRIORS, seed=7, **kwargs)
    other = calibrate(WELL, data, PRIORS, seed=8, **kwargs)
    for name in PRIORS:
        np.testing.assert_array_equal(one.posterior[name].values, two.posterior[name].values)
    # One chain, or one CPU device (as here): the chains run one after another.
    assert one.posterior.attrs["chain_method"] == "sequential"
    assert not np.array_equal(one.posterior["bias"].values, other.posterior["bias"].values)


def test_failed_solve_has_log_likelihood_minus_infinity():
    data = noisy_observations()
    observations = as_observations(WELL, data)
    tight = SolverSettings(max_steps=8)
    setup = Parametrisation(
        WELL,
        tight,
        observations.state_columns,
        observations.observable_columns,
        np.asarray(WELL.param_vector()),
        np.array(START),
        ("bias",),
        (),
        0.02,
    )
    model = setup.numpyro_model({"bias": dist.Uniform(-0.8, 0.8)})
    arguments = (*setup.arguments(observations.times), jax.numpy.asarray(observations.values))
    value, _ = log_density(model, arguments, {}, {"bias": 0.2})
    assert value == -np.inf
    roomy = setup.__class__(**{**vars(setup), "settings": SolverSettings()})
    value, _ = log_density(
        roomy.numpyro_model({"bias": dist.Uniform(-0.8, 0.8)}),
        arguments,
        {},
        {"bias": 0.2},
    )
    assert np.isfinite(value)


def _gradient(forward_mode: bool, draw: dict[str, float]) -> np.ndarray:
    observations = as_observations(WELL, noisy_observations())
    setup = Parametrisation(
        WELL,
        SolverSettings(),
        observations.state_columns,
        observations.observable_columns,
        np.asarray(WELL.param_vector()),
        np.array(START),
        ("bias",),
        (),
        None,
        forward_mode=forward_mode,
    )
    model = setup.numpyro_model(PRIORS)
    arguments = (*setup.arguments(observations.times), jax.numpy.asarray(observations.values))

    def density(point):
        return log_density(model, arguments, {}, dict(zip(draw, point)))[0]

    differentiate = jax.jacfwd if forward_mode else jax.grad
    return np.asarray(differentiate(density)(jax.numpy.asarray(list(draw.values()))))


def test_forward_mode_and_the_adjoint_give_the_same_gradient():
    draw = {"bias": 0.1, "time_scale": 1.2, "noise": 0.03}
    forward, reverse = _gradient(True, draw), _gradient(False, draw)
    assert np.all(np.abs(forward) > 1)  # away from the mode, so the check has teeth
    np.testing.assert_allclose(forward, reverse, rtol=1e-6)


_PARALLEL = """
import numpy as np
import numpyro.distributions as dist
import basinlab as bl

model = bl.models.alignment_double_well()
times = np.linspace(0.0, 4.0, 21)
data = bl.trajectories(model, [[0.4, 0.8]], times, {"bias": 0.2})
priors = {"bias": dist.Uniform(-0.8, 0.8), "noise": dist.HalfNormal(0.1)}
kwargs = dict(y0=[0.4, 0.8], num_warmup=60, num_samples=60, progress=False, seed=3)
fit = bl.calibrate(model, data.isel(trajectory=0), priors, **kwargs)
assert fit.posterior.attrs["chain_method"] == "parallel", fit.posterior.attrs
bias = fit.posterior["bias"].values
assert bias.shape == (2, 60) and np.all(np.abs(np.median(bias, axis=1) - 0.2) < 0.05)
assert not np.array_equal(bias[0], bias[1])  # two chains, not one copied
"""


@pytest.mark.slow
def test_chains_run_in_parallel_on_host_devices():
    done = run_python(_PARALLEL, env=host_devices(2), timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]


def test_sampler_survives_regions_where_the_solver_fails():
    # A wide time-scale prior: large scales need more steps than allowed, so many
    # warm-up proposals fail; the fit must carry on and settle where solves succeed.
    priors = {"time_scale": dist.LogNormal(1.0, 1.5), "noise": dist.HalfNormal(0.1)}
    idata = calibrate(
        WELL,
        noisy_observations(),
        priors,
        y0=START,
        params={"bias": 0.2},
        settings=SolverSettings(max_steps=48),
        num_warmup=150,
        num_samples=150,
        num_chains=1,
        progress=False,
    )
    scale = idata.posterior["time_scale"].values
    assert np.all(np.isfinite(scale))
    assert abs(np.median(scale) - TRUTH["time_scale"]) < 0.1


def test_plot_calibration_returns_figure_and_axes(recovery):
    fig, ax = plot_calibration(recovery, "c")
    assert ax.get_ylabel() == "c" and fig is ax.figure
    with pytest.raises(ValueError, match="was not fitted"):
        plot_calibration(recovery, "loss")
    with pytest.raises(ValueError, match="not a calibration result"):
        plot_calibration(az.from_dict(posterior={"x": np.zeros((1, 3))}))


def test_unknown_parameter_is_refused():
    with pytest.raises(ValueError, match="has no parameter 'eta'"):
        calibrate(WELL, noisy_observations(), {"eta": dist.Normal(0, 1)}, y0=START, noise=0.1)


def test_times_must_increase():
    data = noisy_observations().assign_coords(time=TIMES[::-1])
    with pytest.raises(ValueError, match="strictly increasing"):
        calibrate(WELL, data, PRIORS, y0=START)


def test_nan_in_the_data_is_refused():
    data = noisy_observations()
    data["y"][3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        calibrate(WELL, data, PRIORS, y0=START)


def test_model_and_data_of_different_dimensions():
    data = xr.Dataset(
        {"y": (("time", "state"), np.zeros((len(TIMES), 3)))},
        coords={"time": TIMES, "state": ["a", "c", "d"]},
    )
    with pytest.raises(ValueError, match="3 states but the model"):
        calibrate(WELL, data, PRIORS, y0=START)


@pytest.mark.parametrize(
    "priors, kwargs, match",
    [
        ({"bias": dist.Normal(0, 1)}, {}, "noise"),
        ({"bias": 0.3, "noise": dist.HalfNormal(1)}, {}, "numpyro distribution"),
        ({"time_offset": dist.Normal(0, 1), "noise": dist.HalfNormal(1)}, {}, "non-negative"),
        (
            {"bias": dist.Normal(0, 1), "noise": dist.HalfNormal(1)},
            {"params": {"bias": 0.1}},
            "both",
        ),
        ({"noise": dist.HalfNormal(1)}, {"observed": ["q"]}, "neither"),
        ({"noise": dist.HalfNormal(1)}, {"observed": ["loss"]}, "do not hold 'loss'"),
        ({"noise": dist.HalfNormal(1)}, {"y0": [1.0, 2.0, 3.0]}, "y0 has shape"),
        ({"noise": dist.HalfNormal(1)}, {"forward_mode": "yes"}, "forward_mode must be"),
    ],
)
def test_other_bad_input(priors, kwargs, match):
    kwargs = {"y0": START, **kwargs}
    with pytest.raises((ValueError, TypeError), match=match):
        calibrate(WELL, noisy_observations(), priors, **kwargs)


def test_unknown_initial_state_is_refused():
    data = xr.Dataset(
        {"a": ("time", noisy_observations()["y"].values[:, 0])}, coords={"time": TIMES}
    )
    with pytest.raises(ValueError, match="initial value"):
        calibrate(WELL, data, {"noise": dist.HalfNormal(1)})


@pytest.mark.slow
def test_cli_calibrates_the_teacher_student_example(tmp_path, capsys, monkeypatch):
    # The README's command, shrunk as its own test would run it (which leaves it here).
    monkeypatch.chdir(tmp_path)
    arguments = readme_arguments("basinlab calibrate teacher-student --out calibration/")
    assert "--fast" in arguments
    code = _cli.main(arguments)
    assert code == 0
    out = tmp_path / "calibration"
    printed = capsys.readouterr().out
    assert "P(ends specialised)" in printed
    idata = az.from_netcdf(str(out / "calibration.nc"))
    assert {"posterior", "diagnostics", "basins", "posterior_predictive"} <= set(idata.groups())
    assert float(idata.diagnostics["r_hat"].max()) < 1.05
    run = bl.load(out / "run.nc")
    assert run.attrs["experiment"] == "teacher_student"
    for picture in ("calibration.png", "comparison.png"):
        assert (out / picture).stat().st_size > 10_000
    assert _cli.main(["calibrate", "no-such-example", "--out", str(out)]) == 2


def test_states_logged_as_variables_named_after_them_give_the_initial_state():
    logged = noisy_observations()["y"].values
    data = xr.Dataset(
        {"a": ("time", logged[:, 0]), "c": ("time", logged[:, 1])}, coords={"time": TIMES}
    )
    observations = as_observations(WELL, data)
    np.testing.assert_array_equal(observations.first_state, logged[0])
    np.testing.assert_array_equal(initial_state(WELL, observations, None, []), logged[0])


def test_observations_with_no_variable_of_the_model_are_refused_by_name():
    data = xr.Dataset({"accuracy": ("time", np.zeros(len(TIMES)))}, coords={"time": TIMES})
    with pytest.raises(ValueError, match=r"hold none of the states \['a', 'c'\].*\['accuracy'\]"):
        calibrate(WELL, data, {"noise": dist.HalfNormal(1)})
