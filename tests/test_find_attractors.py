"""Attractors found with no prior knowledge, by recurrences on a grid, against known
answers: exact basins, published exponents, exact symmetry, exact periodic orbits,
and an independent iteration of the map."""

import math

import numpy as np
import numpyro.distributions as dist
import pytest
import sympy as sp

import basinlab as bl
from basinlab.simulations import CHAOTIC, FIXED_POINT, LIMIT_CYCLE, PERIODIC_ORBIT, QUASI_PERIODIC


def _uniform(low, high):
    return dist.Uniform(np.asarray(low, float), np.asarray(high, float))


def test_henon_has_one_chaotic_attractor_and_its_basin_is_the_bounded_starts(tmp_path):
    found = bl.find_attractors(
        bl.models.henon_map(), _uniform([-2, -2], [2, 2]), grid=((-3, 3, 300),) * 2, n=400
    )
    assert list(found["attractor_kind"].values) == [CHAOTIC]
    first, second = found["attractor_exponents"].values[0]
    assert first == pytest.approx(0.4192, abs=0.03)  # Sprott 2003
    assert first + second == pytest.approx(math.log(0.3), abs=1e-9)
    # Independently: iterate every start with NumPy and see which stay bounded.
    z = found["y0"].values.copy()
    with np.errstate(all="ignore"):
        for _ in range(2000):
            z = np.stack([1 - 1.4 * z[:, 0] ** 2 + z[:, 1], 0.3 * z[:, 0]], axis=1)
    bounded = np.all(np.isfinite(z), axis=1) & (np.abs(z[:, 0]) < 10)
    assert 0.2 < bounded.mean() < 0.8
    np.testing.assert_array_equal(found["label"].values == 0, bounded)
    np.testing.assert_array_equal(found["label"].values[~bounded], bl.DIVERGED)
    bl.save(found, tmp_path / "henon.nc")
    again = bl.load(tmp_path / "henon.nc")
    np.testing.assert_array_equal(again["cell_attractor"].values, found["cell_attractor"].values)


def test_bistable_cycle_basins_are_the_unit_disc_and_the_rest():
    found = bl.find_attractors(
        bl.models.bistable_cycle(),
        _uniform([-2.5, -2.5], [2.5, 2.5]),
        grid=((-3, 3, 60),) * 2,
        n=300,
        settings=bl.RecurrenceSettings(lyapunov_length=200.0),
    )
    kinds = list(found["attractor_kind"].values)
    assert sorted(kinds) == sorted([FIXED_POINT, LIMIT_CYCLE])
    point, cycle = kinds.index(FIXED_POINT), kinds.index(LIMIT_CYCLE)
    inside = np.sum(found["y0"].values ** 2, axis=1) < 1
    np.testing.assert_array_equal(found["label"].values == point, inside)
    np.testing.assert_array_equal(found["label"].values == cycle, ~inside)
    # The origin's eigenvalues are -4 +- i; along the cycle r = 2, one zero exponent
    # and g'(4) * 2 r^2 = -24.
    exponents = found["attractor_exponents"].values
    np.testing.assert_allclose(exponents[point], [-4, -4], atol=0.05)
    assert exponents[cycle][0] == pytest.approx(0.0, abs=0.01)
    assert exponents[cycle][1] == pytest.approx(-24.0, rel=0.02)
    np.testing.assert_allclose(found["attractor_location"].values[point], 0.0, atol=1e-6)


def test_the_logistic_period_two_orbit_is_found_with_its_period_and_points():
    found = bl.find_attractors(
        bl.models.logistic_map(), _uniform([0.01], [0.99]), grid=((-0.5, 1.5, 400),), n=200
    )
    assert list(found["attractor_kind"].values) == [PERIODIC_ORBIT]
    assert int(found["attractor_period"].values[0]) == 2
    low, high = (float(v) for v in bl.models.logistic_period_two(3.2))
    centre, half = found["attractor_location"].values[0, 0], found["attractor_extent"].values[0, 0]
    assert (centre - half, centre + half) == pytest.approx((low, high), abs=1e-9)
    assert np.all(found["label"].values == 0)


def test_the_magnetic_pendulum_gives_each_magnet_a_third():
    found = bl.find_attractors(
        bl.models.magnetic_pendulum(),
        dist.Normal(np.zeros(4), np.array([1.0, 1.0, 0.5, 0.5])),
        grid=((-3, 3, 30),) * 4,
        n=400,
        settings=bl.RecurrenceSettings(interval=0.5, lyapunov_length=100.0),
    )
    assert list(found["attractor_kind"].values) == [FIXED_POINT] * 3
    # Rotation by 2 pi / 3 maps the model and the start distribution onto themselves.
    for k in range(3):
        assert found["fraction_low"].values[k] < 1 / 3 < found["fraction_high"].values[k]
    angles = np.sort(np.arctan2(*found["attractor_location"].values[:, 1::-1].T))
    np.testing.assert_allclose(np.diff(angles), 2 * np.pi / 3, atol=1e-6)


def test_a_grid_too_coarse_to_separate_two_attractors_is_refused():
    with pytest.raises(ValueError, match="the grid is too coarse"):
        bl.find_attractors(
            bl.models.bistable_cycle(),
            _uniform([-2.5, -2.5], [2.5, 2.5]),
            grid=((-3, 3, 2),) * 2,
            n=100,
        )


def test_no_recurrence_within_max_steps_leaves_starts_unconverged_with_a_warning():
    with pytest.warns(UserWarning, match="found no recurrence within max_steps = 50"):
        found = bl.find_attractors(
            bl.models.henon_map(),
            _uniform([-0.5, -0.2], [0.5, 0.2]),
            grid=((-3, 3, 300),) * 2,
            n=20,
            settings=bl.RecurrenceSettings(max_steps=50),
        )
    assert np.all(found["label"].values == bl.UNCONVERGED)


@pytest.mark.parametrize(
    "grid, error, match",
    [
        (((-3, 3, 10),), ValueError, r"one \(low, high, cells\) per state"),
        (((3, -3, 10), (-3, 3, 10)), ValueError, "needs finite low < high"),
        (((-3, 3, 0), (-3, 3, 10)), ValueError, "whole number of cells"),
        (((-3, 3, "10"), (-3, 3, 10)), TypeError, "must be numbers"),
        (5, TypeError, "per state"),
    ],
)
def test_bad_grids_are_refused_with_their_entry_named(grid, error, match):
    with pytest.raises(error, match=match):
        bl.find_attractors(bl.models.henon_map(), _uniform([-1, -1], [1, 1]), grid=grid, n=10)


def test_settings_must_be_recurrence_settings():
    with pytest.raises(TypeError, match="RecurrenceSettings"):
        bl.find_attractors(
            bl.models.henon_map(),
            _uniform([-1, -1], [1, 1]),
            grid=((-3, 3, 9),) * 2,
            settings={"interval": 1},
        )
    with pytest.raises(ValueError, match="interval"):
        bl.RecurrenceSettings(interval=0.001, dt=0.01)


def test_edge_tracking_between_the_tilted_wells_converges_to_the_exact_saddle():
    model = bl.models.alignment_tilted_well()
    settings = bl.RecurrenceSettings(lyapunov_length=50.0)
    found = bl.find_attractors(
        model,
        _uniform([-2, -2], [2, 4]),
        grid=((-3, 3, 120), (-3, 5, 160)),
        n=100,
        settings=settings,
    )
    edge = bl.edge_state(model, found, [-1.5, 1.0], [1.5, 1.0], settings=settings, steps=5)
    (saddle,) = [p.numeric for p in bl.fixed_points(model) if p.kind == "saddle"]
    np.testing.assert_allclose(edge["edge_state"].values, saddle, atol=1e-6)
    # The first bisection lands on the boundary away from the saddle.
    assert np.max(np.abs(edge["track"].values[0] - saddle)) > 0.05
    with pytest.raises(ValueError, match="two different attractors"):
        bl.edge_state(model, found, [-1.5, 1.0], [-1.4, 1.0], settings=settings)


@pytest.mark.parametrize("templates", [None, {"origin": [0, 0, 0, 0], "cycle": [-2, -2, 2, 2]}])
def test_clustering_features_finds_the_bistable_cycle_basins(templates):
    found = bl.cluster_attractors(
        bl.models.bistable_cycle(),
        _uniform([-2.5, -2.5], [2.5, 2.5]),
        n=150,
        transient=200,
        samples=200,  # three turns of the cycle, so its spread is nearly phase-free
        templates=templates,
        template_distance=0.2,
        settings=bl.RecurrenceSettings(lyapunov_length=50.0),
    )
    kinds = list(found["attractor_kind"].values)
    assert sorted(kinds) == sorted([FIXED_POINT, LIMIT_CYCLE])
    inside = np.sum(found["y0"].values ** 2, axis=1) < 1
    np.testing.assert_array_equal(found["label"].values == kinds.index(FIXED_POINT), inside)
    if templates:
        assert found["attractor_name"].values[0].startswith("A0: origin")


def test_the_critical_shock_over_a_cycle_is_the_distance_to_the_unstable_cycle():
    # From any point of the cycle r = 2 the nearest state of the origin's basin (the
    # open unit disc) is 1 away, straight inwards; from the origin, 1 in any direction.
    model = bl.models.bistable_cycle()
    settings = bl.RecurrenceSettings(lyapunov_length=50.0)
    found = bl.find_attractors(
        model,
        _uniform([-2.5, -2.5], [2.5, 2.5]),
        grid=((-3, 3, 60),) * 2,
        n=100,
        settings=settings,
    )
    kinds = list(found["attractor_kind"].values)
    cycle, point = kinds.index(LIMIT_CYCLE), kinds.index(FIXED_POINT)
    shock = bl.critical_shock_over_attractor(
        model, found, cycle, settings=settings, n=32, points=4, tol=1e-4
    )
    assert 1.0 - 1e-3 < float(shock["critical_shock"]) < 1.01
    assert int(shock["destination"]) == point
    # Each point's bound is 1 + theta^2 for the ray nearest the inward radius.
    assert np.all((shock["point_shock"].values > 1 - 1e-3) & (shock["point_shock"].values < 1.1))
    inward = -shock["start"].values / np.linalg.norm(shock["start"].values)
    assert np.dot(shock["shock"].values, inward) > 0.99
    from_point = bl.critical_shock_over_attractor(model, found, point, settings=settings, points=4)
    np.testing.assert_allclose(from_point["point_shock"].values, 1.0, atol=0.002)
    with pytest.raises(ValueError, match="attractor must be one of"):
        bl.critical_shock_over_attractor(model, found, 7, settings=settings)


def test_on_a_poincare_section_the_cycle_is_one_crossing_point():
    # With y = 0 crossed upwards as the section, the cycle r = 2 (turning counter-
    # clockwise) is the point (2, 0), and spirals into the origin cross ever nearer it.
    settings = bl.RecurrenceSettings(
        section_state="y", section_value=0.0, interval=20.0, lyapunov_length=50.0
    )
    found = bl.find_attractors(
        bl.models.bistable_cycle(),
        _uniform([-2.5, -2.5], [2.5, 2.5]),
        grid=((-3, 3, 60),) * 2,
        n=50,
        settings=settings,
    )
    kinds = list(found["attractor_kind"].values)
    assert sorted(kinds) == sorted([FIXED_POINT, LIMIT_CYCLE])
    cycle = kinds.index(LIMIT_CYCLE)
    np.testing.assert_allclose(
        found["attractor_sample"].values[cycle], [[2.0, 0.0]] * 64, atol=1e-6
    )
    inside = np.sum(found["y0"].values ** 2, axis=1) < 1
    np.testing.assert_array_equal(found["label"].values == kinds.index(FIXED_POINT), inside)
    with pytest.raises(ValueError, match="not a state"):
        bl.find_attractors(
            bl.models.bistable_cycle(),
            _uniform([-1, -1], [1, 1]),
            grid=((-3, 3, 9),) * 2,
            settings=bl.RecurrenceSettings(section_state="z"),
        )


def test_two_cycles_of_incommensurate_frequencies_make_a_quasi_periodic_torus():
    x1, y1, x2, y2 = sp.symbols("x1 y1 x2 y2", real=True)

    def hopf(x, y, frequency):
        return [x * (1 - x**2 - y**2) - frequency * y, y * (1 - x**2 - y**2) + frequency * x]

    # Each circle attracts at rate -2; on the torus they turn at 1 and sqrt(2).
    model = bl.Model("two_cycles", [x1, y1, x2, y2], hopf(x1, y1, 1) + hopf(x2, y2, sp.sqrt(2)))
    found = bl.find_attractors(
        model,
        _uniform([-1.5] * 4, [1.5] * 4),
        grid=((-1.5, 1.5, 12),) * 4,
        n=20,
        settings=bl.RecurrenceSettings(interval=0.5, lyapunov_length=300.0),
    )
    assert list(found["attractor_kind"].values) == [QUASI_PERIODIC]
    np.testing.assert_allclose(found["attractor_exponents"].values[0], [0, 0, -2, -2], atol=0.01)
