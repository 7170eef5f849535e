"""Performative prediction: repeated risk minimisation as a map."""

import numpy as np
import pytest

import basinlab as bl


@pytest.mark.parametrize("epsilon", [0.2, 0.5, 0.9])
def test_rrm_converges_to_the_stable_point_below_the_bound(epsilon):
    model = bl.models.performative_prediction(epsilon=epsilon, strong_convexity=2.0)
    final = bl.integrate(model, [[-5.0], [0.0], [7.0]], progress=False)
    assert np.all(final["status"].values == bl.CONVERGED)
    assert np.allclose(final["y_final"].values, 1 / (2 - epsilon), atol=1e-5)


def test_rrm_runs_away_at_and_above_the_bound():
    model = bl.models.performative_prediction(epsilon=1.5)  # epsilon beta / gamma = 1.5
    final = bl.integrate(model, [[-3.0], [1.0]], progress=False)
    assert np.all(final["status"].values == bl.DIVERGED)
    # Iterates follow theta_t - theta* = 1.5^t (theta_0 - theta*), theta* = -2.
    path = bl.trajectories(model, [[1.0]], np.arange(8))
    assert np.allclose(path["y"].values[0, :, 0], -2 + 1.5 ** np.arange(8) * 3)


def test_the_feedback_map_is_the_mean_of_the_retrained_least_squares_fit():
    model = bl.models.performative_feedback()
    compiled = bl.compile_model(model)
    p = compiled.param_vector()
    rng = np.random.default_rng(0)
    theta = np.array([0.3, -0.7])
    # Least squares on outcomes z ~ N(mu(theta), I) from the deployed theta.
    mean = np.array([-0.2, 0.1]) + 1.5 * np.tanh(np.array([[1, 0.5], [0.5, 1]]) @ theta)
    fit = rng.normal(mean, 1.0, size=(200_000, 2)).mean(axis=0)
    step = np.asarray(compiled.vector_field(0.0, theta, p))
    assert np.allclose(step, fit, atol=0.01)


def test_a_weak_response_has_one_stable_point_and_a_strong_one_two_basins():
    weak = bl.models.performative_feedback(epsilon=0.6)  # 0.6 * 1.5 < 1
    assert [q.kind for q in bl.fixed_points(weak)] == [bl.theory.STABLE_NODE]
    strong = bl.models.performative_feedback()
    points = bl.fixed_points(strong)
    stable = [q for q in points if q.stable]
    (saddle,) = [q for q in points if q.kind == bl.theory.SADDLE]
    assert len(stable) == 2
    result = bl.basin_map(strong, "theta_1", "theta_2", ((-3, 3), (-3, 3)), 64, progress=False)
    assert np.all(result["fraction"].values[:2] > 0.3)
    # The boundary passes through the saddle: its unstable direction splits the basins.
    jacobian = np.array(
        bl.theory.jacobian(strong).subs(
            strong.param_substitution() | dict(zip(strong.state, saddle.numeric))
        ),
        dtype=float,
    )
    values, vectors = np.linalg.eig(jacobian)
    away = vectors[:, np.argmax(np.abs(values))].real
    ends = bl.integrate(
        strong,
        [np.array(saddle.numeric) + 1e-3 * away, np.array(saddle.numeric) - 1e-3 * away],
        progress=False,
    )["y_final"].values
    targets = {tuple(np.round(q.numeric, 4)) for q in stable}
    assert {tuple(np.round(e, 4)) for e in ends} == targets
