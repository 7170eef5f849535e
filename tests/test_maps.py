"""Discrete-time models: fixed points, stability by modulus, iteration, periodic orbits,
basins and the command line."""

import numpy as np
import numpyro.distributions as dist
import pytest
import sympy as sp
from _command_line import run_here
from hypothesis import given
from hypothesis import strategies as st

import basinlab as bl
from basinlab.simulations import PERIODIC_ORBIT
from basinlab.theory.models import logistic_period_two

LOGISTIC = bl.compile_model(bl.models.logistic_map())  # one jit for the property tests
NEWTON = bl.models.newton_cubic()
x, y = sp.symbols("x y", real=True)


@given(r=st.fractions(min_value="21/20", max_value="79/20", max_denominator=200))
def test_map_fixed_points_satisfy_f_of_x_equals_x_exactly(r):
    model = LOGISTIC.model
    points = bl.fixed_points(model, params={"r": float(r)})
    substitution = model.param_substitution({"r": float(r)})
    assert [p.location for p in points] and all(p.exact for p in points)
    for point in points:
        at = substitution | dict(zip(model.state, point.location))
        assert sp.simplify(model.vector_field.subs(at)[0] - point.location[0]) == 0
        # Stable exactly when |F'| < 1 there.
        slope = abs(float(sp.diff(model.vector_field[0], model.state[0]).subs(at)))
        assert point.stable == (slope < 1)


@given(r=st.floats(3.05, 3.42))
def test_logistic_period_two_orbit_matches_its_closed_form(r):
    result = bl.basin_fractions(
        LOGISTIC,
        dist.Uniform(np.array([0.05]), np.array([0.95])).to_event(1),
        n=64,
        seed=0,
        params={"r": r},
        progress=False,
    )
    assert result["attractor_kind"].values.tolist() == [PERIODIC_ORBIT]
    assert result["attractor_period"].values.tolist() == [2]
    low, high = (float(v) for v in logistic_period_two(r))
    centre, half = (
        result["attractor_location"].values[0, 0],
        result["attractor_extent"].values[0, 0],
    )
    np.testing.assert_allclose([centre - half, centre + half], [low, high], atol=2e-5)
    assert result["count"].values[0] == 64


def test_stability_of_a_map_is_read_from_the_moduli():
    cases = {
        "stable node": [x / 2, -y / 3],
        "stable focus": [(x - y) / 2, (x + y) / 2],  # eigenvalues (1 +- i)/2, modulus 0.71
        "saddle": [2 * x, y / 2],
        "unstable": [2 * x, -3 * y],
        "non-hyperbolic": [-x, y / 2],
    }
    for kind, update in cases.items():
        point = bl.fixed_points(bl.Model.iterated_map("m", [x, y], update))[0]
        assert point.kind == kind and point.location == (0, 0)
    assert bl.fixed_points(bl.Model.iterated_map("m", [x, y], [2 * x, y / 2]))[0].index == 1


def test_newton_roots_are_exact_and_superattracting():
    points = bl.fixed_points(NEWTON)
    roots = {(sp.nsimplify(p.location[0]), sp.nsimplify(p.location[1])) for p in points}
    assert roots == {
        (1, 0),
        (-sp.Rational(1, 2), sp.sqrt(3) / 2),
        (-sp.Rational(1, 2), -sp.sqrt(3) / 2),
    }
    assert all(p.kind == "stable node" and max(map(abs, p.eigenvalues)) == 0 for p in points)


def test_newton_basins_are_thirds_by_symmetry():
    result = bl.basin_fractions(
        NEWTON, dist.Normal(np.zeros(2), 1.0), n=9000, seed=0, progress=False, confidence=0.999
    )
    roots = result["attractor_kind"].values == "stable node"
    assert roots.sum() == 3
    for low, high in zip(result["fraction_low"].values[:3], result["fraction_high"].values[:3]):
        assert low <= 1 / 3 <= high
    assert result["count"].values[3:].sum() == 0  # nothing diverged or left unconverged


def test_iteration_statuses_times_and_trajectories():
    final = bl.integrate(LOGISTIC, [[0.3], [1.5], [0.0]], params={"r": 2.5}, progress=False)
    assert final["status"].values.tolist() == [bl.CONVERGED, bl.DIVERGED, bl.CONVERGED]
    np.testing.assert_allclose(final["y_final"].values[0], [1 - 1 / 2.5], atol=1e-5)
    assert final["t_final"].values[2] == 1  # x = 0 is a fixed point: one step shows it
    assert final.attrs["solver"] == "iteration" and "rtol" not in final.attrs
    paths = bl.trajectories(LOGISTIC, [[0.3]], [0, 1, 2, 5], params={"r": 3.2})
    expected = [0.3]
    for _ in range(5):
        expected.append(3.2 * expected[-1] * (1 - expected[-1]))
    np.testing.assert_allclose(paths["y"].values[0, :, 0], np.array(expected)[[0, 1, 2, 5]])
    with pytest.raises(ValueError, match="iteration counts, integers"):
        bl.trajectories(LOGISTIC, [[0.3]], [0, 0.5])


def test_maps_have_no_noise_and_no_certified_regions_or_calibration():
    with pytest.raises(ValueError, match="noise is for flows"):
        bl.Model("m", [x], [x / 2], kind="map", noise=bl.theory.Noise.diagonal([1]))
    with pytest.raises(ValueError, match="is a map; certified regions are for flows"):
        bl.certified_region(NEWTON, (1, 0))
    with pytest.raises(ValueError, match="kind must be 'flow' or 'map'"):
        bl.Model("m", [x], [x], kind="iteration")


def test_command_line_maps_and_counts_a_map(tmp_path):
    output = ["--out", str(tmp_path)]
    for arguments in (
        ("map", "newton_cubic", "--resolution", "40", *output),
        ("fractions", "logistic_map", "--n", "200", *output),
        ("analyze", "logistic_map", "--param", "r=3.5"),
    ):
        out = run_here(*arguments)
        assert out.returncode == 0, out.stderr
    assert "x[k+1] = r*x*(1 - x)" in out.stdout
    fractions = bl.load(tmp_path / "logistic_map_fractions.nc")
    assert "period-2 orbit" in str(fractions["outcome_name"].values[0])
