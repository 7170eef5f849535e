"""The RL perceptron with a proxy teacher: the real run against its ODEs, and its fit."""

import numpy as np
import numpyro.distributions as dist
import pytest
import scipy.integrate

import basinlab as bl
from basinlab.simulations import calibrate
from basinlab.simulations.training import compare_with_theory, proxy_rounds, reward_perceptron_run
from basinlab.theory import goodhart_fit
from basinlab.theory.models import fresh_proxy

SETTINGS = dict(proxy_overlap=0.7, flip=0.1, penalty=0.5, episode_length=3)
ALPHAS = np.linspace(0.0, 10.0, 21)


@pytest.fixture(scope="module")
def runs():
    return [
        reward_perceptron_run(dim=400, alphas=ALPHAS, seed=seed, progress=False, **SETTINGS)
        for seed in range(8)
    ]


def test_runs_at_d_400_follow_the_ode_within_the_finite_size_scatter(runs):
    comparisons = [compare_with_theory(run) for run in runs]
    assert all(c.attrs["solved"] and c.attrs["D"] == 400 for c in comparisons)
    gaps = np.array([c["overlap_run"] - c["overlap_theory"] for c in comparisons])
    # Each run scatters by O(D^-1/2) around the ODE; their mean sits on it. Dropping
    # the proxy (rho = 1), the flips or the penalty from the ODE moves it 0.10 to 0.27
    # away from this mean.
    assert np.max(np.abs(gaps.mean(axis=0))) < 0.04
    assert np.sqrt(np.mean(gaps**2)) < 0.05
    proxy = np.array(
        [c["y_run"].sel(state="S") / np.sqrt(c["y_run"].sel(state="Q")) for c in comparisons]
    )
    proxy_theory = np.array(
        [c["y_theory"].sel(state="S") / np.sqrt(c["y_theory"].sel(state="Q")) for c in comparisons]
    )
    assert np.max(np.abs((proxy - proxy_theory).mean(axis=0))) < 0.04
    # The student learns the proxy better than the truth it stands for.
    assert np.all(proxy[:, -1] > [c["overlap_run"].values[-1] for c in comparisons])


def test_without_a_proxy_the_proxy_overlap_is_the_true_one():
    run = reward_perceptron_run(dim=200, t1=2.0, progress=False)
    np.testing.assert_allclose(run["R"], run["S"], rtol=1e-6, atol=1e-9)
    model = bl.models.reward_perceptron()
    path = bl.trajectories(model, run["y"].values[:1], run["time"].values)
    np.testing.assert_allclose(path["y"].values[0][:, 0], path["y"].values[0][:, 1], atol=1e-12)


def test_the_run_is_reproducible_and_its_seed_matters():
    one = reward_perceptron_run(dim=100, t1=1.0, seed=3, progress=False)
    two = reward_perceptron_run(dim=100, t1=1.0, seed=3, progress=False)
    other = reward_perceptron_run(dim=100, t1=1.0, seed=4, progress=False)
    np.testing.assert_array_equal(one["y"], two["y"])
    assert not np.allclose(one["y"], other["y"])
    assert one["I"].values[0] == pytest.approx(one["Q"].values[0])


def test_calibration_recovers_the_proxy_overlap_from_the_true_overlap_alone():
    run = reward_perceptron_run(
        dim=1000, alphas=np.linspace(0, 10, 41), seed=1, progress=False, **SETTINGS
    )
    fixed = {"eta_1": 1.0, "eta_2": 0.5, "flip": 0.1, "S_0": run.attrs["S_0"]}
    idata = calibrate(
        bl.models.reward_perceptron(3),
        run,
        {"rho": dist.Uniform(0, 1), "noise": dist.HalfNormal(0.1)},
        observed=["overlap"],
        params=fixed,
        # The priors and sizes of notebook 06's fast fit: one compiled sampler serves both.
        num_warmup=100,
        num_samples=100,
        basin_draws=20,
        progress=False,
    )
    rho = idata.posterior["rho"].values.ravel()
    # The noise model treats the run's correlated finite-D scatter as independent, so
    # the interval is too narrow to promise coverage; the estimate is close.
    assert abs(rho.mean() - 0.7) < 0.03
    assert idata.posterior["rho"].std() < 0.05


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(dim=1), "dim must be an integer of at least 2"),
        (dict(episode_length=0), "episode_length must be a positive integer"),
        (dict(reward=0.0), "reward must be a positive finite number"),
        (dict(penalty=-1.0), "penalty must lie in"),
        (dict(proxy_overlap=1.5), "proxy_overlap must lie in"),
        (dict(flip=float("nan")), "flip must lie in"),
        (dict(init_scale=0.0), "must not start at w = 0"),
        (dict(alphas=[0.5, 1.0]), "alphas must start at 0"),
        (dict(seed=1.5), "seed must be an integer"),
    ],
)
def test_bad_runs_are_refused(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        reward_perceptron_run(progress=False, **kwargs)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(episode_length=0), "episode_length"),
        (dict(proxy_overlap=-2.0), "proxy_overlap must lie in"),
        (dict(flip=1.5), "flip must lie in"),
        (dict(aligned_level=1.0), "aligned_level must lie in"),
        (dict(dim=1), "dim"),
    ],
)
def test_bad_models_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        bl.models.reward_perceptron(**kwargs)


def _sampled_episode_increments(state, fields, params, n, seed):
    """One episode's scaled increment Z drawn n times from the fields' Gaussian law,
    the episode played out step by step (independent of the model's algebra)."""
    r, s, q, i = state
    rho, s_0, r_0, q_0 = fields
    covariance = np.array(
        [[1, rho, r, r_0], [rho, 1, s, s_0], [r, s, q, i], [r_0, s_0, i, q_0]], float
    )
    values, vectors = np.linalg.eigh(covariance)
    root = vectors * np.sqrt(np.clip(values, 0, None))
    rng = np.random.default_rng(seed)
    t = params["T"]
    nu, mu, lam, zeta = np.moveaxis(rng.normal(size=(n, t, 4)) @ root.T, -1, 0)
    actions = np.sign(lam)
    rewarded = np.all(actions == np.sign(mu), axis=1) != (rng.random(n) < params["flip"])
    g = np.where(rewarded, params["eta_1"], -params["eta_2"])
    steps = np.stack([nu, mu, 2 * lam, zeta], axis=-1) * actions[..., None]
    increments = g[:, None] * steps.sum(axis=1) / t
    increments[:, 2] += g**2 / t
    return increments


@pytest.mark.parametrize(
    "state, fields, params",
    [
        # Without a penalty only rewarded episodes move w: the case that tests the
        # moments on the event that all actions agree.
        ((0.3, 0.5, 1.2, 0.4), (0.7, 0.2, 0.1, 0.9), dict(T=3, eta_1=1.0, eta_2=0.0, flip=0.0)),
        ((0.6, 0.6, 1.0, 0.5), (1.0, 0.6, 0.6, 1.0), dict(T=5, eta_1=1.0, eta_2=0.8, flip=0.0)),
        ((0.1, -0.2, 0.7, 0.3), (0.5, 0.4, -0.2, 1.3), dict(T=1, eta_1=1.5, eta_2=1.0, flip=0.3)),
    ],
)
def test_the_finite_d_noise_is_the_covariance_of_sampled_episodes(state, fields, params):
    dim = 7
    compiled = bl.compile_model(bl.models.reward_perceptron(dim=dim))
    rho, s_0, r_0, q_0 = fields
    p = compiled.param_vector(params | dict(rho=rho, S_0=s_0, R_0=r_0, Q_0=q_0, D=dim))
    y = np.asarray(state, float)
    g = np.asarray(compiled.diffusion(0.0, y, p))
    # The fields' law is that of D -> infinity, whose mean increment is the ODE's.
    ode = bl.compile_model(bl.models.reward_perceptron())
    drift = np.asarray(ode.vector_field(0.0, y, ode.param_vector(params | dict(rho=rho, S_0=s_0))))
    z = _sampled_episode_increments(state, fields, params, 400_000, seed=0)
    centred = z - z.mean(axis=0)
    sampled = centred.T @ centred / len(z)
    # The standard error of each sampled covariance entry, from the products' spread.
    error = np.sqrt(np.var(centred[:, :, None] * centred[:, None, :], axis=0) / len(z))
    np.testing.assert_array_less(np.abs(dim * g @ g.T - sampled), 5 * error + 1e-12)
    np.testing.assert_array_less(
        np.abs(drift - z.mean(axis=0)), 5 * z.std(axis=0) / np.sqrt(len(z))
    )


def test_the_finite_d_drift_is_the_mean_increment_of_real_episodes():
    # In D = 6 the O(1/D) term of dQ is a large share of it: real vectors, real
    # episodes, and the exact mean change of R, S and Q.
    dim, t = 6, 3
    params = dict(T=t, eta_1=1.0, eta_2=0.4, flip=0.1, rho=0.5, S_0=0.0)
    rng = np.random.default_rng(1)
    basis, _ = np.linalg.qr(rng.normal(size=(dim, 3)))
    true, error, rest = (np.sqrt(dim) * basis[:, k] for k in range(3))
    proxy = params["rho"] * true + np.sqrt(1 - params["rho"] ** 2) * error
    w = 0.6 * true - 0.3 * error + 0.9 * rest
    n = 1_000_000
    x = rng.normal(size=(n, t, dim))
    actions = np.sign(x @ w)
    rewarded = np.all(actions == np.sign(x @ proxy), axis=1) != (rng.random(n) < params["flip"])
    g = np.where(rewarded, params["eta_1"], -params["eta_2"])
    step = g[:, None] * np.einsum("nt,ntd->nd", actions, x) / (t * np.sqrt(dim))
    moved = w + step
    before = np.array([w @ true, w @ proxy, w @ w]) / dim
    after = np.stack([moved @ true, moved @ proxy, np.sum(moved**2, axis=1)], axis=1) / dim
    increments = dim * (after - before)
    for d, closer in ((dim, True), (None, False)):
        compiled = bl.compile_model(bl.models.reward_perceptron(dim=d))
        p = compiled.param_vector(params | ({} if d is None else {"D": dim}))
        drift = np.asarray(compiled.vector_field(0.0, np.append(before, 0.0), p))[:3]
        error_bar = 5 * increments.std(axis=0) / np.sqrt(n)
        assert np.all(np.abs(drift - increments.mean(axis=0)) < error_bar) == closer


def test_real_runs_keep_the_true_overlap_rho_times_the_proxy_s(runs):
    # The runs start with R and S of order D^-1/2; the claim says R - rho S stays
    # where it started in the ODE, while R and S themselves grow to order one.
    shadow = np.array([(r["R"] - 0.7 * r["S"]) / np.sqrt(r["Q"]) for r in runs])
    cosine = np.array([r["overlap"] for r in runs])
    assert np.max(np.abs(shadow.mean(axis=0))) < 0.03
    assert cosine.mean(axis=0)[-1] > 0.3


def test_goodhart_fits_recover_their_coefficients_and_peaks():
    d = np.linspace(0.0, 3.0, 61)
    log_curve = np.where(d > 0, d * (1.2 - 0.5 * np.log(np.where(d > 0, d, 1.0))), 0.0)
    for form, curve, (alpha, beta) in (
        ("log", log_curve, (1.2, 0.5)),
        ("linear", d * (1.0 - 0.3 * d), (1.0, 0.3)),
    ):
        noisy = curve + np.random.default_rng(0).normal(0, 1e-3, d.shape)
        fit = goodhart_fit(d, noisy, form)
        assert (fit.alpha, fit.beta) == pytest.approx((alpha, beta), abs=5e-3)
        fine = np.linspace(1e-6, 10, 200_001)
        assert fit.peak == pytest.approx(fine[np.argmax(fit(fine))], abs=1e-3)
        assert fit.peak_gain == pytest.approx(fit(np.array([fit.peak]))[0], rel=1e-9)
    rising = goodhart_fit(d, d + 0.1 * d**2, "linear")  # convex: no turn
    assert rising.peak == np.inf


def test_each_goodhart_form_belongs_to_its_method_in_gao_et_al():
    # Gao, Schulman & Hilton 2022: Eq 1, best-of-n, R = d(alpha - beta d); Eq 2, RL,
    # R = d(alpha - beta log d).
    d = np.linspace(0.5, 3.0, 11)
    best_of_n = goodhart_fit(d, d * (1.0 - 0.3 * d), "linear")
    reinforcement = goodhart_fit(d, d * (1.0 - 0.3 * np.log(d)), "log")
    assert best_of_n.method == "best-of-n"
    assert reinforcement.method == "reinforcement learning"
    assert best_of_n(np.array([2.0]))[0] == pytest.approx(2.0 * (1.0 - 0.3 * 2.0))
    assert reinforcement(np.array([2.0]))[0] == pytest.approx(2.0 * (1.0 - 0.3 * np.log(2.0)))


def test_a_nearly_straight_log_gain_peaks_at_infinity_instead_of_overflowing():
    d = np.array([1.0, 2.0, 3.0])
    for beta in (1e-3, 1e-16):  # e^(alpha/beta - 1) is past the largest float
        fit = goodhart_fit(d, d * (1 - beta * np.log(d)), "log")
        assert fit.beta > 0
        assert fit.peak == np.inf and fit.peak_gain == np.inf
    finite = goodhart_fit(d, d * (1 - 0.5 * np.log(d)), "log")
    assert finite.peak == pytest.approx(np.exp(1 / 0.5 - 1))


def test_a_run_in_rounds_follows_its_fresh_proxies_and_passes_the_fixed_proxys_ceiling():
    settings = dict(dim=1000, alphas=np.linspace(0, 20, 21), seed=2, progress=False)
    settings |= dict(proxy_overlap=0.5, episode_length=3)
    fixed = reward_perceptron_run(**settings)
    iterated = reward_perceptron_run(rounds=4, **settings)
    np.testing.assert_allclose(iterated.attrs["round_starts"], [0, 5, 10, 15])
    comparison = compare_with_theory(iterated)
    assert comparison.attrs["solved"] and comparison.attrs["overlap_max_gap"] < 0.05
    # The proxy's cosine drops at each fresh proxy (S <- rho R) and the run follows it.
    proxy_cosine = comparison["y_run"] / np.sqrt(comparison["y_run"].sel(state="Q"))
    proxy_theory = comparison["y_theory"] / np.sqrt(comparison["y_theory"].sel(state="Q"))
    gap = (proxy_cosine - proxy_theory).sel(state="S")
    assert np.max(np.abs(gap)) < 0.06
    drops = (
        proxy_theory.sel(state="S", time=[4.0, 9.0, 14.0]).values
        - proxy_theory.sel(state="S", time=[5.0, 10.0, 15.0]).values
    )
    assert np.all(drops > 0.1)
    assert iterated["overlap"].values[-1] > 0.5 > fixed["overlap"].values[-1]


def test_many_fresh_proxies_reach_the_limit_scipy_integrates():
    model = bl.models.reward_perceptron(episode_length=2, penalty=0.2, proxy_overlap=0.6)
    eta_1, eta_2, rho, episode = 1.0, 0.2, 0.6, 2
    start = np.array([0.05, 0.03, 0.25, 0.25])
    end, count = 20.0, 400
    starts = np.linspace(0, end, count + 1)[:-1]
    rounds = proxy_rounds(model, start, np.append(starts, end), starts, rtol=1e-9, atol=1e-11)
    assert bool(rounds["solved"])
    np.testing.assert_array_equal(rounds["round"], np.append(np.arange(count), count - 1))

    def limit(_, state):
        # The claim's reduced flow in (m, Q), written out independently of SymPy.
        m, q = state
        agree = 1 - np.arccos(rho * m) / np.pi
        c = (eta_1 + eta_2) * agree ** (episode - 1) / 2
        noise = (eta_1**2 * agree**episode + eta_2**2 * (1 - agree**episode)) / episode
        scale = np.sqrt(2 / np.pi)
        rate_m = scale * c * rho * (1 - m * m) / np.sqrt(q) - m * noise / (2 * q)
        rate_q = 2 * scale * (-eta_2 * np.sqrt(q) + c * (np.sqrt(q) + rho * m * np.sqrt(q)))
        return [rate_m, rate_q + noise]

    m0 = start[0] / np.sqrt(start[2])
    exact = scipy.integrate.solve_ivp(limit, (0, end), [m0, start[2]], rtol=1e-10, atol=1e-12)
    # Rounds of length 0.05 follow the limit to first order in the round length.
    assert rounds["overlap"].values[-1] == pytest.approx(exact.y[0, -1], abs=5e-3)
    assert rounds["y"].values[-1, 2] == pytest.approx(exact.y[1, -1], rel=5e-3)
    assert exact.y[0, -1] > rho + 0.1


def test_fresh_proxy_sets_s_to_rho_r_and_the_start_overlap():
    state, s_0 = fresh_proxy([[0.4, 0.9, 1.0, 0.2], [0.2, 0.0, 2.0, 0.1]], 0.5, 0.3)
    np.testing.assert_allclose(state, [[0.4, 0.2, 1.0, 0.2], [0.2, 0.1, 2.0, 0.1]])
    assert s_0 == pytest.approx(0.15)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: fresh_proxy([0.1, 0.2, 0.3], 0.5, 0.0), "must end in the 4 values"),
        (lambda: fresh_proxy([0.1, 0.2, 0.3, 0.4], 1.5, 0.0), "proxy_overlap must lie in"),
        (
            lambda: proxy_rounds(bl.models.reward_perceptron(), [0, 0, 1, 1], [0, 1], [0.5]),
            "round_starts must increase from times",
        ),
        (
            lambda: proxy_rounds(bl.models.reward_perceptron(), [0, 0, 1, 1], [0, 1], [0, 1]),
            "the last must come before",
        ),
        (
            lambda: proxy_rounds(bl.models.alignment_double_well(), [0, 0], [0, 1], [0]),
            "needs the reward perceptron's state",
        ),
        (lambda: reward_perceptron_run(rounds=0, progress=False), "rounds must be a positive"),
        (lambda: reward_perceptron_run(dim=10, rounds=10, progress=False), "fewer than dim = 10"),
    ],
)
def test_bad_rounds_are_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize(
    "distance, gain, form, message",
    [
        ([0.0, 1.0, 2.0], [0.0, 1.0, 2.0], "cubic", "form must be one of"),
        ([0.0, 1.0], [0.0, 1.0, 2.0], "log", "1-D of one length"),
        ([0.0, -1.0, 2.0], [0.0, 1.0, 2.0], "log", "non-negative"),
        ([0.0, 0.0, 1.0], [0.0, 1.0, 2.0], "log", "at least two positive"),
        ([0.0, np.nan, 1.0], [0.0, 1.0, 2.0], "log", "finite"),
    ],
)
def test_bad_goodhart_fits_are_refused(distance, gain, form, message):
    with pytest.raises(ValueError, match=message):
        goodhart_fit(distance, gain, form)
