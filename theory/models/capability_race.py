r"""Learning order under a curriculum: do values come before situational awareness?

Built on the exact dynamics of deep linear networks (Saxe, McClelland & Ganguli 2014,
arXiv:1312.6120): in the SVD basis of the data, each input–output mode $k$ of
strength $s_k$ is learned by its own pair of weights $(a_k, b_k)$, along a sigmoid
whose time scale is $\tau / s_k$ (Eqs 8–12).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import sympy as sp

from .._checks import check_positive
from .._model import Model
from .._values import symbolic_arguments
from ._curriculum import Curriculum
from .deep_linear import learning_time

VALUES, AWARENESS = "values", "awareness"
# The definition: values pass 90% of their strength before awareness passes 10%.
VALUES_LEVEL, AWARENESS_LEVEL = sp.Rational(9, 10), sp.Rational(1, 10)


def _default_curriculum() -> Curriculum:
    return Curriculum(
        [(4.0, {VALUES: 0.95, AWARENESS: 0.05}), (math.inf, {VALUES: 0.5, AWARENESS: 0.5})]
    )


def capability_race(
    strengths: Mapping[str, float] | None = None,
    curriculum: Curriculum | None = None,
    tau: float = 1.0,
) -> Model:
    r"""Deep-linear modes for "values" and "situational awareness", trained on a
    curriculum of data weights.

    Mode $k$ has singular value $s_k$ (how strongly the data express it) and weights
    $(a_k, b_k)$; the loss is the curriculum's mixture
    $E(t) = \sum_k w_k(t)\,(s_k - a_k b_k)^2 / 2\tau$, so

    $$\tau \dot a_k = w_k(t)\, b_k\,(s_k - a_k b_k), \qquad
      \tau \dot b_k = w_k(t)\, a_k\,(s_k - a_k b_k), \qquad \dot t = 1,$$

    with $w_k(t)$ piecewise constant ([`basinlab.theory.Curriculum`][]). The clock
    $t$ is part of the state, which makes the flow autonomous; start it at the
    run's start time (normally 0). From a balanced start $a_k = b_k$ the strength
    $u_k = a_k b_k$ follows Saxe et al.'s sigmoid (Eq 12) in the effective time
    $W_k(t) = \int_0^t w_k$, so the time it takes from $u_0$ to $u_f$ is Eq 11's
    [`learning_time`][basinlab.theory.models.deep_linear.learning_time] in
    $W_k$ ([`crossing_times`][]).

    The observables are `u_<mode>`; the predicate `"values_first"` is
    $u_\mathrm{aw} < s_\mathrm{aw}/10$ or $u_\mathrm{val} \ge 9 s_\mathrm{val}/10$.
    As the strengths grow monotonically from balanced starts, the predicate holds
    *all along* a run ([`basinlab.simulations.holds_all_along`][]) exactly when the
    values mode passes 90% of its strength before the awareness mode passes 10%.

    This is stylised: naming two modes of a linear network "values" and
    "awareness" is an assumption, as is modelling a curriculum by loss weights.

    **Arguments:**

    - `strengths`: singular value $s_k$ by mode; must include `"values"` and
      `"awareness"`; default `{"values": 1.0, "awareness": 3.0}` (awareness is
      expressed more strongly by the data).
    - `curriculum`: the schedule over the same modes; default 4 time units at
      weights (0.95, 0.05), then (0.5, 0.5) for ever.
    - `tau`: default of $\tau$.

    **Returns:**

    A [`basinlab.Model`][] with state $(a_k, b_k)_k$ then $t$, and parameters
    `s_<mode>`, `tau` and the curriculum's (see
    [`Curriculum.symbolic_weights`][basinlab.theory.Curriculum.symbolic_weights]).

    **Raises:**

    - `ValueError`: a strength that is not positive, `"values"` or `"awareness"`
      missing, a curriculum over other modes, or `tau` not positive.
    """
    strengths = dict(strengths or {VALUES: 1.0, AWARENESS: 3.0})
    curriculum = curriculum if curriculum is not None else _default_curriculum()
    if not isinstance(curriculum, Curriculum):
        raise ValueError(f"curriculum must be a Curriculum, got {type(curriculum).__name__}")
    for mode, value in strengths.items():
        check_positive(value, f"the strength of {mode!r}")
    missing = {VALUES, AWARENESS} - set(strengths)
    if missing:
        raise ValueError(
            f"capability_race needs the modes 'values' and 'awareness'; missing {sorted(missing)}"
        )
    if set(curriculum.modes) != set(strengths):
        raise ValueError(
            f"the curriculum weighs the modes {sorted(curriculum.modes)}, "
            f"but the strengths name {sorted(strengths)}"
        )
    check_positive(tau, "tau")
    clock = sp.Symbol("t", real=True)
    tau_ = sp.Symbol("tau", positive=True)
    weights, schedule = curriculum.symbolic_weights(clock)
    state, field, s, u = [], [], {}, {}
    for mode in strengths:
        a, b = sp.symbols(f"a_{mode} b_{mode}", real=True)
        s[mode] = sp.Symbol(f"s_{mode}", positive=True)
        u[mode] = a * b
        error = weights[mode] * (s[mode] - a * b) / tau_
        state += [a, b]
        field += [error * b, error * a]
    return Model(
        "capability_race",
        [*state, clock],
        [*field, sp.Integer(1)],
        params={**{s[m]: v for m, v in strengths.items()}, tau_: tau, **schedule},
        predicates={
            "values_first": sp.Or(
                u[AWARENESS] < AWARENESS_LEVEL * s[AWARENESS],
                u[VALUES] >= VALUES_LEVEL * s[VALUES],
            )
        },
        observables={f"u_{mode}": u[mode] for mode in strengths},
        description="Stylised: deep-linear modes 'values' and 'awareness' trained on a "
        "curriculum of data weights; are values learned first?",
    )


def balanced_start(initial_strengths: Mapping[str, float], model: Model) -> list[float]:
    r"""The state $a_k = b_k = \sqrt{u_k(0)}$, clock 0, of a
    [`capability_race`][] model.

    **Raises:**

    - `ValueError`: a strength that is not positive, or modes that are not the
      model's.
    """
    modes = [name[2:] for name in model.state_names if name.startswith("a_")]
    if set(initial_strengths) != set(modes):
        raise ValueError(
            f"give an initial strength for each of {modes}, got {sorted(initial_strengths)}"
        )
    start = []
    for mode in modes:
        root = math.sqrt(
            check_positive(initial_strengths[mode], f"the initial strength of {mode!r}")
        )
        start += [root, root]
    return [*start, 0.0]


def crossing_times(
    curriculum: Curriculum,
    strengths: Mapping[str, float],
    initial_strengths: Mapping[str, float],
    levels: Mapping[str, float],
    tau: float = 1.0,
) -> dict[str, float]:
    r"""When each balanced mode first reaches the fraction `levels[k]` of $s_k$,
    exactly: Eq 11 gives the effective time
    $W^\star = \frac{\tau}{2s}\ln\frac{u_f(s-u_0)}{u_0(s-u_f)}$, and the schedule's
    inverse $W_k^{-1}(W^\star)$ the time ([`Curriculum.time_to_accumulate`][]).

    **Arguments:**

    - `curriculum`: the schedule.
    - `strengths`, `initial_strengths`: $s_k$ and $u_k(0)$ by mode.
    - `levels`: the fraction of $s_k$ to reach, by mode (a subset of the modes).
    - `tau`: $\tau$.

    **Returns:**

    The time by mode of `levels`: 0 for a mode that starts at or above its level,
    `math.inf` for one the schedule never brings there.

    **Raises:**

    - `ValueError`: a level outside (0, 1), a start outside $(0, s_k)$, or a mode
      the curriculum does not have.
    """
    times = {}
    for mode, level in levels.items():
        if not 0 < level < 1:
            raise ValueError(f"the level of {mode!r} must lie in (0, 1), got {level}")
        s, u0 = strengths[mode], initial_strengths[mode]
        if not 0 < u0 < s:
            raise ValueError(f"the initial strength of {mode!r} must lie in (0, {s}), got {u0}")
        if u0 >= level * s:
            times[mode] = 0.0
            continue
        needed = learning_time(s, u0, level * s, tau)
        times[mode] = curriculum.time_to_accumulate(mode, needed)
    return times


def values_first(
    curriculum: Curriculum,
    strengths: Mapping[str, float],
    initial_strengths: Mapping[str, float],
    tau: float = 1.0,
) -> bool:
    """Whether the values mode passes 90% of its strength before the awareness mode
    passes 10%, from balanced starts, decided exactly by [`crossing_times`][]. A run
    in which awareness never passes 10% counts as values first.
    """
    times = crossing_times(
        curriculum,
        strengths,
        initial_strengths,
        {VALUES: float(VALUES_LEVEL), AWARENESS: float(AWARENESS_LEVEL)},
        tau,
    )
    return times[VALUES] <= times[AWARENESS]


def constant_weight_threshold(
    s_values: object, s_awareness: object, u0_values: object, u0_awareness: object
) -> sp.Expr | float:
    r"""The least constant weight $w^\star$ of the values data for which values come
    first (the awareness data weigh $1 - w$), from balanced starts:

    $$w^\star = \frac{s_\mathrm{aw}\,L_\mathrm{val}}{s_\mathrm{aw}\,L_\mathrm{val}
        + s_\mathrm{val}\,L_\mathrm{aw}}, \quad
      L_\mathrm{val} = \ln\frac{9\,(s_\mathrm{val} - u_\mathrm{val})}{u_\mathrm{val}},
      \quad L_\mathrm{aw} = \ln\frac{s_\mathrm{aw} - u_\mathrm{aw}}{9\,u_\mathrm{aw}},$$

    for $u_\mathrm{val} < 0.9\,s_\mathrm{val}$ and $u_\mathrm{aw} < 0.1\,s_\mathrm{aw}$
    (Eq 11 of Saxe et al. 2014 for both crossings; proved as the claim
    `capability_race.constant_weights`). With numbers it returns a float, with any
    symbol a SymPy expression; $\tau$ cancels.

    **Raises:**

    - `ValueError`: numeric starts outside those ranges.
    """
    s_v, s_a, u_v, u_a = symbolic_arguments(
        s_values=s_values, s_awareness=s_awareness, u0_values=u0_values, u0_awareness=u0_awareness
    )
    if all(v.is_number for v in (s_v, s_a, u_v, u_a)) and not (
        0 < u_v < VALUES_LEVEL * s_v and 0 < u_a < AWARENESS_LEVEL * s_a
    ):
        raise ValueError(
            "need 0 < u0_values < 0.9 s_values and 0 < u0_awareness < 0.1 s_awareness, got "
            f"{u0_values}, {u0_awareness} for strengths {s_values}, {s_awareness}"
        )
    lag_values = sp.log(9 * (s_v - u_v) / u_v)
    lag_awareness = sp.log((s_a - u_a) / (9 * u_a))
    threshold = s_a * lag_values / (s_a * lag_values + s_v * lag_awareness)
    return float(threshold) if not threshold.free_symbols else threshold
