r"""The survival instinct of offline RL (Li, Zhan, Lee, Cheng & Xie 2023), on a chain.

A. Li, W. Zhan, J. D. Lee, C.-A. Cheng and T. Xie, "Survival instinct in offline
reinforcement learning", NeurIPS 2023, arXiv:2306.03286.

The MDP: cells $0, \dots, n-1$ of a path and an absorbing failure state $F$. In cell
$i$ the action `advance` moves to $i + 1$ (the last cell, the goal, keeps the agent
there) and `exit` falls into $F$, which the agent never leaves. Rewards: `step` for
moving along the path or exiting, `goal` per step at the goal, `failure` per step in
$F$. The data come from a behaviour policy whose trajectories are safe: they cover
`advance` in every cell and nothing else ("safe" coverage); "all" coverage adds the
exits and the failure state.

Pessimistic value iteration (PEVI; Jin, Yang & Wang 2021, in the form Li et al. study)
gives every action outside the data the least value,
$V_\text{unknown} = (r_\text{min} - \kappa)/(1 - \gamma)$, $\kappa \ge 0$ the
pessimism, and backs up the rest:

$$V_{k+1}(s) = \max_a Q_k(s, a),\qquad
  Q_k(s, a) = \begin{cases} r(s, a) + \gamma V_k(s') & (s, a) \text{ in the data}\\
  V_\text{unknown} & \text{otherwise.}\end{cases}$$

Li et al.'s point: with pessimism and data biased to safe trajectories, the greedy
policy stays safe whatever the reward, even a wrong one (zero, or negated): the
survival instinct. A negative $\kappa$ large enough is optimism, not pessimism.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import sympy as sp

from .._model import Model
from .._values import symbolic_arguments

SAFE_COVERAGE, ALL_COVERAGE = "safe", "all"
COVERAGES = (SAFE_COVERAGE, ALL_COVERAGE)
REWARD_NAMES = ("step", "goal", "failure")


def _check(length: int, coverage: str) -> None:
    if isinstance(length, bool) or not isinstance(length, int) or length < 2:
        raise ValueError(f"length must be an integer of at least 2, got {length!r}")
    if coverage not in COVERAGES:
        raise ValueError(f"coverage must be one of {COVERAGES}, got {coverage!r}")


def _q_values(values, rewards, discount, pessimism, coverage: str):
    """Q of `advance` and `exit` in each cell, and the backed-up value of F."""
    *path, failure = values
    low = sp.Min(*(rewards[name] for name in REWARD_NAMES))
    unknown = (low - pessimism) / (1 - discount)
    covered = coverage == ALL_COVERAGE
    advance = [
        (rewards["goal"] if i == len(path) - 1 else rewards["step"])
        + discount * path[min(i + 1, len(path) - 1)]
        for i in range(len(path))
    ]
    exit_value = rewards["step"] + discount * failure if covered else unknown
    stay = rewards["failure"] + discount * failure if covered else unknown
    return advance, [exit_value] * len(path), stay


def survival_instinct(
    length: int = 5,
    discount: float = 0.9,
    pessimism: float = 1.0,
    coverage: str = SAFE_COVERAGE,
    rewards: Mapping[str, float] | None = None,
) -> Model:
    r"""Pessimistic value iteration on the chain MDP of the module docstring, as a map
    $V_{k+1} = \mathcal T V_k$ on $(V_0, \dots, V_{n-1}, V_F)$.

    The map is a $\gamma$-contraction, so every start ends at one fixed point. The
    predicate `"safe"` holds where the greedy policy advances in every cell:
    $Q(i, \text{advance}) > Q(i, \text{exit})$ for all $i$. The exact fixed point
    and policy are [`pessimistic_values`][].

    **Arguments:**

    - `length`: the number of cells $n \ge 2$.
    - `discount`: default of $\gamma \in (0, 1)$.
    - `pessimism`: default of $\kappa$.
    - `coverage`: `"safe"` (only `advance` in the data) or `"all"`.
    - `rewards`: defaults of `step`, `goal` and `failure`; the true reward
      `{"step": 0, "goal": 1, "failure": -1}` by default.

    **Returns:**

    A map [`basinlab.Model`][] with state `V_0, ..., V_{n-1}, V_F` and parameters
    `gamma`, `kappa`, `r_step`, `r_goal`, `r_failure`.

    **Raises:**

    - `ValueError`: `length < 2`, an unknown coverage, `discount` outside (0, 1), a
      reward name other than those three, or a value that is not finite.
    """
    _check(length, coverage)
    rewards = _rewards(rewards)
    if not 0 < discount < 1:
        raise ValueError(f"discount must lie in (0, 1), got {discount!r}")
    if not math.isfinite(pessimism):
        raise ValueError(f"pessimism must be finite, got {pessimism!r}")
    values = [sp.Symbol(f"V_{i}", real=True) for i in range(length)] + [sp.Symbol("V_F", real=True)]
    gamma = sp.Symbol("gamma", positive=True)
    kappa = sp.Symbol("kappa", real=True)
    symbols = {name: sp.Symbol(f"r_{name}", real=True) for name in REWARD_NAMES}
    advance, exits, stay = _q_values(values, symbols, gamma, kappa, coverage)
    update = [sp.Max(a, e) for a, e in zip(advance, exits)] + [stay]
    return Model.iterated_map(
        "survival_instinct",
        values,
        update,
        params={gamma: discount, kappa: pessimism, **{symbols[k]: v for k, v in rewards.items()}},
        predicates={"safe": sp.And(*(a > e for a, e in zip(advance, exits)))},
        observables={"safety_margin": sp.Min(*(a - e for a, e in zip(advance, exits)))},
        description="Pessimistic value iteration on a chain with an absorbing failure "
        f"state, {coverage} data coverage (Li et al. 2023): is the greedy policy safe "
        "whatever the reward?",
        search_box=[(-20.0, 20.0)] * (length + 1),
    )


def _rewards(rewards: Mapping[str, float] | None) -> dict[str, float]:
    given = dict(rewards or {"step": 0.0, "goal": 1.0, "failure": -1.0})
    unknown = set(given) - set(REWARD_NAMES)
    if unknown:
        raise ValueError(f"unknown rewards {sorted(unknown)}; the rewards are {REWARD_NAMES}")
    full = {"step": 0.0, "goal": 0.0, "failure": 0.0, **given}
    for name, value in full.items():
        if isinstance(value, bool) or not isinstance(value, int | float | sp.Rational):
            raise ValueError(f"the {name} reward must be a number, got {value!r}")
        if not math.isfinite(float(value)):
            raise ValueError(f"the {name} reward must be finite, got {value!r}")
    return full


def pessimistic_values(
    length: int,
    discount: object,
    pessimism: object,
    coverage: str,
    rewards: Mapping[str, object],
) -> tuple[list[sp.Rational], sp.Rational]:
    r"""The exact fixed point of pessimistic value iteration and its safety margin,
    by policy iteration in rational arithmetic.

    Each policy is evaluated by solving $(I - \gamma P_\pi) V = r_\pi$ exactly (an
    action outside the data is a step to a terminal value $V_\text{unknown}$), and
    improved where another action is strictly better; on a finite MDP this ends,
    at the exact optimum, after finitely many rounds (Howard 1960).

    **Arguments:**

    - `length`, `coverage`: as for [`survival_instinct`][].
    - `discount`, `pessimism`: $\gamma$ and $\kappa$, as numbers (made exact by
      `sympy.nsimplify`) or rationals.
    - `rewards`: `step`, `goal` and `failure` (missing ones are zero).

    **Returns:**

    `(values, margin)`: $V_0, \dots, V_{n-1}, V_F$ and
    $\min_i [Q(i, \text{advance}) - Q(i, \text{exit})]$ as exact rationals; the
    greedy policy is safe iff the margin is positive.

    **Raises:**

    - `ValueError`: as for [`survival_instinct`][].
    """
    _check(length, coverage)
    exact = {k: sp.nsimplify(v, rational=True) for k, v in _rewards(rewards).items()}
    gamma, kappa = (
        sp.nsimplify(v, rational=True)
        for v in symbolic_arguments(discount=discount, pessimism=pessimism)
    )
    if not 0 < gamma < 1:
        raise ValueError(f"discount must lie in (0, 1), got {discount!r}")
    values = sp.symbols(f"x0:{length + 1}")
    advance, exits, stay = _q_values(list(values), exact, gamma, kappa, coverage)
    choice = [True] * length  # advance everywhere
    while True:
        equations = [values[i] - (advance[i] if choice[i] else exits[i]) for i in range(length)] + [
            values[-1] - stay
        ]
        solution = sp.solve(equations, values, dict=True)[0]
        current = [solution[v] for v in values]
        at = dict(zip(values, current))
        q_advance = [sp.nsimplify(a.subs(at)) for a in advance]
        q_exit = [sp.nsimplify(e.subs(at)) for e in exits]
        improved = [
            (q_advance[i] > q_exit[i]) if choice[i] is False else not (q_exit[i] > q_advance[i])
            for i in range(length)
        ]
        if improved == choice:
            return current, min(a - e for a, e in zip(q_advance, q_exit))
        choice = improved
