"""Models without predicates, 1-D models, stiff starts, fields that leave their domain,
continua of rest points, and expressions of plain symbols (hardening items 1-6)."""

import warnings

import numpy as np
import numpyro.distributions as dist
import pytest
import scipy.stats
import sympy as sp

import basinlab as bl
from basinlab import _report
from basinlab._requests import fractions_request, map_request
from basinlab.simulations import FIXED_POINT_CONTINUUM, LIMIT_CYCLE
from basinlab.theory import SUPPORTED_FUNCTIONS

# Plain symbols, as a new user writes them; the models make them real.
x, y = sp.symbols("x y")
RING = (x**2 + y**2 - 1) * (x**2 + y**2 - 4)
# The origin is a stable focus, r = 1 an unstable cycle and r = 2 a stable one.
CYCLE = bl.Model("cycle", [x, y], [-x * RING - y, -y * RING + x])
# Gradient flow of |z^3 - 1|^2 with z = x + iy: three minima at the cube roots of 1.
Z = x + sp.I * y
TRIPLE = bl.Model.gradient_flow(sp.re(Z**3 - 1) ** 2 + sp.im(Z**3 - 1) ** 2, [x, y], name="tri")
# x' = x^2 - 1: stable at -1, unstable at +1, blow-up in finite time above it.
ONE_D = bl.Model("oned", [x], [x**2 - 1])
WIDE = 0.999  # interval coverage of the statistical checks below


def _fraction(result, name_part):
    names = [str(n) for n in result["outcome_name"].values]
    index = next(i for i, n in enumerate(names) if name_part in n)
    return (
        result["fraction_low"].values[index],
        result["fraction"].values[index],
        result["fraction_high"].values[index],
    )


def test_cycle_system_without_predicates_has_the_exact_origin_fraction():
    p0 = dist.Normal(np.zeros(2), 1.0)
    # Starts bound for the cycle never come to rest and are followed: the costly part.
    result = bl.basin_fractions(CYCLE, p0, n=2000, seed=0, progress=False, confidence=WIDE)
    assert result["attractor_kind"].values.tolist() == ["stable focus", LIMIT_CYCLE]
    # Under N(0, I), r^2 is chi-squared with 2 degrees of freedom: P(r < 1) = 1 - e^(-1/2).
    low, _, high = _fraction(result, "stable focus")
    assert low <= 1 - np.exp(-0.5) <= high
    assert result.sizes["predicate"] == 0
    assert result["count"].sum() == 2000


def test_triple_well_without_predicates_splits_in_thirds():
    p0 = dist.Normal(np.zeros(2), 1.0)
    result = bl.basin_fractions(TRIPLE, p0, n=6000, seed=0, progress=False, confidence=WIDE)
    stable = result["attractor_kind"].values == "stable node"
    assert stable.sum() == 3
    for low, high in zip(
        result["fraction_low"].values[:3][stable], result["fraction_high"].values[:3][stable]
    ):
        assert low <= 1 / 3 <= high
    unsettled = result["outcome_label"].values < 0
    assert result["count"].values[unsettled].sum() == 0


def test_triple_well_map_has_no_stalled_corners():
    result = bl.basin_map(TRIPLE, "x", "y", ((-3, 3), (-3, 3)), resolution=128, progress=False)
    assert not np.any(result["status"].values == bl.UNCONVERGED)
    assert np.all(result["t_final"].values > 0)


def test_large_field_start_takes_small_steps_instead_of_stalling():
    result = bl.integrate(TRIPLE, [[2.6, 2.6]], progress=False)
    assert result["status"].values.tolist() == [bl.CONVERGED]
    assert result["t_final"].values[0] > 0
    np.testing.assert_allclose(result["y_final"].values[0], [1.0, 0.0], atol=1e-4)


def test_unconverged_only_after_spending_the_step_budget():
    starts = np.random.default_rng(0).uniform(-3, 3, size=(64, 2))
    result = bl.integrate(TRIPLE, starts, progress=False, max_steps=48, pass_steps=16, t1=1e6)
    unconverged = result["status"].values == bl.UNCONVERGED
    assert unconverged.any()
    assert np.all(result["t_final"].values[unconverged] > 0)


def test_one_dimensional_model_end_to_end():
    points = bl.fixed_points(ONE_D)
    assert [(p.location, p.kind) for p in points] == [((-1,), "stable node"), ((1,), "unstable")]
    sigma = 2.0
    result = bl.basin_fractions(
        ONE_D, dist.Normal(np.zeros(1), sigma), n=4000, seed=0, progress=False, confidence=WIDE
    )
    low, _, high = _fraction(result, "DIVERGED")
    assert low <= scipy.stats.norm.sf(1 / sigma) <= high
    diverged = result["label"].values == bl.DIVERGED
    np.testing.assert_array_equal(diverged, result["y0"].values[:, 0] > 1)
    line = bl.basin_map(ONE_D, "x", None, ((-3, 3),), resolution=61, progress=False)
    xs = line["x"].values
    assert line["label"].dims == ("x",)
    assert np.all(line["label"].values[xs > 1.01] == bl.DIVERGED)
    assert np.all(line["label"].values[xs < 0.99] == 0)
    fig, _ = bl.plot_basin_map(line)
    assert fig is not None


@pytest.mark.parametrize("model", [CYCLE, TRIPLE, ONE_D], ids=lambda m: m.name)
def test_models_without_predicates_run_through_the_command_line_functions(model, tmp_path):
    pair = map_request(model, resolution=12), fractions_request(model, n=300)
    paths = [tmp_path / r.file_name for r in pair]
    _report.run(pair, paths, progress=False)
    result = bl.load(paths[0])
    assert result.attrs["x"] == "x" and result.attrs["y"] == ("" if model.dim == 1 else "y")
    assert (tmp_path / paths[0].with_suffix(".png").name).stat().st_size > 5000
    assert bl.load(paths[1])["count"].sum() == 300


def test_field_outside_its_domain_is_diverged_without_warnings():
    model = bl.Model("logx", [x], [-sp.log(x)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = bl.integrate(model, [[-1.0], [0.5], [0.0]], progress=False)
        fractions = bl.basin_fractions(
            model, dist.Normal(np.zeros(1), 1.0), n=500, seed=0, progress=False
        )
    assert result["status"].values.tolist() == [bl.DIVERGED, bl.CONVERGED, bl.DIVERGED]
    np.testing.assert_allclose(result["y_final"].values[1], [1.0], atol=1e-4)
    np.testing.assert_array_equal(
        fractions["label"].values == bl.DIVERGED, fractions["y0"].values[:, 0] <= 0
    )


# A circle of rest points (r = 1) around an unstable origin.
RADIUS = sp.sqrt(x**2 + y**2)
CIRCLE = bl.Model("circle", [x, y], [x * (1 - RADIUS), y * (1 - RADIUS)])


def test_numeric_roots_on_a_continuum_are_not_listed_as_points():
    assert all(abs(np.hypot(*p.numeric) - 1) > 1e-3 for p in bl.fixed_points(CIRCLE))
    # An isolated degenerate root is kept: x' = -x^3 e^(y^2) (not polynomial, so found
    # numerically) has a singular Jacobian at the origin, yet no other root near it.
    cubic = bl.Model("cubic", [x, y], [-(x**3) * sp.exp(y**2), -y])
    points = bl.fixed_points(cubic)
    assert [(p.kind, p.exact) for p in points] == [("non-hyperbolic", False)]
    np.testing.assert_allclose(points[0].numeric, [0, 0], atol=1e-4)


@pytest.mark.parametrize("n", [12, 150, 3000])
def test_a_circle_of_rest_points_is_one_attractor_however_sampled(n):
    p0 = dist.Normal(np.zeros(2), 1.0)
    result = bl.basin_fractions(CIRCLE, p0, n=n, seed=1, progress=False)
    assert result["attractor_kind"].values.tolist() == [FIXED_POINT_CONTINUUM]
    assert result["count"].values[0] == n


def test_separate_circles_of_rest_points_stay_separate():
    two = bl.Model(
        "two", [x, y], [-x * RING * (x**2 + y**2 - 2.5), -y * RING * (x**2 + y**2 - 2.5)]
    )
    result = bl.basin_fractions(two, dist.Normal(np.zeros(2), 1.5), n=400, seed=0, progress=False)
    kinds = result["attractor_kind"].values.tolist()
    assert kinds == [FIXED_POINT_CONTINUUM, FIXED_POINT_CONTINUUM]
    radii = np.hypot(*result["attractor_extent"].values.T)
    np.testing.assert_allclose(sorted(radii / np.sqrt(2)), [1, 2], rtol=0.05)


def test_plain_symbols_with_abs_sign_and_piecewise_compile_and_run():
    loss = sp.Piecewise((x**2, x > 0), (x**4 / 2, True)) + sp.Abs(y) ** 3
    model = bl.Model.gradient_flow(loss, [x, y], name="pieces")
    result = bl.integrate(model, [[1.0, 1.0], [-1.0, -0.5]], progress=False, t1=2000.0)
    assert np.all(result["status"].values == bl.CONVERGED)
    assert np.all(np.abs(result["y_final"].values) < 0.05)


@pytest.mark.parametrize(
    "function", sorted(SUPPORTED_FUNCTIONS, key=lambda f: f.__name__), ids=lambda f: f.__name__
)
def test_every_supported_function_compiles_to_sympys_values(function):
    a, b = sp.symbols("a b", real=True)
    special = {
        sp.atan2: sp.atan2(b, a),
        sp.Max: sp.Max(a, b, 0.4),
        sp.Min: sp.Min(a, b, 0.4),
        sp.Piecewise: sp.Piecewise((a, a > b), (b**2, True)),
        sp.Mod: sp.Mod(a + b, 0.5),
        sp.Heaviside: sp.Heaviside(a - 0.1),
        sp.acosh: sp.acosh(1.2 + a),
    }
    expression = special[function] if function in special else function(0.3 * a + 0.2 * b + 0.35)
    compiled = bl.compile_model(bl.Model("f", [a, b], [expression, -b]))
    value = float(compiled.vector_field(0.0, np.array([0.31, 0.43]), np.zeros(0))[0])
    assert value == pytest.approx(float(expression.subs({a: 0.31, b: 0.43})), rel=1e-12, abs=1e-14)


@pytest.mark.parametrize("name", ["jax", "jnp", "numpy", "math", "lambda", "functools"])
def test_states_named_like_modules_or_keywords_work(name):
    state = sp.Symbol(name)
    model = bl.Model("named", [state], [1 - state])
    assert bl.fixed_points(model)[0].location == (1,)
    result = bl.integrate(model, [[3.0]], progress=False)
    np.testing.assert_allclose(result["y_final"].values, [[1.0]], atol=1e-4)


def test_undefined_functions_serve_symbolic_work_and_are_refused_by_numerics():
    loss = sp.Function("L")(x, y)
    model = bl.Model.gradient_flow(loss, [x, y], name="generic")
    assert model.undefined_functions == (loss.xreplace(dict(zip([x, y], model.state))),)
    gradient = [sp.diff(model.loss, s) for s in model.state]
    descent = sum(g * f for g, f in zip(gradient, model.vector_field))
    assert sp.simplify(descent + sum(g**2 for g in gradient)) == 0
    for numeric in (bl.compile_model, bl.fixed_points):
        with pytest.raises(ValueError, match=r"undefined function\(s\) L\(x, y\)"):
            numeric(model)
