"""Robustness of a basin: the minimal critical shock with its certified lower bound,
basin entropy, the fractal test, and convergence-time maps."""

import matplotlib
import numpy as np
import pytest
import scipy.integrate
import sympy as sp
import xarray as xr
from scipy.special import comb

import basinlab as bl
from basinlab.proofs import CertificateFailed, certified_ball, certified_region, prove_positive
from basinlab.simulations import basin_entropy, critical_shock_search, fractal_test

matplotlib.use("Agg")

NEWTON = bl.models.newton_cubic()
WELL = bl.models.alignment_double_well()
ALIGNED = (1.0, 2.0)  # the aligned minimum (1, 1 + coupling) at the default coupling 1


def _newton_escape_radius() -> float:
    """The nearest start to z = 1 that Newton's method does not take to 1, by brute
    force on a polar grid in complex arithmetic."""
    radius, angle = np.meshgrid(np.linspace(0.3, 1.0, 2801), np.linspace(-np.pi, np.pi, 1441))
    z = 1 + radius * np.exp(1j * angle)
    with np.errstate(all="ignore"):
        for _ in range(80):
            z = z - (z**3 - 1) / (3 * z**2)
    return float(radius[~(np.abs(z - 1) < 1e-8)].min())


def _stable_manifold_distance(bias: float, coupling: float) -> float:
    """The distance from the aligned minimum to the saddle's stable manifold, which is
    the basin boundary of this 2-D gradient flow, traced backwards in time by scipy."""

    def field(_, x):
        a, c = x
        return [
            -((a - bias) * (a * a - 1) - coupling * (c - 1 - coupling * a)),
            -(c - 1 - coupling * a),
        ]

    saddle = np.array([bias, 1 + coupling * bias])
    h = 1e-6
    jacobian = np.array(
        [
            (np.array(field(0, saddle + h * e)) - np.array(field(0, saddle - h * e))) / (2 * h)
            for e in np.eye(2)
        ]
    ).T
    values, vectors = np.linalg.eig(jacobian)
    stable = vectors[:, np.argmin(values)]
    minimum = np.array([1.0, 1 + coupling])
    best = np.inf
    for sign in (1, -1):
        backwards = scipy.integrate.solve_ivp(
            lambda t, x: [-v for v in field(t, x)],
            (0, 12),
            saddle + sign * 1e-8 * stable,
            rtol=1e-11,
            atol=1e-12,
            dense_output=True,
        )
        curve = backwards.sol(np.linspace(0, backwards.t[-1], 100_000)).T
        curve = curve[np.all(np.abs(curve) < 10, axis=1)]
        best = min(best, float(np.min(np.linalg.norm(curve - minimum, axis=1))))
    return best


def test_newton_critical_shock_matches_brute_force():
    found = bl.minimal_critical_shock(NEWTON, (1.0, 0.0), n=128, progress=False)
    brute = _newton_escape_radius()
    assert found.upper == pytest.approx(brute, rel=5e-3)
    # The shock lands in one of the two other roots' basins.
    others = [(-0.5, np.sqrt(3) / 2), (-0.5, -np.sqrt(3) / 2)]
    assert any(np.allclose(found.destination, root) for root in others)
    final = bl.integrate(NEWTON, [found.attractor + found.shock], progress=False)
    assert not np.allclose(final["y_final"].values[0], (1.0, 0.0), atol=1e-6)
    # No certificate exists for maps: the lower bound is 0 and says why.
    assert found.lower == 0.0 and found.ball is None and "map" in found.reason
    assert found.relative_gap == 1.0


def test_newton_shock_reaches_a_named_target():
    target = (-0.5, -np.sqrt(3) / 2)
    found = critical_shock_search(NEWTON, (1.0, 0.0), target=target, n=64, progress=False)
    assert np.allclose(found.destination, target)


@pytest.mark.parametrize("bias", [0.2, 0.5])
def test_gradient_flow_shock_brackets_the_distance_to_the_stable_manifold(bias):
    exact = _stable_manifold_distance(bias, 1.0)
    found = bl.minimal_critical_shock(
        WELL, ALIGNED, params={"bias": bias}, n=96, refinements=10, progress=False
    )
    assert 0 < found.lower <= exact <= found.upper
    assert found.upper == pytest.approx(exact, rel=2e-3)
    assert found.gap == pytest.approx(found.upper - found.lower)
    assert isinstance(found.ball.radius, sp.Rational)
    # The certified ball, checked by simulation: points on its surface converge home.
    angles = np.linspace(0, 2 * np.pi, 64, endpoint=False)
    rim = found.attractor + float(found.ball.radius) * np.stack(
        [np.cos(angles), np.sin(angles)], axis=1
    )
    final = bl.integrate(WELL, rim, params={"bias": bias}, progress=False)
    assert np.allclose(final["y_final"].values, found.attractor, atol=1e-3)


def test_a_certified_cube_lies_in_its_region():
    region = certified_region(WELL, ALIGNED, method="sos", compare=False)
    cube = certified_ball(region, "linf")
    ball = certified_ball(region, "l2")
    r = float(cube.radius)
    corners = np.array(ALIGNED) + r * np.array([[1, 1], [1, -1], [-1, 1], [-1, -1]])
    assert region.contains(corners).all()
    # A cube of half-width r holds a disc of radius r, and lies in one of r * sqrt(2).
    assert float(ball.radius) >= r
    assert float(ball.radius) <= r * np.sqrt(2) * 1.001


def test_prove_positive_on_a_ball_leaves_out_the_corners_of_its_cube():
    x, y = sp.symbols("x y")
    inside_unit_disc = 1 - x**2 - y**2
    r = sp.Rational(99, 100)
    cube = [(-r, r), (-r, r)]
    prove_positive(inside_unit_disc, [x, y], cube, "disc", excluding=x**2 + y**2 - r**2)
    with pytest.raises(CertificateFailed, match="fails at"):
        prove_positive(inside_unit_disc, [x, y], cube, "cube")


def _labels_map(labels: np.ndarray) -> xr.Dataset:
    return xr.Dataset({"label": (("y", "x"), labels)}, attrs={"kind": "basin_map"})


def test_basin_entropy_of_independent_labels_matches_the_binomial_expectation():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, size=(500, 500))
    s_b, s_bb = basin_entropy(_labels_map(labels), box_size=5)
    k = np.arange(1, 25)  # the boxes with both labels
    p = k / 25
    weights = comb(25, k) / 2**25
    expected = float(np.sum(weights * (-p * np.log(p) - (1 - p) * np.log(1 - p))))
    assert s_b == pytest.approx(expected, abs=0.005)
    assert s_bb == pytest.approx(expected / weights.sum(), abs=0.005)


def test_basin_entropy_of_a_straight_boundary_is_zero_on_box_edges_and_log2_across():
    labels = np.zeros((40, 40), dtype=int)
    labels[:, 20:] = 1
    assert basin_entropy(_labels_map(labels), box_size=5) == (0.0, 0.0)
    s_b, s_bb = basin_entropy(_labels_map(labels), box_size=8)  # 20 is mid-box
    assert s_bb == pytest.approx(np.log(2))
    assert s_b == pytest.approx(np.log(2) / 5)


@pytest.fixture(scope="module")
def newton_map():
    return bl.basin_map(NEWTON, "x", "y", ((-1.5, 1.5), (-1.5, 1.5)), 400, progress=False)


@pytest.fixture(scope="module")
def well_map():
    return bl.basin_map(WELL, "a", "c", ((-2.5, 2.5), (-1.5, 3.5)), 200, progress=False)


def test_newton_basins_are_fractal(newton_map):
    _, s_bb = basin_entropy(newton_map, box_size=5)
    assert s_bb > np.log(2)
    verdict = fractal_test(newton_map, radius=5)
    assert verdict.verdict == "fractal" and verdict.above_log2
    # Grebogi et al.: the boundary dimension of Newton's z^3 - 1 is about 1.42.
    assert verdict.uncertainty_exponent < 0.7
    assert 1.3 < verdict.boundary_dimension < 1.7


def test_the_default_model_has_a_smooth_boundary(well_map):
    _, s_bb = basin_entropy(well_map, box_size=5)
    assert 0 < s_bb < np.log(2)
    verdict = fractal_test(well_map, radius=5)
    assert verdict.verdict == "smooth" and not verdict.above_log2
    assert verdict.boundary_entropy == pytest.approx(verdict.smooth_reference, abs=0.03)
    assert verdict.uncertainty_exponent == pytest.approx(1.0, abs=0.05)


def test_a_straight_boundary_passes_as_smooth_and_a_random_one_fails():
    yy, xx = np.mgrid[0:300, 0:300]
    tilted = _labels_map((yy < 0.3 * xx + 50).astype(int))
    assert fractal_test(tilted, radius=5).verdict == "smooth"
    noisy = _labels_map(np.random.default_rng(0).integers(0, 2, size=(300, 300)))
    result = fractal_test(noisy, radius=5)
    assert result.verdict == "fractal"
    assert result.uncertainty_exponent == pytest.approx(0.0, abs=0.05)


def test_convergence_time_map_draws_times_and_boundaries(well_map):
    fig, ax = bl.plot_basin_map(well_map, show="time")
    image = ax.get_images()[0]
    settled = well_map["status"].values == bl.CONVERGED
    drawn = np.ma.getdata(image.get_array())
    assert np.allclose(drawn[settled], well_map["t_final"].values[settled])
    assert len(fig.axes) == 2  # the map and its colour bar
    assert "time to settle" in fig.axes[1].get_ylabel()
    matplotlib.pyplot.close(fig)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda m: basin_entropy(m, box_size=1), "box_size"),
        (lambda m: basin_entropy(m, box_size=10_000), "larger than the map"),
        (lambda m: basin_entropy(xr.Dataset(), 5), "needs a result of basinlab.basin_map"),
        (lambda m: fractal_test(m, radius=100), "too small for balls of radius 100"),
        (lambda m: fractal_test(m, n=10), "n must be an integer of at least 100"),
        (lambda m: fractal_test(_labels_map(np.zeros((100, 100), int))), "one outcome only"),
        (lambda m: bl.plot_basin_map(m, show="colour"), "show must be 'basins' or 'time'"),
        (lambda m: critical_shock_search(WELL, (0.2, 1.2), progress=False), "not a stable"),
        (lambda m: critical_shock_search(WELL, ALIGNED, target=ALIGNED), "the attractor itself"),
        (lambda m: critical_shock_search(WELL, ALIGNED, norm="l1"), "norm must be one of"),
        (lambda m: critical_shock_search(WELL, ALIGNED, n=0), "n must be"),
        (
            lambda m: critical_shock_search(WELL, ALIGNED, max_shock=0.01, n=8, progress=False),
            "no run left the basin within max_shock=0.01",
        ),
        (lambda m: certified_ball(None, "l3"), "norm must be one of"),
    ],
)
def test_robustness_bad_input(well_map, call, message):
    with pytest.raises(ValueError) as raised:
        call(well_map)
    assert message in str(raised.value)
