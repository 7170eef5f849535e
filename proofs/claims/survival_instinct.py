"""The survival instinct of offline RL (Li et al. 2023), decided exactly on a chain MDP."""

from __future__ import annotations

import random

import sympy as sp

from ...theory.models.survival_instinct import ALL_COVERAGE, SAFE_COVERAGE, pessimistic_values
from .._claim import CertificateFailed, Claim

_NAME = "survival_instinct"
_LENGTH, _DISCOUNT = 5, sp.Rational(9, 10)
TRUE_REWARD = {"step": 0, "goal": 1, "failure": -1}
ZERO_REWARD = {"step": 0, "goal": 0, "failure": 0}
NEGATED_REWARD = {"step": 0, "goal": -1, "failure": 1}
_NAMED = {"true": TRUE_REWARD, "zero": ZERO_REWARD, "negated": NEGATED_REWARD}


def _random_rewards(count: int) -> list[dict[str, sp.Rational]]:
    rng = random.Random(0)
    return [
        {name: sp.Rational(rng.randint(-20, 20), rng.randint(1, 7)) for name in _NAMED["true"]}
        for _ in range(count)
    ]


def _decide(pessimism, coverage, rewards) -> bool:
    return pessimistic_values(_LENGTH, _DISCOUNT, pessimism, coverage, rewards)[1] > 0


def _safe_whatever_the_reward() -> str:
    for name, rewards in _NAMED.items():
        if not _decide(1, SAFE_COVERAGE, rewards):
            raise CertificateFailed(f"the greedy policy is unsafe under the {name} reward")
    others = _random_rewards(40)
    unsafe = [r for r in others if not _decide(1, SAFE_COVERAGE, r)]
    if unsafe:
        raise CertificateFailed(f"unsafe under the reward {unsafe[0]}")
    return (
        "exact policy iteration: safe under the true, zero and negated rewards and under "
        f"{len(others)} random rational reward vectors"
    )


def _unsafe_without_bias() -> str:
    for name in ("zero", "negated"):
        if _decide(1, ALL_COVERAGE, _NAMED[name]):
            raise CertificateFailed(f"with all actions in the data, safe under the {name} reward")
    if not _decide(1, ALL_COVERAGE, TRUE_REWARD):
        raise CertificateFailed("with all actions in the data, unsafe under the true reward")
    return (
        "exact policy iteration: with exits in the data, unsafe under the zero and "
        "negated rewards, safe under the true one"
    )


def _unsafe_without_pessimism() -> str:
    if _decide(0, SAFE_COVERAGE, ZERO_REWARD):
        raise CertificateFailed("without pessimism, safe under the zero reward")
    if _decide(-3, SAFE_COVERAGE, TRUE_REWARD):
        raise CertificateFailed("with optimism kappa = -3, safe under the true reward")
    return (
        "exact policy iteration: kappa = 0 ties exiting with advancing under the zero "
        "reward; kappa = -3 (optimism) exits even under the true reward"
    )


def claims() -> list[Claim]:
    setting = (f"the chain of {_LENGTH} cells, $\\gamma = 9/10$, pessimistic value iteration",)
    return [
        Claim(
            f"{_NAME}.safe_whatever_the_reward",
            r"With pessimism $\kappa = 1$ and data covering only safe trajectories, the "
            r"greedy policy advances in every cell under the true reward, the zero reward, "
            r"the negated reward and 40 random rational rewards (the survival instinct).",
            (*setting, "coverage: `advance` only"),
            about=_NAME,
            certificate=_safe_whatever_the_reward,
        ),
        Claim(
            f"{_NAME}.unsafe_without_bias",
            r"With $\kappa = 1$ but the exits and the failure state in the data, the greedy "
            r"policy exits under the zero and the negated reward (it stays safe under the "
            r"true one).",
            (*setting, "coverage: every action"),
            about=_NAME,
            certificate=_unsafe_without_bias,
        ),
        Claim(
            f"{_NAME}.unsafe_without_pessimism",
            r"With data covering only safe trajectories but no pessimism ($\kappa = 0$), "
            r"exiting ties with advancing under the zero reward; with optimism "
            r"($\kappa = -3$) the greedy policy exits even under the true reward.",
            (*setting, "coverage: `advance` only"),
            about=_NAME,
            certificate=_unsafe_without_pessimism,
        ),
    ]
