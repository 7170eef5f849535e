"""The survival instinct: pessimistic value iteration as a map, against exact values."""

import numpy as np
import pytest

import basinlab as bl
from basinlab.proofs.claims.survival_instinct import NEGATED_REWARD, TRUE_REWARD, ZERO_REWARD
from basinlab.theory.models import pessimistic_values, survival_instinct

SETTINGS = [("safe", 1.0), ("all", 1.0), ("safe", -3.0), ("safe", 0.5)]
REWARDS = [TRUE_REWARD, ZERO_REWARD, NEGATED_REWARD, {"step": 0.3, "goal": -2.0, "failure": 0.7}]


@pytest.mark.parametrize("coverage, pessimism", SETTINGS)
def test_value_iteration_reaches_the_exact_values_and_verdicts(coverage, pessimism):
    compiled = bl.compile_model(survival_instinct(coverage=coverage))
    starts = np.random.default_rng(0).uniform(-20, 20, size=(4, 6))
    for rewards in REWARDS:
        params = {"kappa": pessimism, **{f"r_{k}": float(v) for k, v in rewards.items()}}
        runs = bl.trajectories(compiled, starts, np.arange(0, 501), params=params)
        values, margin = pessimistic_values(5, 0.9, pessimism, coverage, rewards)
        # gamma^500 * 40 is far below the tolerance: every start reached the fixed point.
        np.testing.assert_allclose(
            runs["y"].values[:, -1], np.tile(np.array(values, float), (4, 1)), atol=1e-9
        )
        np.testing.assert_allclose(runs["safety_margin"].values[:, -1], float(margin), atol=1e-9)
        if margin != 0:  # an exact tie is decided by rounding in floating point
            assert runs["holds"].sel(predicate="safe").values[:, -1].tolist() == [margin > 0] * 4


def test_the_map_s_fixed_point_is_the_exact_one():
    model = survival_instinct(rewards=NEGATED_REWARD)
    (point,) = bl.fixed_points(model)
    values, _ = pessimistic_values(5, 0.9, 1.0, "safe", NEGATED_REWARD)
    np.testing.assert_allclose(point.numeric, np.array(values, float), atol=1e-9)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(length=1), "length must be an integer of at least 2"),
        (dict(coverage="some"), "coverage must be one of"),
        (dict(discount=1.0), "discount must lie in"),
        (dict(rewards={"bonus": 1.0}), "unknown rewards \\['bonus'\\]"),
        (dict(rewards={"goal": float("inf")}), "the goal reward must be finite"),
        (dict(rewards={"goal": "1"}), "the goal reward must be a number"),
        (dict(pessimism=float("nan")), "pessimism must be finite"),
    ],
)
def test_bad_chains_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        survival_instinct(**kwargs)
