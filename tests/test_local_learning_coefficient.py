"""The SGLD estimate of the local learning coefficient against exact values: the
discrete chain at a quadratic, Morse-Bott minima, Aoyagi's deep linear networks, and a
trained network on data."""

import arviz as az
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp
from jax.flatten_util import ravel_pytree

import basinlab as bl

N = 10_000
NBETA = N / np.log(N)


def _quadratic(curvatures):
    w = sp.symbols(f"w1:{len(curvatures) + 1}", real=True)
    loss = sum(h * x**2 for h, x in zip(curvatures, w)) / 2
    return bl.Model.gradient_flow(loss, state=w, name="quadratic")


def test_a_quadratic_minimum_gives_the_exact_value_of_the_discretised_chain():
    # Along eigenvalue h the chain is x <- (1 - eps a/2) x + sqrt(eps) xi, a = n beta h +
    # gamma, of variance 1/(a(1 - eps a/4)); so E[n beta K] = sum n beta h/(2a(1-eps a/4)).
    curvatures = (1.0, 2.0, 3.0)
    settings = bl.SGLDSettings(step_size=2e-4, gamma=10.0, chains=8, steps=3000, burn_in=200)
    result = bl.local_learning_coefficient(
        _quadratic(curvatures), [0, 0, 0], n=N, settings=settings
    )
    eps = settings.step_size
    for gamma, estimate, error in zip(
        result.gamma.values, result.llc.values, result.llc_std_error.values
    ):
        a = NBETA * np.array(curvatures) + gamma
        exact = np.sum(NBETA * np.array(curvatures) / (2 * a * (1 - eps * a / 4)))
        assert abs(estimate - exact) < 4 * error, (gamma, estimate, exact, error)
        # The step size's bias is visible: d/2 is many standard errors away.
        assert abs(estimate - 1.5) > 4 * error
    assert result.attrs["trusted"] == 0 and "step size" in result.attrs["diagnosis"]
    widest = eps * (NBETA * 3 + 10) / 4
    assert result.attrs["step_size_bias"] == pytest.approx(widest / (1 - widest), rel=1e-3)


def test_a_regular_minimum_gives_half_its_dimension_and_is_trusted():
    model = _quadratic((1.0, 2.0, 3.0))
    exact = bl.learning_coefficient(model, [0, 0, 0])
    assert exact.value == sp.Rational(3, 2)
    settings = bl.SGLDSettings(step_size=5e-6, gamma=1.0, chains=8, steps=20_000, burn_in=1500)
    result = bl.local_learning_coefficient(model, [0, 0, 0], n=N, settings=settings)
    assert result.attrs["trusted"] == 1, result.attrs["diagnosis"]
    # Remaining biases, step size (+0.3%) and gamma (-0.07%), are below the error.
    assert abs(result.attrs["estimate"] - exact.numeric) < 4 * result.attrs["std_error"]
    assert result.attrs["std_error"] < 0.05


def test_the_deep_linear_hyperbola_gives_one_half():
    model = bl.models.deep_linear_mode(s=3.0)
    point = [np.sqrt(3.0), np.sqrt(3.0)]
    exact = bl.learning_coefficient(model, [sp.sqrt(3), sp.sqrt(3)])
    assert (exact.value, exact.method) == (sp.Rational(1, 2), "Morse-Bott")
    settings = bl.SGLDSettings(step_size=1e-5, gamma=50.0, chains=8, steps=3000, burn_in=12_000)
    result = bl.local_learning_coefficient(model, point, n=N, settings=settings)
    assert result.attrs["trusted"] == 1, result.attrs["diagnosis"]
    assert abs(result.attrs["estimate"] - 0.5) < 4 * result.attrs["std_error"] + 0.01
    assert abs(result.attrs["estimate"] - 1.0) > 0.3  # not the regular d/2


def test_aoyagi_at_the_origin_of_a_two_layer_network_as_gamma_shrinks():
    # deep_linear_modes with both singular values 0: a 2-2-2 network whose true map is
    # 0, at the origin. Aoyagi: lambda = 3/2 (d/2 = 4), multiplicity 1.
    exact = bl.models.deep_linear_learning_coefficient((2, 2, 2), 0)
    assert (exact.value, exact.multiplicity) == (sp.Rational(3, 2), 1)
    model = bl.models.deep_linear_modes((1.0, 1.0), hidden=2)
    settings = bl.SGLDSettings(
        step_size=4e-5, gamma=1.0, chains=8, steps=20_000, burn_in=150_000, gamma_factors=(1.0, 4.0)
    )
    result = bl.local_learning_coefficient(
        model, np.zeros(8), n=N, params={"s_1": 0.0, "s_2": 0.0}, settings=settings
    )
    estimates, errors = result.llc.values, result.llc_std_error.values
    # The localisation biases the estimate down, less as gamma shrinks (the measure
    # depends on n beta / gamma^2 alone, the loss being homogeneous of degree 4).
    assert abs(estimates[0] - 1.5) < 4 * errors[0]
    assert estimates[1] < 1.5 - 4 * errors[1]


@pytest.fixture(scope="module")
def trained_network():
    """A 3-2-3 linear network trained by gradient descent on noise-free data from a
    rank-2 map: its true set has codimension 8, so lambda = 4 (Aoyagi), not d/2 = 6."""
    import optax

    rng = np.random.default_rng(1)
    teacher = rng.normal(size=(3, 2)) @ rng.normal(size=(2, 3)) / 2
    x = rng.normal(size=(N, 3))
    y = x @ teacher.T

    def loss(weights, batch):
        inputs, outputs = batch
        return 0.5 * jnp.sum((outputs - inputs @ weights[0].T @ weights[1].T) ** 2, axis=1)

    weights = [jnp.asarray(rng.normal(size=s) * 0.1) for s in ((2, 3), (3, 2))]
    optimiser = optax.sgd(0.05)
    state = optimiser.init(weights)
    data = (jnp.asarray(x), jnp.asarray(y))

    @jax.jit
    def descend(weights, state):
        gradient = jax.grad(lambda w: jnp.mean(loss(w, data)))(weights)
        updates, state = optimiser.update(gradient, state)
        return optax.apply_updates(weights, updates), state

    for _ in range(3000):
        weights, state = descend(weights, state)
    return loss, weights, (x, y), rng


def test_a_trained_linear_network_on_data_gives_aoyagi_s_value(trained_network):
    loss, weights, data, _ = trained_network
    exact = bl.models.deep_linear_learning_coefficient((3, 2, 3), 2)
    assert exact.value == 4
    settings = bl.SGLDSettings(
        step_size=1e-5,
        gamma=30.0,
        chains=8,
        steps=10_000,
        burn_in=20_000,
        batch_size=200,
        gamma_factors=(1.0,),
    )
    result = bl.local_learning_coefficient(loss, weights, data=data, settings=settings)
    assert result.attrs["trusted"] == 1, result.attrs["diagnosis"]
    # The point is Morse-Bott: 8 positive Hessian eigenvalues (Aoyagi's 4 = 8/2), the
    # rest flat. There the chain is Gaussian across the minimum set, and its exact mean
    # with gamma and the step size is sum n beta h / (2a(1 - eps a/4)), a = n beta h + gamma.
    flat, unravel = ravel_pytree(weights)
    x, y = (jnp.asarray(v) for v in data)
    hessian = jax.hessian(lambda w: jnp.mean(loss(unravel(w), (x, y))))(flat)
    curvatures = np.linalg.eigvalsh(np.asarray(hessian))
    positive = curvatures[curvatures > 1e-6 * curvatures.max()]
    assert len(positive) == 2 * exact.value
    a = NBETA * positive + settings.gamma
    expected = np.sum(NBETA * positive / (2 * a * (1 - settings.step_size * a / 4)))
    assert 3.5 < expected < 4
    assert abs(result.attrs["estimate"] - expected) < 4 * result.attrs["std_error"]


@pytest.fixture(scope="module")
def noisy_regression():
    """Linear regression y = w.x + noise, at its least-squares minimum (regular, d = 2)."""
    rng = np.random.default_rng(2)
    x = rng.normal(size=(N, 2))
    y = x @ np.array([1.0, -0.5]) + rng.normal(size=N)
    minimum = np.linalg.lstsq(x, y, rcond=None)[0]

    def loss(w, batch):
        inputs, outputs = batch
        return 0.5 * (outputs - inputs @ w) ** 2

    return loss, minimum, (x, y)


def _regression_llc(noisy_regression, reference):
    loss, minimum, data = noisy_regression
    settings = bl.SGLDSettings(
        step_size=2e-5,
        gamma=1.0,
        chains=8,
        steps=4000,
        burn_in=500,
        batch_size=100,
        reference=reference,
        gamma_factors=(1.0,),
    )
    return bl.local_learning_coefficient(loss, minimum, data=data, settings=settings, seed=3)


def test_one_shared_batch_for_the_reference_offsets_every_chain_together(noisy_regression):
    _, minimum, (x, y) = noisy_regression
    paired = _regression_llc(noisy_regression, "paired")
    full = _regression_llc(noisy_regression, "full")
    shared = _regression_llc(noisy_regression, "one_batch")
    # Paired differences cancel the minibatch's noise: the fix.
    assert paired.attrs["std_error"] < full.attrs["std_error"] / 5
    assert abs(paired.attrs["estimate"] - 1.0) < 4 * paired.attrs["std_error"] + 0.01
    assert abs(full.attrs["estimate"] - 1.0) < 4 * full.attrs["std_error"]
    # One batch's L(w*) offsets all chains by n beta (L_n(w*) - L_B0(w*)), exactly.
    full_loss = float(np.mean(0.5 * (y - x @ minimum) ** 2))
    offset = NBETA * (full_loss - shared.attrs["loss_at_attractor"])
    chains = shared.chain_llc.values[0]
    chain_error = float(az.mcse(shared.trace.values[0]))
    assert abs(shared.attrs["estimate"] - offset - full.attrs["estimate"]) < 4 * np.hypot(
        chain_error, full.attrs["std_error"]
    )
    # Its error is the shared batch's, n beta sd(l_i)/sqrt(B), far above the chains'
    # spread: the chains agree with each other and are all off together.
    sd = np.std(0.5 * (y - x @ minimum) ** 2, ddof=1)
    assert shared.attrs["shared_reference_error"] == pytest.approx(NBETA * sd / 10, rel=1e-9)
    assert np.std(chains) < shared.attrs["shared_reference_error"] / 3


def test_bad_settings_and_points_that_are_not_minima_are_refused(noisy_regression):
    with pytest.raises(ValueError, match="gamma must be a positive"):
        bl.SGLDSettings(gamma=0.0)
    with pytest.raises(ValueError, match="gamma must be a positive"):
        bl.SGLDSettings(gamma=-1.0)
    loss, minimum, data = noisy_regression
    with pytest.raises(bl.NotAMinimumError, match=r"not near a minimum.*gradient"):
        bl.local_learning_coefficient(loss, minimum + 0.1, data=data)
    saddle = _quadratic((1.0, -1.0))
    with pytest.raises(bl.NotAMinimumError, match=r"not near a minimum.*saddle"):
        bl.local_learning_coefficient(saddle, [0, 0], n=N)
    with pytest.raises(ValueError, match="give the sample size n"):
        bl.local_learning_coefficient(saddle, [0, 0])
    with pytest.raises(ValueError, match="needs its data"):
        bl.local_learning_coefficient(loss, minimum)
    with pytest.raises(ValueError, match="one loss per sample"):
        bl.local_learning_coefficient(lambda w, b: jnp.sum(w), minimum, data=data)
    with pytest.raises(ValueError, match="diverged") as diverged:
        bl.local_learning_coefficient(
            _quadratic((1.0,)), [0], n=N, settings=bl.SGLDSettings(step_size=1.0, steps=20)
        )
    assert not isinstance(diverged.value, bl.NotAMinimumError)


def test_exact_coefficients_refuse_what_they_cannot_derive():
    mode = bl.models.deep_linear_mode(s=3.0)
    with pytest.raises(ValueError, match="not a minimum"):
        bl.learning_coefficient(mode, [0, 0])  # a saddle
    with pytest.raises(ValueError, match="not a rest point"):
        bl.learning_coefficient(mode, [1, 1])
    with pytest.raises(ValueError, match="not Morse-Bott"):
        bl.learning_coefficient(mode, [0, 0], params={"s": 0})  # the crossing ab = 0
    with pytest.raises(ValueError, match="coordinates"):
        bl.learning_coefficient(mode, [0, 0, 0])
    with pytest.raises(ValueError, match="no loss"):
        bl.learning_coefficient(bl.models.henon_map(), [0, 0])
    with pytest.raises(ValueError, match="true rank"):
        bl.models.deep_linear_learning_coefficient((2, 3, 2), 3)
    with pytest.raises(ValueError, match="positive integers"):
        bl.models.deep_linear_learning_coefficient((2, 0, 2), 0)
    with pytest.raises(ValueError, match="at least two widths"):
        bl.models.deep_linear_learning_coefficient((2,), 0)
