from fractions import Fraction

import numpy as np
import numpyro.distributions as dist
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

import basinlab as bl
from basinlab.theory import NON_HYPERBOLIC, SADDLE, STABLE_FOCUS, STABLE_NODE, UNSTABLE

MODEL = bl.models.alignment_double_well()
rationals = st.fractions(min_value=-3, max_value=3, max_denominator=20)


@given(
    bias=st.fractions(min_value=Fraction(-19, 20), max_value=Fraction(19, 20), max_denominator=20),
    coupling=rationals,
)
def test_exact_fixed_points_are_exact_zeros(bias, coupling):
    params = {"bias": float(bias), "coupling": float(coupling)}
    points = bl.fixed_points(MODEL, params=params)
    field = MODEL.substituted(params, exact=True)
    assert len(points) == 3
    for point in points:
        assert point.exact
        residual = field.subs(dict(zip(MODEL.state, point.location)))
        assert all(sp.simplify(r) == 0 for r in residual)
    kinds = sorted(p.kind for p in points)
    assert kinds == sorted([SADDLE, STABLE_NODE, STABLE_NODE])
    saddle = next(p for p in points if p.kind == SADDLE)
    assert saddle.index == 1
    assert saddle.numeric[0] == pytest.approx(float(bias))


def test_the_default_models_fixed_points_match_the_docstring():
    points = bl.fixed_points(MODEL)
    assert {p.location for p in points} == {
        (-1, 0),
        (1, 2),
        (sp.Rational(1, 5), sp.Rational(6, 5)),
    }


def test_classification_against_hand_computed_eigenvalues():
    x, y = sp.symbols("x y")
    cases = {
        STABLE_NODE: ([-x, -2 * y], [-2, -1]),
        STABLE_FOCUS: ([-x - y, x - y], [-1 - 1j, -1 + 1j]),
        UNSTABLE: ([x, 3 * y], [1, 3]),
        NON_HYPERBOLIC: ([-(x**3), -y], [-1, 0]),
    }
    for kind, (field, eigenvalues) in cases.items():
        point = bl.classify(bl.Model("m", [x, y], field), [0, 0])
        assert point.kind == kind
        np.testing.assert_allclose(point.eigenvalues, eigenvalues, atol=1e-12)
    saddle = bl.classify(bl.Model("m", [x, y, sp.Symbol("z")], [x, y, -sp.Symbol("z")]), [0, 0, 0])
    assert (saddle.kind, saddle.index) == (SADDLE, 2)


def test_non_polynomial_field_falls_back_to_polished_numeric_roots():
    x, y = sp.symbols("x y")
    model = bl.Model("pendulum", [x, y], [y, -sp.sin(x) - y / 2])
    points = bl.fixed_points(model, search_box=[(-4, 4), (-1, 1)])
    assert all(not p.exact for p in points)
    found = sorted(round(p.numeric[0], 9) for p in points)
    np.testing.assert_allclose(found, [-np.pi, 0.0, np.pi], atol=1e-9)
    kinds = {round(p.numeric[0], 6): p.kind for p in points}
    assert kinds[0.0] == STABLE_FOCUS
    assert kinds[round(np.pi, 6)] == SADDLE


def test_hessian_needs_a_loss():
    with pytest.raises(ValueError, match="not a gradient flow"):
        bl.hessian(bl.models.bistable_cycle())


def test_bad_search_box():
    with pytest.raises(ValueError, match="search_box"):
        bl.fixed_points(MODEL, search_box=[(1, -1), (0, 1)])


def test_numeric_search_stays_inside_a_declared_domain():
    # The RL perceptron's field takes arccos(S / sqrt(Q)): outside |S| <= sqrt(Q) it is
    # not defined, and the isolation test once stepped there and crashed.
    model = bl.models.reward_perceptron()
    assert model.domain
    for point in bl.fixed_points(model):
        r, s, q, _ = point.numeric
        assert q > 0 and s**2 <= q and r**2 <= q
    x = sp.Symbol("x", real=True)
    bounded = bl.Model("bounded", [x], [sp.sqrt(1 - x**2) * (x - sp.Rational(1, 2))])
    inside = bl.Model(
        "inside",
        [x],
        [sp.log(x) * (x - sp.Rational(1, 2))],
        search_box=[(-3.0, 3.0)],
        domain=[x > 0],
    )
    assert sorted(p.numeric[0] for p in bl.fixed_points(inside)) == pytest.approx([0.5, 1.0])
    assert any(abs(p.numeric[0] - 0.5) < 1e-9 for p in bl.fixed_points(bounded))


def test_a_domain_must_be_relations():
    x = sp.Symbol("x", real=True)
    with pytest.raises(TypeError, match="must be a relation such as Q > 0"):
        bl.Model("m", [x], [-x], domain=[x])
    with pytest.raises(TypeError, match="not the string"):
        bl.Model("m", [x], [-x], domain=["x > 0"])
    with pytest.raises(ValueError, match="free symbol"):
        bl.Model("m", [x], [-x], domain=[sp.Symbol("y") > 0])


def test_kinds_hold_when_eigenvalues_lie_hundreds_of_orders_apart():
    # With coupling k the Jacobian has eigenvalues near -k^2 and -det/k^2: at k = 1e300
    # they are 1e600 and 1e-600, beyond floats and beyond 50 digits of each other.
    points = bl.fixed_points(bl.models.alignment_double_well(), params={"coupling": 1e300})
    assert sorted(p.kind for p in points) == [SADDLE, STABLE_NODE, STABLE_NODE]
    assert [p.index for p in points] == [0, 0, 1]


u = sp.Symbol("u", real=True)


@pytest.mark.parametrize(
    "update, expected",
    [
        # F = u/2 + floor(u)/4: fixed where u = floor(u)/2, so -1/2 and 0; near -1 the
        # piece left of it tends to a root it never reaches (F(-1) = -3/4).
        (u / 2 + sp.floor(u) / 4, [-0.5, 0.0]),
        (u / 2 + sp.ceiling(u) / 4, [0.0, 0.5]),
        (sp.Mod(u / 2 + 1, 3), [2.0]),
    ],
    ids=["floor", "ceiling", "Mod"],
)
def test_piecewise_smooth_maps_have_their_fixed_points_on_each_piece(update, expected):
    model = bl.Model.iterated_map("piecewise", [u], [update], search_box=[(-2.0, 4.0)])
    points = bl.fixed_points(model)
    assert sorted(p.numeric[0] for p in points) == pytest.approx(expected, abs=1e-9)
    # The Jacobian of each smooth piece: F' = 1/2 everywhere it exists.
    assert all(p.kind == STABLE_NODE and p.eigenvalues == pytest.approx([0.5]) for p in points)
    starts = dist.Uniform(np.array([-2.0]), np.array([4.0])).to_event(1)
    fractions = bl.basin_fractions(model, starts, n=200, seed=0, progress=False)
    assert float(fractions["fraction"].sum()) == pytest.approx(1.0)
    assert set(fractions["attractor_kind"].values) == {STABLE_NODE}


def test_an_angle_wrapped_by_mod_is_one_attractor_on_both_sides_of_the_wrap():
    # Grebogi, McDonald, Ott & Yorke 1983: attractors at (0, -J0) and (pi, J0); runs
    # that approach theta = 0 from below sit near 2 pi and are the same attractor.
    theta, x = sp.symbols("theta x", real=True)
    a, b, j0 = 1.32, 0.9, 0.3
    update = theta + a * sp.sin(2 * theta) - b * sp.sin(4 * theta) - x * sp.sin(theta)
    grebogi = bl.Model.iterated_map(
        "grebogi",
        [theta, x],
        [sp.Mod(update, 2 * sp.pi), -j0 * sp.cos(theta)],
        search_box=[(0.0, 2 * np.pi), (-0.5, 0.5)],
    )
    assert grebogi.wrapped_periods() == [pytest.approx(2 * np.pi), None]
    box = dist.Uniform(np.array([0.0, -0.5]), np.array([2 * np.pi, 0.5])).to_event(1)
    fractions = bl.basin_fractions(grebogi, box, n=600, seed=0, progress=False)
    reached = fractions["outcome_label"].values[fractions["fraction"].values > 0]
    assert sorted(reached.tolist()) == [0, 1]
    locations = fractions["attractor_location"].values[:2]
    assert sorted(np.round(locations[:, 0], 6).tolist()) == pytest.approx([0.0, np.pi])


def _magnetic_pendulum():
    """Three magnets on the unit circle under a damped pendulum (the example of
    Attractors.jl): three stable points, one near each magnet."""
    x, y, vx, vy = sp.symbols("x y v_x v_y", real=True)
    height, damping, frequency = sp.Rational(3, 10), sp.Rational(1, 5), sp.Rational(1, 2)
    magnets = [(sp.cos(2 * sp.pi * k / 3), sp.sin(2 * sp.pi * k / 3)) for k in range(3)]

    def pull(along, index):
        cubed = [
            ((x - m[0]) ** 2 + (y - m[1]) ** 2 + height**2) ** sp.Rational(3, 2) for m in magnets
        ]
        return sum((along - m[index]) / d for m, d in zip(magnets, cubed))

    fx = -(frequency**2) * x - damping * vx - pull(x, 0)
    fy = -(frequency**2) * y - damping * vy - pull(y, 1)
    return bl.Model("magnetic_pendulum", [x, y, vx, vy], [vx, vy, fx, fy])


def test_the_numeric_search_seeds_until_no_new_point_appears():
    # With the default box one round of 400 seeds found one of the three stable points.
    points = bl.fixed_points(_magnetic_pendulum())
    stable = sorted(np.round(p.numeric[:2], 3).tolist() for p in points if p.stable)
    assert stable == [[-0.489, -0.847], [-0.489, 0.847], [0.978, 0.0]]


def test_a_search_that_runs_out_of_rounds_says_so():
    x = sp.Symbol("x", real=True)
    many = bl.Model("many", [x], [sp.sin(100 * x)])  # 637 roots along [-10, 10]
    with pytest.warns(UserWarning, match="some may be missing"):
        bl.fixed_points(many, n_seeds=1, seed=3)


def test_a_stable_point_the_search_missed_is_never_folded_into_another():
    x = sp.Symbol("x", real=True)
    # x' = sin x is stable at pi and -pi; a search box around pi sees only pi.
    blind = bl.Model("blind", [x], [sp.sin(x)], search_box=[(2.5, 4.0)])
    assert [p.numeric for p in bl.fixed_points(blind)] == [pytest.approx((np.pi,))]
    starts = dist.Uniform(-4.0, 4.0).expand([1]).to_event(1)
    fractions = bl.basin_fractions(blind, starts, n=200, progress=False)
    names = fractions["outcome_name"].values[fractions["fraction"].values > 0].tolist()
    assert any("rest point (-3.14)" in name for name in names), names
    # Kicks that end at the unlisted -pi have left the basin of pi: the bound is the
    # distance to the unstable point 0 between them.
    shock = bl.critical_shock_search(blind, (np.pi,), n=16, max_shock=4.0, progress=False)
    assert shock.upper == pytest.approx(np.pi, abs=0.05)
