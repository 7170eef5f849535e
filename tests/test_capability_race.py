"""The capability race: curricula, their exact crossing times, and values first."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import basinlab as bl
from basinlab.simulations import holds_all_along
from basinlab.theory import Curriculum
from basinlab.theory.models import (
    balanced_start,
    capability_race,
    constant_weight_threshold,
    crossing_times,
    values_first,
)

STRENGTHS = {"values": 1.0, "awareness": 3.0}
STARTS = {"values": 0.01, "awareness": 0.01}
TIMES = np.linspace(0.0, 40.0, 4001)
TIGHT = dict(rtol=1e-9, atol=1e-11)


def _two_phases(length: float, first: float, second: float = 0.5) -> Curriculum:
    return Curriculum(
        [
            (length, {"values": first, "awareness": 1 - first}),
            (math.inf, {"values": second, "awareness": 1 - second}),
        ]
    )


@pytest.fixture(scope="module")
def compiled():
    return bl.compile_model(capability_race(curriculum=_two_phases(4.0, 0.9)))


@pytest.mark.parametrize(
    "phases, message",
    [
        ([], "at least one phase"),
        ([(-1.0, {"values": 0.5, "awareness": 0.5})], "length of phase 1 must be positive"),
        ([(0.0, {"values": 0.5, "awareness": 0.5})], "length of phase 1 must be positive"),
        ([(float("nan"), {"values": 1.0})], "length of phase 1 must be positive"),
        (
            [(math.inf, {"values": 1.0}), (2.0, {"values": 1.0})],
            "only the last phase may last for ever",
        ),
        ([(1.0, {"values": 0.7, "awareness": 0.2})], "weights of phase 1 sum to 0.9, not 1"),
        ([(1.0, {"values": 1.2, "awareness": -0.2})], "'awareness' in phase 1 must be finite"),
        (
            [(1.0, {"values": 1.0}), (1.0, {"values": 0.5, "awareness": 0.5})],
            "phase 2 names the modes",
        ),
        ([(1.0, {})], "phase 1 needs a mapping"),
        ([(1.0,)], "phase 1 must be a \\(length, weights\\) pair"),
        ([("long", {"values": 1.0})], "length of phase 1 must be a number"),
    ],
)
def test_bad_curricula_are_refused_with_the_phase_named(phases, message):
    with pytest.raises(ValueError, match=message):
        Curriculum(phases)


def test_bad_races_are_refused():
    with pytest.raises(ValueError, match="missing \\['awareness'\\]"):
        capability_race({"values": 1.0}, Curriculum.constant({"values": 1.0}))
    with pytest.raises(ValueError, match="the curriculum weighs the modes"):
        capability_race(STRENGTHS, Curriculum.constant({"values": 0.5, "other": 0.5}))
    with pytest.raises(ValueError, match="strength of 'values'"):
        capability_race({"values": -1.0, "awareness": 1.0})
    with pytest.raises(ValueError, match="give an initial strength"):
        balanced_start({"values": 0.1}, capability_race())
    with pytest.raises(ValueError, match="need 0 < u0_values"):
        constant_weight_threshold(1.0, 3.0, 0.95, 0.01)


@settings(max_examples=60, deadline=None)
@given(
    lengths=st.lists(st.floats(0.1, 5.0), min_size=1, max_size=4),
    shares=st.lists(st.floats(0.0, 1.0), min_size=4, max_size=4),
    amount=st.floats(0.0, 12.0),
)
def test_the_schedule_s_inverse_undoes_its_cumulative_weight(lengths, shares, amount):
    curriculum = Curriculum(
        [(length, {"a": w, "b": 1 - w}) for length, w in zip(lengths, shares, strict=False)]
    )
    t = curriculum.time_to_accumulate("a", amount)
    total = curriculum.cumulative_weight("a", curriculum.ends[-1])
    if amount > total + 1e-12:
        assert t == math.inf
    else:
        assert curriculum.cumulative_weight("a", t) == pytest.approx(amount, abs=1e-12)
        # The first such time: a moment earlier, less had accumulated.
        if t > 1e-9:
            assert curriculum.cumulative_weight("a", t - 1e-9) < amount
    # Weights sum to one in each phase, so the modes share the elapsed time.
    for time in (0.3 * curriculum.ends[-1], curriculum.ends[-1]):
        together = curriculum.cumulative_weight("a", time) + curriculum.cumulative_weight("b", time)
        assert together == pytest.approx(time)


def test_simulated_crossings_happen_at_the_exact_times_under_three_phases():
    curriculum = Curriculum(
        [
            (1.5, {"values": 0.8, "awareness": 0.2}),
            (2.0, {"values": 0.3, "awareness": 0.7}),
            (math.inf, {"values": 0.6, "awareness": 0.4}),
        ]
    )
    model = capability_race(STRENGTHS, curriculum)
    runs = bl.trajectories(model, [balanced_start(STARTS, model)], TIMES, **TIGHT)
    levels = {"values": 0.5, "awareness": 0.5}
    exact = crossing_times(curriculum, STRENGTHS, STARTS, levels)
    for mode, level in levels.items():
        u = runs[f"u_{mode}"].values[0]
        simulated = np.interp(level * STRENGTHS[mode], u, TIMES)
        assert simulated == pytest.approx(exact[mode], abs=2e-3)
    clock = runs["y"].sel(state="t").values[0]
    np.testing.assert_allclose(clock, TIMES, atol=1e-9)


def test_constant_weights_flip_the_simulated_order_at_the_exact_threshold(compiled):
    threshold = constant_weight_threshold(1.0, 3.0, 0.01, 0.01)
    start = [balanced_start(STARTS, compiled.model)]
    for weight, expected in ((threshold - 0.01, False), (threshold + 0.01, True)):
        # A first phase longer than the run makes the weights constant.
        params = {"phase_1_length": 100.0, "phase_1_values": weight}
        runs = bl.trajectories(compiled, start, TIMES, params=params, **TIGHT)
        assert bool(holds_all_along(runs, "values_first").values[0]) is expected
        constant = Curriculum.constant({"values": weight, "awareness": 1 - weight})
        assert values_first(constant, STRENGTHS, STARTS) is expected


def test_simulated_values_first_agrees_with_the_exact_decision_over_curricula(compiled):
    start = [balanced_start(STARTS, compiled.model)]
    decisions = []
    for length in (2.0, 3.6, 5.0):
        for weight in (0.8, 0.9, 0.97):
            params = {"phase_1_length": length, "phase_1_values": weight}
            runs = bl.trajectories(compiled, start, TIMES, params=params, **TIGHT)
            simulated = bool(holds_all_along(runs, "values_first").values[0])
            exact = values_first(_two_phases(length, weight), STRENGTHS, STARTS)
            assert simulated is exact, (length, weight)
            decisions.append(exact)
    assert any(decisions) and not all(decisions)
