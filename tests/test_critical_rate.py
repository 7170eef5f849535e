"""Rate-induced tipping against the closed form of Ashwin et al.'s normal form."""

import math

import numpy as np
import pytest
import sympy as sp

import basinlab as bl


def _normal_form():
    x, lam = sp.symbols("x lam", real=True)
    return bl.Model("ramp_normal_form", [x], [(x + lam) ** 2 - 1], params={lam: 0.0})


@pytest.mark.parametrize("size", [3.0, 5.0])
def test_the_tanh_ramp_tips_at_the_exact_critical_rate(size):
    # In (y, lam) = (x + lam, lam) the tanh ramp is lam' = r lam (size - lam), and the
    # line y = -1 + 2 lam / size joins the saddles (-1, 0) and (1, size) exactly when
    # r = 4 / (size (size - 2)).
    found = bl.critical_rate(_normal_form(), bl.Ramp("lam", 0.0, size), [-1.0])
    exact = 4 / (size * (size - 2))
    assert float(found["critical_rate"]) == pytest.approx(exact, rel=1e-5)
    assert float(found["rate_low"]) < float(found["rate_high"]) < exact * (1 + 1e-5)
    assert found["tracked_state"].values == pytest.approx([-1 - size], abs=1e-4)
    rates, tipped = found["rate"].values, found["tipped"].values
    np.testing.assert_array_equal(tipped, rates > float(found["rate_low"]))


def test_a_ramp_smaller_than_the_gap_between_branches_never_tips():
    found = bl.critical_rate(_normal_form(), bl.Ramp("lam", 0.0, 1.5), [-1.0])
    assert math.isinf(float(found["critical_rate"]))
    assert not found["tipped"].values.any()


def test_a_long_linear_ramp_tips_just_above_the_unbounded_rate_one():
    # Under lam = r t without end, y' = y^2 - 1 + r: a moving rest point exists iff r < 1.
    found = bl.critical_rate(
        _normal_form(), bl.Ramp("lam", 0.0, 200.0, shape="linear"), [-1.0], rates=(0.01, 100)
    )
    assert 1.0 < float(found["critical_rate"]) < 1.002


def test_losing_the_attractor_to_a_fold_is_not_rate_tipping():
    model = bl.models.alignment_tilted_well()
    # The aligned minimum meets the saddle in a fold at bias = 2 sqrt(3) / 9 = 0.3849
    # (theory.bifurcations).
    (aligned,) = [p.numeric for p in bl.fixed_points(model) if p.stable and p.numeric[0] > 0]
    with pytest.raises(ValueError, match=r"lost to a bifurcation near bias = 0\.38"):
        bl.critical_rate(model, bl.Ramp("bias", 0.2, 0.6), aligned, rates=(0.01, 1))
    with pytest.raises(ValueError, match="not near a stable fixed point"):
        bl.critical_rate(model, bl.Ramp("bias", 0.2, 0.3), [0.2091, 1.2091], rates=(0.01, 1))


def test_bad_ramps_and_requests_are_refused():
    with pytest.raises(ValueError, match="must move"):
        bl.Ramp("lam", 1.0, 1.0)
    with pytest.raises(ValueError, match="rate must be positive"):
        bl.Ramp("lam", 0.0, 1.0, rate=0.0)
    with pytest.raises(ValueError, match="shape"):
        bl.Ramp("lam", 0.0, 1.0, shape="cubic")
    with pytest.raises(TypeError, match="start must be a number"):
        bl.Ramp("lam", "0", 1.0)
    with pytest.raises(ValueError, match="not one of"):
        bl.critical_rate(_normal_form(), bl.Ramp("mu", 0.0, 3.0), [-1.0])
    with pytest.raises(ValueError, match="needs a flow"):
        bl.critical_rate(bl.models.logistic_map(), bl.Ramp("r", 2.0, 3.0), [0.5])
    with pytest.raises(ValueError, match="slowest < fastest"):
        bl.critical_rate(_normal_form(), bl.Ramp("lam", 0.0, 3.0), [-1.0], rates=(2, 1))


def test_a_ramp_reaches_its_ends_over_its_span():
    for shape in ("tanh", "linear"):
        ramp = bl.Ramp("lam", 1.0, -2.0, rate=0.5, shape=shape)
        low, high = ramp.span()
        assert ramp.value(low) == pytest.approx(1.0, abs=1e-8)
        assert ramp.value(high) == pytest.approx(-2.0, abs=1e-8)
