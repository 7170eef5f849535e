"""The claim registry and certified regions, cross-checked against diffrax simulations."""

import contextlib
import importlib
import io
import json
import types

import jax
import numpy as np
import pytest
import scipy.optimize
import sympy as sp
from _readme import readme_arguments
from hypothesis import given
from hypothesis import strategies as st

import basinlab as bl
from basinlab import proofs
from basinlab._cli import main
from basinlab.theory.models.teacher_student import first_order_flow, plateau

TIGHT = dict(rtol=1e-10, atol=1e-12, max_steps=100_000)
ALIGNMENT = bl.models.alignment_double_well()
ALIGNMENT_JIT = bl.compile_model(ALIGNMENT)
GRADIENT_FLOWS = {
    name: bl.compile_model(bl.models.build(name))
    for name in bl.models.names()
    if bl.models.build(name).loss is not None
}


@pytest.fixture(scope="module")
def verdicts():
    """Every built-in claim, proved by the README's `basinlab prove` (which the README's
    own test leaves to this fixture), in JSON."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main([*readme_arguments("basinlab prove"), "--json"])
    found = {v["id"]: types.SimpleNamespace(**v) for v in json.loads(printed.getvalue())}
    return code, found


def test_every_built_in_claim_is_proved(verdicts):
    code, verdicts = verdicts
    failing = {i: (v.status, v.detail) for i, v in verdicts.items() if v.status != proofs.PROVED}
    assert not failing and code == 0
    assert all(v.seconds >= 0 and v.detail for v in verdicts.values())
    assert set(verdicts) == {claim.id for claim in proofs.claims()}


def test_the_issue_s_claims_are_registered(verdicts):
    _, verdicts = verdicts
    wanted = [
        "gradient_flow.descent",
        "deep_linear.sigmoid",
        "deep_linear.learning_time",
        "deep_linear.conservation",
        "deep_linear.conservation.depth3",
        "deep_linear.conservation.depth4",
        *(f"teacher_student.plateau.k{K}" for K in (2, 3, 4)),
        *(f"teacher_student.plateau_error.k{K}" for K in (2, 3, 4)),
        "alignment_double_well.fixed_points",
    ]
    assert set(wanted) <= set(verdicts)


# Each proved claim about dynamics is also checked against diffrax simulations, by the
# test named here (in this file or another test module).
CROSS_CHECKS = {
    "gradient_flow.descent": "test_proofs::test_loss_decays_at_the_squared_gradient_rate",
    "deep_linear.sigmoid": "test_deep_linear::test_sigmoid_matches_the_simulated_balanced_mode",
    "deep_linear.learning_time": (
        "test_deep_linear::test_learning_time_is_when_the_simulated_mode_crosses"
    ),
    "deep_linear.conservation": "test_deep_linear::test_a_squared_minus_b_squared_is_conserved",
    "deep_linear.conservation.depth": (
        "test_deep_linear::test_depth_conserves_consecutive_squared_differences"
    ),
    "teacher_student.plateau.": "test_proofs::test_simulated_plateau_stays_put",
    "teacher_student.plateau_error.": "test_proofs::test_compiled_eps_g_on_the_plateau",
    "alignment_double_well.fixed_points": (
        "test_proofs::test_simulations_settle_on_the_proved_fixed_points"
    ),
    "alignment_double_well.barrier": "test_proofs::test_simulated_minima_differ_by_the_barrier",
    "alignment_double_well.escape_barrier": (
        "test_proofs::test_the_compiled_saddle_lies_above_the_aligned_minimum_by_the_escape_barrier"
    ),
    "alignment_double_well.certified_basin": (
        "test_proofs::test_points_in_a_certified_region_end_on_its_attractor"
    ),
    "alignment_double_well.transcritical": (
        "test_continuation::"
        "test_the_default_models_aligned_attractor_persists_through_its_transcritical_point"
    ),
    "alignment_research_race.endpoint": (
        "test_trajectory_predicates::test_the_race_never_lags_exactly_when_scipy_says_so"
    ),
    "capability_race.constant_weights": (
        "test_capability_race::test_constant_weights_flip_the_simulated_order_at_the_exact_threshold"
    ),
    "linear_attention.balanced_flow": (
        "test_linear_attention::test_the_balanced_flow_is_the_logistic_curve"
    ),
    "linear_attention.isotropic_minimum": (
        "test_linear_attention::test_isotropic_risk_matches_monte_carlo"
    ),
    "linear_attention.anisotropic_minimum": (
        "test_linear_attention::test_anisotropic_minimum_and_exact_risk_match_monte_carlo"
    ),
    "reward_perceptron.proxy_shadow": (
        "test_reward_perceptron::test_real_runs_keep_the_true_overlap_rho_times_the_proxy_s"
    ),
    "reward_perceptron.fresh_proxy_limit": (
        "test_reward_perceptron::test_many_fresh_proxies_reach_the_limit_scipy_integrates"
    ),
    "survival_instinct.": (
        "test_survival_instinct::test_value_iteration_reaches_the_exact_values_and_verdicts"
    ),
    "performative_prediction.tightness": (
        "test_performative::test_rrm_runs_away_at_and_above_the_bound"
    ),
    "retraining.refit_moments": ("test_retraining::test_one_refit_matches_its_exact_expectations"),
    "retraining.collapse": (
        "test_retraining::test_without_fresh_data_the_variance_collapses_at_the_exact_rates"
    ),
    "retraining.fresh_data": (
        "test_retraining::test_fresh_data_holds_the_moments_at_the_exact_stationary_point"
    ),
    "alignment_tilted_well.fold": (
        "test_continuation::test_the_aligned_fraction_vanishes_at_the_exact_fold_from_either_side"
    ),
    "learning_coefficient.regular": (
        "test_local_learning_coefficient::test_a_regular_minimum_gives_half_its_dimension_and_is_trusted"
    ),
    "learning_coefficient.continuum.": (
        "test_local_learning_coefficient::test_the_deep_linear_hyperbola_gives_one_half"
    ),
    "learning_coefficient.origin.": (
        "test_local_learning_coefficient::"
        "test_aoyagi_at_the_origin_of_a_two_layer_network_as_gamma_shrinks"
    ),
    "learning_coefficient.aoyagi_reduces_to_reduced_rank": (
        "test_local_learning_coefficient::"
        "test_a_trained_linear_network_on_data_gives_aoyagi_s_value"
    ),
    "learning_coefficient.single_layer": (
        "test_local_learning_coefficient::"
        "test_one_shared_batch_for_the_reference_offsets_every_chain_together"
    ),
    "bistable_cycle.certified_basin": (
        "test_proofs::test_points_in_a_certified_region_end_on_its_attractor"
    ),
}


def test_every_proved_claim_has_a_numerical_cross_check(verdicts):
    _, verdicts = verdicts
    for claim_id, verdict in verdicts.items():
        if verdict.status != proofs.PROVED:
            continue
        checks = [name for prefix, name in CROSS_CHECKS.items() if claim_id.startswith(prefix)]
        assert checks, f"claim {claim_id} has no numerical cross-check"
        for name in checks:
            module, function = name.split("::")
            assert callable(getattr(importlib.import_module(module), function))


@pytest.mark.parametrize("name", sorted(GRADIENT_FLOWS))
@given(seed=st.integers(0, 10_000))
def test_loss_decays_at_the_squared_gradient_rate(name, seed):
    compiled = GRADIENT_FLOWS[name]
    model = compiled.model
    start = np.random.default_rng(seed).uniform(-1.5, 1.5, size=(1, model.dim))
    times = np.linspace(0.0, 2.0, 801)
    path = bl.trajectories(compiled, start, times, **TIGHT)
    loss = path["loss"].values[0]
    gradient = sp.lambdify(
        [model.state],
        [sp.diff(model.loss.subs(model.param_substitution()), s) for s in model.state],
    )
    squared = np.array([np.sum(np.square(gradient(y))) for y in path["y"].values[0]])
    assert np.all(np.diff(loss) <= 1e-12 * (1 + np.abs(loss[:-1])))
    # L(0) - L(T) = integral of |grad L|^2 dt (Simpson's rule on the saved path).
    dissipated = (
        (times[1] - times[0])
        / 3
        * (squared[0] + squared[-1] + 4 * squared[1:-1:2].sum() + 2 * squared[2:-1:2].sum())
    )
    assert loss[0] - loss[-1] == pytest.approx(dissipated, rel=1e-5, abs=1e-10)


@pytest.mark.parametrize("K", [2, 3])
def test_simulated_plateau_stays_put(K):
    state, first = first_order_flow(K, K)
    flow = bl.compile_model(bl.Model(f"plateau_{K}", state, first))
    point, _ = plateau(K)
    start = np.array([[float(point[str(s)]) for s in state]])
    path = bl.trajectories(flow, start, np.linspace(0.0, 5.0, 11), **TIGHT)
    assert np.max(np.abs(path["y"].values[0] - start)) < 1e-10
    # Off the plateau the same flow moves at a visible rate: the check can fail.
    nudged = start * (1 + 0.05 * np.arange(len(state)) / len(state))
    moved = bl.trajectories(flow, nudged, np.linspace(0.0, 5.0, 11), **TIGHT)
    assert np.max(np.abs(moved["y"].values[0, -1] - nudged)) > 1e-4


@pytest.mark.parametrize("K", [2, 3, 4])
def test_compiled_eps_g_on_the_plateau(K):
    compiled = bl.compile_model(bl.models.teacher_student(K, K))
    point, closed = plateau(K)
    start = np.array([float(point[s]) for s in compiled.state_names])
    # The compiled observable itself, without a solve around it (K = 4 has 26 states).
    values = jax.jit(compiled.observables)(start, compiled.param_vector({"sigma": 0.0}))
    eps_g = values[compiled.observable_names.index("eps_g")]
    assert float(eps_g) == pytest.approx(float(closed), rel=1e-12)


def test_simulations_settle_on_the_proved_fixed_points():
    values = ALIGNMENT.param_substitution()
    b, kappa = (float(values[p]) for p in ALIGNMENT.params)
    stable = np.array([[1.0, 1 + kappa], [-1.0, 1 - kappa]])
    saddle = np.array([b, 1 + kappa * b])
    rng = np.random.default_rng(0)
    near = np.concatenate([stable + rng.normal(scale=0.05, size=stable.shape), [saddle]])
    horizon = np.array([0.0, 100.0])
    result = bl.trajectories(ALIGNMENT_JIT, near, horizon, **TIGHT)
    np.testing.assert_allclose(result["y"].values[:, -1], [*stable, saddle], atol=1e-8)
    # Off the saddle along its unstable direction the flow leaves it.
    unstable = np.linalg.eigh(
        np.array(
            bl.hessian(ALIGNMENT).subs(values | dict(zip(ALIGNMENT.state, saddle))), dtype=float
        )
    )[1][:, 0]
    away = bl.trajectories(ALIGNMENT_JIT, [saddle + 1e-3 * unstable], horizon, **TIGHT)
    assert np.min(np.max(np.abs(away["y"].values[0, -1] - stable), axis=1)) < 1e-8
    numeric = {tuple(np.round(p.numeric, 9)) for p in bl.fixed_points(ALIGNMENT)}
    assert numeric == {tuple(np.round(p, 9)) for p in [*stable, saddle]}


@given(bias=st.floats(-0.8, 0.8), coupling=st.floats(-2.0, 2.0))
def test_simulated_minima_differ_by_the_barrier(bias, coupling):
    params = {"bias": bias, "coupling": coupling}
    starts = [[1.2, 1 + coupling], [-1.2, 1 - coupling]]
    ends = bl.integrate(ALIGNMENT_JIT, starts, params=params, progress=False, t1=400.0)
    loss = ALIGNMENT_JIT.observables
    final = [float(loss(y, ALIGNMENT_JIT.param_vector(params))[0]) for y in ends["y_final"].values]
    assert final[0] - final[1] == pytest.approx(4 * bias / 3, abs=1e-7)


@given(bias=st.floats(-0.8, 0.8), coupling=st.floats(-2.0, 2.0))
def test_the_compiled_saddle_lies_above_the_aligned_minimum_by_the_escape_barrier(bias, coupling):
    params = {"bias": bias, "coupling": coupling}
    p = ALIGNMENT_JIT.param_vector(params)

    def field(y):
        return np.asarray(ALIGNMENT_JIT.vector_field(0.0, y, p))

    # The saddle by a root search from between the minima, not from the SymPy solve.
    saddle = scipy.optimize.root(field, [0.0, 1.0], tol=1e-13).x
    aligned = bl.integrate(
        ALIGNMENT_JIT, [[1.2, 1 + coupling]], params=params, progress=False, **TIGHT
    )
    loss = ALIGNMENT_JIT.observables
    barrier = float(loss(saddle, p)[0] - loss(aligned["y_final"].values[0], p)[0])
    assert barrier == pytest.approx((1 - bias) ** 3 * (bias + 3) / 12, abs=1e-7)


@pytest.fixture(scope="module")
def regions():
    return {
        "alignment_double_well": bl.certified_region(ALIGNMENT, (1, 2), n=2000),
        "bistable_cycle": bl.certified_region(bl.models.bistable_cycle(), (0, 0), n=2000),
    }


@pytest.mark.parametrize("name", ["alignment_double_well", "bistable_cycle"])
@given(seed=st.integers(0, 2**32 - 1))
def test_points_in_a_certified_region_end_on_its_attractor(regions, name, seed):
    region = regions[name]
    model = bl.models.build(name)
    rng = np.random.default_rng(seed)
    window = np.array(region.comparison.window)
    candidates = rng.uniform(window[:, 0], window[:, 1], size=(4000, model.dim))
    inside = candidates[region.contains(candidates)][:64]
    assert len(inside) > 0
    ends = bl.integrate(model, inside, progress=False, t1=400.0)
    target = np.array([float(c) for c in region.attractor])
    assert np.all(ends["status"].values == bl.CONVERGED)
    np.testing.assert_allclose(
        ends["y_final"].values, np.broadcast_to(target, inside.shape), atol=1e-4
    )


def test_certified_regions_sit_inside_their_simulated_basins(regions):
    for region in regions.values():
        comparison = region.comparison
        assert comparison.region_escapes == 0
        assert 0 < comparison.ratio <= 1
        assert comparison.ratio_low <= comparison.ratio <= comparison.ratio_high
    # The bistable cycle's basin is the unit disc; the SOS disc covers nearly all of it.
    assert regions["bistable_cycle"].comparison.ratio > 0.98


def test_a_certified_region_outlines_on_a_basin_map(regions):
    result = bl.basin_map(
        ALIGNMENT, x="a", y="c", bounds=((-2, 2), (-1, 3)), resolution=24, progress=False
    )
    _fig, ax = bl.plot_basin_map(result, regions=[regions["alignment_double_well"]])
    assert "certified (sublevel)" in [t.get_text() for t in ax.get_legend().get_texts()]
    with pytest.raises(ValueError, match="contains"):
        bl.plot_basin_map(result, regions=[object()])


def test_sublevel_region_shrinks_toward_the_bifurcation():
    levels = []
    for bias in (0.2, 0.5, 0.8):
        region = bl.certified_region(ALIGNMENT, (1, 2), params={"bias": bias}, compare=False)
        minimum = ALIGNMENT.loss.subs(ALIGNMENT.param_substitution({"bias": bias})).subs(
            dict(zip(ALIGNMENT.state, region.attractor))
        )
        levels.append(float(region.certificate.level - minimum))
    assert levels[0] > levels[1] > levels[2] > 0


# A deliberately false claim, registered here only: the checkers can fail.
def _false_sigmoid() -> str:
    t, s, u0 = sp.symbols("t s u_0", positive=True)
    wrong = s * sp.exp(s * t) / (sp.exp(s * t) - 1 + s / u0)  # the rate is 2s, not s
    return proofs.vanishes(sp.diff(wrong, t) - 2 * wrong * (s - wrong), "du/dt - 2u(s - u)")


def _false_positivity() -> str:
    x, y = sp.symbols("x y")
    box = [(sp.Integer(-1), sp.Integer(1))] * 2
    proofs.prove_positive(x**2 + y**2 - sp.Rational(1, 100), [x, y], box, "x^2 + y^2 > 1/100")
    return "unreachable"


@pytest.mark.parametrize("certificate", [_false_sigmoid, _false_positivity])
def test_a_false_claim_fails_its_certificate(certificate):
    claim = proofs.Claim("tests.false", "A false statement.", certificate=certificate)
    verdict = claim.check()
    assert verdict.status == proofs.FAILED
    assert "at" in verdict.detail


def test_prove_exits_non_zero_on_a_failed_claim(capsys):
    claim = proofs.register(
        proofs.Claim("tests.false_cli", "A false statement.", certificate=_false_sigmoid)
    )
    try:
        assert main(["prove", "--claim", claim.id, "--json"]) == 1
        (entry,) = json.loads(capsys.readouterr().out)
        assert entry["id"] == claim.id and entry["status"] == "FAILED"
        assert set(entry) >= {"id", "statement", "status", "seconds"}
    finally:
        proofs.unregister(claim.id)
    assert claim.id not in {c.id for c in proofs.claims()}


def test_prove_prints_a_table_and_json(capsys):
    assert (
        main(["prove", "--claim", "deep_linear.sigmoid", "--claim", "gradient_flow.descent"]) == 0
    )
    out = capsys.readouterr().out
    assert "deep_linear.sigmoid" in out and "PROVED" in out and "seconds" in out
    assert main(["prove", "--claim", "deep_linear.conservation", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["status"] == "PROVED"


def test_timeouts_are_undecided_and_admitted_claims_are_not_proved():
    def slow() -> str:
        while True:
            pass

    verdict = proofs.Claim("tests.slow", "Never ends.", certificate=slow, timeout=0.2).check()
    assert verdict.status == proofs.UNDECIDED and verdict.seconds >= 0.2

    def exhausted() -> str:
        x = sp.Symbol("x")
        box = [(sp.Integer(-1), sp.Integer(1))]
        p = sp.expand((x - sp.Rational(1, 3)) ** 2 + sp.Rational(1, 10**9))
        return str(proofs.prove_positive(p, [x], box, "p", 50))

    budget = proofs.Claim("tests.budget", "Needs many boxes.", certificate=exhausted).check()
    assert budget.status == proofs.UNDECIDED and "50 boxes" in budget.detail
    admitted = proofs.Claim("tests.admitted", "Taken on trust.", admitted="no certificate yet")
    assert admitted.check().status == proofs.ADMITTED


def test_bad_input(capsys):
    assert main(["prove", "--claim", "no.such_claim"]) == 2
    assert "unknown claim" in capsys.readouterr().err
    assert main(["prove", "--timeout", "-1"]) == 2
    with pytest.raises(ValueError, match="not polynomial"):
        bl.certified_region(bl.models.teacher_student(2, 2), [0.5] * 7, method="sos")
    with pytest.raises(ValueError, match="not a critical point"):
        bl.certified_region(ALIGNMENT, (0.5, 0.5), compare=False)
    with pytest.raises(ValueError, match="strict local minimum"):
        bl.certified_region(ALIGNMENT, (0.2, 1.2), compare=False)
    with pytest.raises(ValueError, match="method"):
        bl.certified_region(ALIGNMENT, (1, 2), method="magic")
    with pytest.raises(ValueError, match="exactly one"):
        proofs.Claim("tests.both", "Both.", certificate=lambda: "", admitted="why")
    with pytest.raises(ValueError, match="dotted"):
        proofs.Claim("Bad Id", "x", admitted="why")
    with pytest.raises(ValueError, match="already registered"):
        proofs.register(proofs.Claim("deep_linear.sigmoid", "again", admitted="dup"))


def test_normal_expectations_by_raw_moments_match_sympy_stats_integration():
    from sympy.stats import E, Normal

    retraining = importlib.import_module("basinlab.proofs.claims.retraining")
    mean, variance = sp.Symbol("mu", real=True), sp.Symbol("v", positive=True)
    x, y = sp.symbols("x y", real=True)
    polynomial = x**4 - 2 * x * y**2 + y**3
    by_moments = retraining._normal_expectation(polynomial, {x: (mean, variance), y: (1, 2)})
    by_integration = E(
        polynomial.subs({x: Normal("X", mean, sp.sqrt(variance)), y: Normal("Y", 1, sp.sqrt(2))})
    )
    assert sp.simplify(by_moments - by_integration) == 0
