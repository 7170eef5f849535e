"""Predicates over whole trajectories, and the alignment research race."""

import numpy as np
import pytest
import scipy.integrate
import xarray as xr

import basinlab as bl
from basinlab.simulations import first_violation, holds_all_along, holds_at_end

RACE = bl.models.alignment_research_race()


def _hand_made(holds: list[list[bool]]) -> xr.Dataset:
    holds = np.array(holds, dtype=bool)[:, :, None]
    return xr.Dataset(
        {"holds": (("trajectory", "time", "predicate"), holds)},
        coords={
            "trajectory": np.arange(holds.shape[0]),
            "time": [0.0, 1.0, 2.5],
            "predicate": ["ok"],
        },
        attrs={"kind": "trajectories"},
    )


def test_all_along_at_the_end_and_the_first_failure_on_hand_made_paths():
    paths = _hand_made([[True, True, True], [True, False, True], [False, True, False]])
    assert holds_all_along(paths, "ok").values.tolist() == [True, False, False]
    assert holds_at_end(paths, "ok").values.tolist() == [True, True, False]
    assert np.array_equal(first_violation(paths, "ok").values, [np.nan, 1.0, 0.0], equal_nan=True)


def _keeps_up_all_along(rates: dict, start: tuple[float, float], t1: float) -> bool:
    """The same question answered by scipy on a dense grid, from the equations."""

    def field(_, y):
        c, a = y
        return [rates["r_c"] * c * (1 - c), rates["r_a"] * c * (1 - a) - rates["leak"] * a]

    times = np.linspace(0, t1, 4001)
    path = scipy.integrate.solve_ivp(field, (0, t1), start, t_eval=times, rtol=1e-10).y
    return bool(np.all(path[1] - path[0] + rates["margin"] >= 0))


@pytest.mark.parametrize("alignment_rate", [0.3, 0.5, 0.8, 1.0, 3.0])
def test_the_race_never_lags_exactly_when_scipy_says_so(alignment_rate):
    rates = {"r_c": 1.0, "r_a": alignment_rate, "leak": 0.05, "margin": 0.1}
    starts = np.array([[0.01, a0] for a0 in (0.0, 0.1, 0.3)])
    result = bl.trajectories(
        RACE, starts, np.linspace(0, 40, 4001), params=rates, rtol=1e-9, atol=1e-11
    )
    along = holds_all_along(result, "keeps_up").values
    expected = [_keeps_up_all_along(rates, tuple(s), 40.0) for s in starts]
    assert along.tolist() == expected
    # Every run ends at the exact endpoint a = r_a / (r_a + leak).
    ends = result["y"].values[:, -1]
    assert np.allclose(ends, [1.0, alignment_rate / (alignment_rate + 0.05)], atol=1e-4)


def test_a_slow_alignment_rate_ends_aligned_after_lagging_on_the_way():
    result = bl.trajectories(RACE, [[0.01, 0.0]], np.linspace(0, 40, 401), params={"r_a": 0.5})
    assert bool(holds_at_end(result, "keeps_up")[0])
    assert not bool(holds_all_along(result, "keeps_up")[0])
    assert 0 < float(first_violation(result, "keeps_up")[0]) < 10


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: holds_all_along(xr.Dataset(), "ok"), "needs a result of basinlab.trajectories"),
        (lambda: holds_at_end(_hand_made([[True] * 3]), "aligned"), "unknown predicate 'aligned'"),
        (lambda: first_violation(_hand_made([[True] * 3]), "x"), "the model's predicates are"),
    ],
)
def test_trajectory_predicate_bad_input(call, message):
    with pytest.raises(ValueError) as raised:
        call()
    assert message in str(raised.value)
