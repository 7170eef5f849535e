import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

import basinlab as bl
from basinlab.theory.models import deep_linear as dl
from basinlab.theory.models import deep_linear_data as data

TIGHT = dict(rtol=1e-11, atol=1e-13, max_steps=100_000)
MODE = bl.compile_model(bl.models.deep_linear_mode())
DEPTH = {n: bl.compile_model(bl.models.deep_linear_depth(depth=n)) for n in (3, 4)}
MODES = bl.compile_model(bl.models.deep_linear_modes((3.0, 2.0, 1.0), hidden=3))


@given(s=st.floats(0.5, 5.0), fraction=st.floats(1e-3, 0.4), tau=st.floats(0.5, 2.0))
def test_sigmoid_matches_the_simulated_balanced_mode(s, fraction, tau):
    u0 = fraction * s
    horizon = 2 * dl.learning_time(s, u0, s - u0 / 10, tau)
    times = np.linspace(0.0, horizon, 50)
    start = np.full((1, 2), np.sqrt(u0))
    path = bl.trajectories(MODE, start, times, params={"s": s, "tau": tau}, **TIGHT)
    simulated = path["u"].values[0]
    closed = np.array([dl.mode_strength(t, s, u0, tau) for t in times])
    assert path["solved"].values.all()
    np.testing.assert_allclose(simulated, closed, rtol=1e-6)


@given(s=st.floats(0.5, 5.0), start=st.floats(1e-3, 0.3), end=st.floats(0.5, 0.99))
def test_learning_time_is_when_the_simulated_mode_crosses(s, start, end):
    u0, uf = start * s, end * s
    predicted = dl.learning_time(s, u0, uf, 1.0)
    times = np.linspace(0.0, 1.5 * predicted, 4001)
    path = bl.trajectories(MODE, np.full((1, 2), np.sqrt(u0)), times, params={"s": s}, **TIGHT)
    u = path["u"].values[0]
    crossing = np.interp(uf, u, times)  # u rises monotonically
    assert crossing == pytest.approx(predicted, rel=1e-5)


def test_closed_forms_are_symbolic_and_numeric():
    s, u0, uf, tau, t, n = sp.symbols("s u0 uf tau t N", positive=True)
    u = dl.mode_strength(t, s, u0, tau)
    # Eq 12 solves Eq 10: tau du/dt = 2u(s - u), with u(0) = u0.
    assert sp.simplify(tau * sp.diff(u, t) - 2 * u * (s - u)) == 0
    assert sp.simplify(u.subs(t, 0) - u0) == 0
    # Eq 11 inverts Eq 12.
    assert sp.simplify(u.subs(t, dl.learning_time(s, u0, uf, tau)) - uf) == 0
    # Eq 17 solves Eq 16: d t/d uf = tau / (N uf^2 (s - uf)).
    deep = dl.infinite_depth_learning_time(s, u0, uf, n, tau)
    assert sp.simplify(sp.diff(deep, uf) - tau / (n * uf**2 * (s - uf))) == 0
    assert deep.subs(uf, u0) == 0
    assert isinstance(dl.learning_time(3.0, 0.01, 2.99, 1.0), float)
    assert dl.learning_time(3.0, 0.01, 2.99) == pytest.approx(np.log(2.99 * 2.99 / 0.0001) / 6)


@given(a0=st.floats(-2, 2), b0=st.floats(-2, 2))
def test_a_squared_minus_b_squared_is_conserved(a0, b0):
    times = np.linspace(0.0, 5.0, 30)
    path = bl.trajectories(MODE, [[a0, b0]], times, **TIGHT)
    conserved = path["conserved"].values[0]
    np.testing.assert_allclose(conserved, a0**2 - b0**2, atol=1e-8)


@given(st.lists(st.floats(-1.5, 1.5), min_size=3, max_size=3), st.floats(-1.5, 1.5))
def test_depth_conserves_consecutive_squared_differences(first, extra):
    for depth, compiled in DEPTH.items():
        start = np.array([[*first, extra][: depth - 1]])
        path = bl.trajectories(compiled, start, np.linspace(0.0, 3.0, 20), **TIGHT)
        for i in range(1, depth - 1):
            values = path[f"conserved_{i}_{i + 1}"].values[0]
            np.testing.assert_allclose(values, values[0], atol=1e-8)


def test_reduced_depth_rate_is_the_balanced_chain():
    u, s, tau = sp.symbols("u s tau", positive=True)
    for depth in (3, 4, 5):
        model = bl.models.deep_linear_depth(depth=depth)
        weight = u ** sp.Rational(1, depth - 1)
        balanced = {a: weight for a in model.state}
        symbols = {sp.Symbol("s", positive=True): s, sp.Symbol("tau", positive=True): tau}
        # du/dt = sum_i (du/da_i) da_i/dt at balanced weights.
        product = sp.Mul(*model.state)
        rate = sum(sp.diff(product, a) * f for a, f in zip(model.state, model.vector_field))
        rate = sp.simplify(rate.subs(symbols).subs(balanced))
        assert sp.simplify(rate - dl.reduced_depth_rate(u, s, depth, tau)) == 0


@given(
    values=st.lists(st.floats(0.5, 6.0), min_size=3, max_size=3, unique=True).filter(
        lambda v: min(abs(a - b) / max(a, b) for a in v for b in v if a != b) > 0.3
    ),
    seed=st.integers(0, 1000),
)
def test_predicted_order_matches_simulated_half_strength_order(values, seed):
    rng = np.random.default_rng(seed)
    items = 6
    left = np.linalg.qr(rng.normal(size=(5, 3)))[0]
    right = np.linalg.qr(rng.normal(size=(items, 3)))[0]
    correlation = left @ np.diag(values) @ right.T
    spectrum = data.mode_spectrum(np.eye(items), items * correlation.T, u0=1e-4)
    np.testing.assert_allclose(np.sort(values)[::-1], spectrum.singular_values)
    s = spectrum.singular_values
    params = {"s_1": s[0], "s_2": s[1], "s_3": s[2]}
    # The prediction assumes every mode starts at the same small strength u0 (Saxe et
    # al. 2014, Sec 2); random hidden directions, balanced a = b.
    directions = np.linalg.qr(rng.normal(size=(3, 3)))[0].T
    start = np.sqrt(1e-4) * np.concatenate([np.tile(d, 2) for d in directions])[None]
    times = np.linspace(0, 3 * spectrum.learning_times.max(), 4000)
    path = bl.trajectories(MODES, start, times, params=params, rtol=1e-10, atol=1e-12)
    half = [np.interp(s[k] / 2, path[f"u_{k + 1}"].values[0], times) for k in range(3)]
    predicted = [dl.learning_time(s[k], 1e-4, s[k] / 2, 1.0) for k in range(3)]
    np.testing.assert_allclose(half, predicted, rtol=1e-4)
    assert list(np.argsort(half, kind="stable")) == list(spectrum.order)


def test_hierarchical_data_learns_broad_distinctions_first():
    inputs, outputs = data.hierarchical_data(depth=3, features=4000, flip=0.1, seed=0)
    spectrum = data.mode_spectrum(inputs, outputs)
    first, second = (
        spectrum.input_modes[:, spectrum.order[0]],
        spectrum.input_modes[:, spectrum.order[1]],
    )
    assert abs(first @ np.ones(8)) / np.sqrt(8) > 0.95  # the root: all items alike
    halves = np.r_[np.ones(4), -np.ones(4)] / np.sqrt(8)
    assert abs(second @ halves) > 0.9  # then the first split of the tree
    assert spectrum.whitening_error == pytest.approx(0.0, abs=1e-12)


def test_curriculum_and_biased_labels_change_order_and_map():
    # Four items, each with a feature of its own: the modes are the items, with
    # strengths 3, 2, 1, 1/2. Weighting the last item tenfold makes it the strongest.
    inputs, outputs = np.eye(4), np.diag([3.0, 2.0, 1.0, 0.5])
    clean = data.mode_spectrum(inputs, outputs)
    curriculum = data.mode_spectrum(inputs, outputs, weights=[1, 1, 1, 10])
    change = data.compare_spectra(clean, curriculum)
    assert change.order_before == [0, 1, 2, 3] and change.order_after == [3, 0, 1, 2]
    assert change.order_changed
    np.testing.assert_allclose(curriculum.singular_values, np.array([5, 3, 2, 1]) / 13)
    assert curriculum.whitening_error > 1  # the curriculum un-whitens the inputs
    inputs, outputs = data.hierarchical_data(depth=2, features=2000, flip=0.1, seed=1)
    clean = data.mode_spectrum(inputs, outputs)
    # Replacing every label by a biased rule moves the converged map all the way.
    rule = -outputs
    corrupted = data.mode_spectrum(inputs, data.corrupt_labels(outputs, 1.0, rule))
    full = data.compare_spectra(clean, corrupted)
    assert full.relative_map_shift == pytest.approx(2.0)
    half = data.compare_spectra(
        clean, data.mode_spectrum(inputs, data.corrupt_labels(outputs, 0.5, rule))
    )
    assert 0 < half.relative_map_shift < full.relative_map_shift
    none = data.compare_spectra(
        clean, data.mode_spectrum(inputs, data.corrupt_labels(outputs, 0.0, rule))
    )
    assert none.map_shift == 0 and not none.order_changed


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: bl.models.deep_linear_modes((1.0, 2.0)), "decreasing order"),
        (lambda: bl.models.deep_linear_modes((2.0, -1.0)), "must be positive"),
        (lambda: bl.models.deep_linear_modes((2.0,), hidden=0), "hidden"),
        (lambda: bl.models.deep_linear_depth(depth=1), "depth"),
        (lambda: bl.models.deep_linear_mode(s=-1.0), "s must be positive"),
        (lambda: dl.learning_time(1.0, 2.0, 0.5), "0 < u0 < s"),
        (
            lambda: data.input_output_correlation(np.eye(3), np.ones((4, 2))),
            "same number of examples",
        ),
        (
            lambda: data.input_output_correlation(np.eye(3), np.ones((3, 2)), [1, 1]),
            "one entry per example",
        ),
        (lambda: data.input_output_correlation(np.ones(3), np.ones((3, 2))), "must be a matrix"),
        (lambda: data.corrupt_labels(np.ones((3, 2)), 1.5, np.ones((3, 2))), "fraction"),
        (lambda: data.corrupt_labels(np.ones((3, 2)), 0.5, np.ones((3, 3))), "shape of outputs"),
        (lambda: data.hierarchical_data(flip=0.7), "flip"),
        (lambda: data.mode_spectrum(np.eye(2), np.eye(2) * 1e-3, u0=1e-3), "u0"),
    ],
)
def test_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_the_minima_continuum_splits_into_its_two_branches():
    # a^2 - b^2 is conserved and u = ab grows to s, so a start ends on the branch
    # a, b > 0 exactly when a + b > 0: the antidiagonal is the saddle's stable manifold.
    import numpyro.distributions as dist

    from basinlab.simulations import FIXED_POINT_CONTINUUM

    p0 = dist.Uniform(np.array([-3.0, -3.0]), np.array([3.0, 3.0])).to_event(1)
    result = bl.basin_fractions(MODE, p0, n=3000, seed=0, progress=False)
    kinds = result["attractor_kind"].values.tolist()
    assert kinds.count(FIXED_POINT_CONTINUUM) == 2
    branches = [i for i, k in enumerate(kinds) if k == FIXED_POINT_CONTINUUM]
    positive = max(branches, key=lambda i: result["attractor_location"].values[i, 0])
    ends_positive = result["label"].values == positive
    np.testing.assert_array_equal(ends_positive, result["y0"].values.sum(axis=1) > 0)
    assert result["attractor_holds"].values[branches, 0].all()  # learned on both branches


def test_continua_of_fixed_points_are_given_exactly():
    mode = bl.models.deep_linear_mode()
    a, b = mode.state
    continua = bl.fixed_point_continua(mode, params={"s": 2.0})
    assert continua == [{a: 2 / b, b: b}]
    assert [p.location for p in bl.fixed_points(mode)] == [(0, 0)]  # the saddle only
    depth = bl.models.deep_linear_depth(depth=4)  # three weights
    assert len(bl.fixed_point_continua(depth)) == 4  # the minima and three axes


def test_trajectories_reject_bad_times():
    with pytest.raises(ValueError, match="strictly increasing"):
        bl.trajectories(MODE, [[0.1, 0.1]], [0.0, 1.0, 0.5])
    with pytest.raises(ValueError, match="strictly increasing"):
        bl.trajectories(MODE, [[0.1, 0.1]], [0.0])
