import numpy as np
import pytest
import scipy.special
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import basinlab as bl
from basinlab.theory.models.teacher_student import (
    at,
    first_order_flow,
    plateau,
    small_learning_rate_stability,
    specialised,
)

SIGMA = sp.Symbol("sigma", nonnegative=True)


@pytest.mark.parametrize("K", [2, 3, 4, 5])
def test_plateau_is_a_fixed_point_of_the_first_order_flow(K):
    state, first = first_order_flow(K, K)
    point, _ = plateau(K)
    residual = at(first, state, point)
    assert max(abs(sp.N(r, 60)) for r in residual) < 1e-50
    if K == 2:
        assert all(sp.simplify(r) == 0 for r in residual)


@pytest.mark.parametrize("K", [2, 3, 4, 5])
def test_plateau_error_matches_the_closed_form(K):
    model = bl.models.teacher_student(K, K)
    point, closed = plateau(K)
    error = at(model.observables["eps_g"], model.state, point).subs(SIGMA, 0)
    assert abs(sp.N(error - closed, 60)) < 1e-50
    # THEORY: eps_g = (K/pi) [pi/6 - K arcsin(1/(2K))], computed here independently.
    assert float(error) == pytest.approx(
        K / np.pi * (np.pi / 6 - K * np.arcsin(1 / (2 * K))), rel=1e-12
    )


@pytest.mark.parametrize("K", [2, 3])
def test_specialised_solution_is_exact_and_stable(K):
    model = bl.models.teacher_student(K, K)
    point = specialised(K)
    assert sp.N(at(model.observables["eps_g"], model.state, point).subs(SIGMA, 0), 50) == 0
    field = at(model.vector_field, model.state, point).subs(
        {SIGMA: 0, sp.Symbol("kappa", nonnegative=True): 0}
    )
    assert all(abs(sp.N(f, 50)) < 1e-45 for f in field)
    assert small_learning_rate_stability(K, "specialised").stable
    unstable = small_learning_rate_stability(K, "plateau")
    assert unstable.index >= 1 and not unstable.stable


def _overlaps(rng, k, m):
    """A random valid covariance of K student and M teacher local fields."""
    weights = rng.normal(size=(k + m, k + m + 2)) / np.sqrt(k + m + 2)
    return weights @ weights.T


def _state_vector(model, cov, k, v):
    values = []
    for name in model.state_names:
        kind, *index = name.split("_")
        index = [int(i) - 1 for i in index]
        if kind == "Q":
            values.append(cov[index[0], index[1]])
        elif kind == "R":
            values.append(cov[index[0], k + index[1]])
        else:
            values.append(v[index[0]])
    return np.array(values)


def test_erf_flow_matches_monte_carlo_over_the_local_fields():
    # Independent numerics: E over Gaussian local fields of the SGD increments.
    k, m, eta, eta_v, sigma = 2, 2, 0.7, 0.4, 0.3
    rng = np.random.default_rng(3)
    cov = _overlaps(rng, k, m)
    v, v_star = np.array([0.8, 1.3]), np.ones(m)
    model = bl.models.teacher_student(k, m, train_second_layer=True, teacher=cov[k:, k:])
    compiled = bl.compile_model(model)
    params = {"eta": eta, "eta_v": eta_v, "sigma": sigma, "kappa": 0.0}
    y = _state_vector(model, cov, k, v)
    field = np.asarray(compiled.vector_field(0.0, y, compiled.param_vector(params)))

    samples = 2_000_000
    fields = rng.multivariate_normal(np.zeros(k + m), cov, size=samples)
    lam, rho = fields[:, :k], fields[:, k:]
    g = scipy.special.erf(fields / np.sqrt(2))
    slope = np.sqrt(2 / np.pi) * np.exp(-(lam**2) / 2)
    delta = g[:, k:] @ v_star - g[:, :k] @ v + sigma * rng.normal(size=samples)
    expected, spread = {}, {}
    for i in range(k):
        for n in range(m):
            term = eta * v[i] * slope[:, i] * delta * rho[:, n]
            expected[f"R_{i + 1}_{n + 1}"], spread[f"R_{i + 1}_{n + 1}"] = term.mean(), term.std()
        for j in range(i, k):
            term = eta * delta * (v[i] * slope[:, i] * lam[:, j] + v[j] * slope[:, j] * lam[:, i])
            term = term + eta**2 * v[i] * v[j] * slope[:, i] * slope[:, j] * delta**2
            expected[f"Q_{i + 1}_{j + 1}"], spread[f"Q_{i + 1}_{j + 1}"] = term.mean(), term.std()
        term = eta_v * g[:, i] * delta
        expected[f"v_{i + 1}"], spread[f"v_{i + 1}"] = term.mean(), term.std()
    for index, name in enumerate(model.state_names):
        error = 5 * spread[name] / np.sqrt(samples)
        assert abs(field[index] - expected[name]) < error, name


@settings(max_examples=20)
@given(
    seed=st.integers(0, 10_000),
    eta=st.floats(0.01, 2.0),
    sigma=st.floats(0.0, 1.0),
    kappa=st.floats(0.0, 0.5),
)
def test_linear_flow_is_the_closed_form_expectation(seed, eta, sigma, kappa):
    k, m = 3, 2
    rng = np.random.default_rng(seed)
    cov = _overlaps(rng, k, m)
    q, r, t = cov[:k, :k], cov[:k, k:], cov[k:, k:]
    v, v_star = np.ones(k), np.ones(m)
    # For linear g, E[delta lambda_b] and E[delta^2] are linear and quadratic in C.
    pull_r = t @ v_star - r.T @ v  # E[delta rho_n]
    pull_q = r @ v_star - q @ v  # E[delta lambda_k]
    square = v_star @ t @ v_star - 2 * v @ r @ v_star + v @ q @ v + sigma**2
    d_r = eta * np.outer(v, pull_r) - kappa * r
    d_q = (
        eta * (np.outer(v, pull_q) + np.outer(pull_q, v))
        + eta**2 * np.outer(v, v) * square
        - 2 * kappa * q
    )
    # T is a constant of the model, so each example builds its own (linear: cheap).
    model = bl.models.teacher_student(k, m, activation="linear", teacher=t)
    function = sp.lambdify([model.state, model.param_symbols], list(model.vector_field))
    field = np.array(function(_state_vector(model, cov, k, v), [eta, 0.0, sigma, kappa]), float)
    expected = _state_vector(model, np.block([[d_q, d_r], [d_r.T, np.zeros((m, m))]]), k, v)
    np.testing.assert_allclose(field, expected, rtol=1e-10, atol=1e-12)


def test_eps_g_and_specialised_predicate_along_a_run():
    model = bl.models.teacher_student(2, 2, eta=0.5)
    start = np.zeros(model.dim)
    for i, name in enumerate(model.state_names):
        kind, a, b = name.split("_")
        start[i] = (
            0.2
            if (kind == "Q" and a == b)
            else (1e-3 * (1 + int(a) * int(b)) if kind == "R" else 0.0)
        )
    path = bl.trajectories(model, start[None], np.linspace(0, 3000, 301), max_steps=200_000)
    eps = path["eps_g"].values[0]
    assert eps[-1] < 1e-3 < eps[0]
    _, plateau_error = plateau(2)
    assert np.any(
        np.abs(eps - float(plateau_error)) < 0.05 * float(plateau_error)
    )  # passes the plateau


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(K=0), "K >= 1"),
        (dict(M=0), "M >= 1"),
        (dict(teacher=[[1.0, 0.5], [0.0, 1.0]]), "symmetric"),
        (dict(teacher=[[1.0, 2.0], [2.0, 1.0]]), "positive semi-definite"),
        (dict(teacher=np.eye(3)), "shape"),
        (dict(eta=-0.1), "eta must be non-negative"),
        (dict(eta_v=-1.0), "eta_v must be non-negative"),
        (dict(activation="relu"), "activation"),
        (dict(teacher_second_layer=[1.0]), "teacher_second_layer"),
    ],
)
def test_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        bl.models.teacher_student(**{"K": 2, "M": 2, **kwargs})


def test_specialisation_slice_stays_among_valid_overlaps():
    from basinlab.theory.models.teacher_student import specialisation_slice

    slice_ = specialisation_slice()
    assert slice_["x"] == "R_1_1" and slice_["fixed"]["Q_1_2"] == 0.0
    assert bl.models.teacher_student(2, 2).default_slice == slice_
    with pytest.raises(ValueError, match="valid overlaps"):
        specialisation_slice(norm=0.5, extent=0.6)
    with pytest.raises(ValueError, match="norm"):
        specialisation_slice(norm=0.0)
