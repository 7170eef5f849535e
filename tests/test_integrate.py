import textwrap

import diffrax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp
from _command_line import product_compiler, run_python

import basinlab as bl
from basinlab.simulations._engine._checkpoint import ChunkStore
from basinlab.simulations._engine._lean_rk import (
    check_integral_controller,
    lean_ensemble,
    lean_tableau,
)

x, y = sp.symbols("x y")
# x' = x^2 - 1 blows up in finite time from every x0 > 1 and settles at -1 below it.
ESCAPE = bl.Model("escape", [x, y], [x**2 - 1, -y])


def test_escaping_trajectories_are_diverged_and_never_nan():
    starts = np.stack([np.linspace(-3, 3, 61), np.full(61, 0.5)], axis=1)
    result = bl.integrate(ESCAPE, starts, progress=False)
    status = result["status"].values
    assert np.all(status[starts[:, 0] > 1.01] == bl.DIVERGED)
    assert np.all(status[starts[:, 0] < 0.99] == bl.CONVERGED)
    assert not np.any(np.isnan(result["y_final"].values))
    settled = result["y_final"].values[starts[:, 0] < 0.99]
    np.testing.assert_allclose(settled, np.tile([-1.0, 0.0], (len(settled), 1)), atol=1e-4)


def test_escaping_trajectories_get_the_diverged_label_in_fractions():
    import numpyro.distributions as dist

    p0 = dist.Uniform(np.array([-3.0, -1.0]), np.array([3.0, 1.0])).to_event(1)
    result = bl.basin_fractions(ESCAPE, p0, n=2000, seed=1, progress=False)
    assert np.all(np.isfinite(result["fraction"].values))
    assert result["fraction"].sum() == pytest.approx(1.0)
    diverged = result["fraction"].values[result["outcome_label"].values == bl.DIVERGED][0]
    low = result["fraction_low"].values[result["outcome_label"].values == bl.DIVERGED][0]
    high = result["fraction_high"].values[result["outcome_label"].values == bl.DIVERGED][0]
    assert low <= 2 / 6 <= high  # exactly the starts with x0 > 1
    assert diverged == pytest.approx(np.mean(result["y0"].values[:, 0] > 1))


def test_time_limit_gives_unconverged():
    starts = np.array([[0.5, 0.5]])
    result = bl.integrate(ESCAPE, starts, progress=False, t1=0.1)
    assert result["status"].values.tolist() == [bl.UNCONVERGED]
    assert result["t_final"].values[0] == pytest.approx(0.1)


@pytest.mark.parametrize(
    "bad, message",
    [
        ([[0.0, np.nan]], "not finite"),
        ([[0.0, np.inf], [1.0, 1.0]], "not finite, the first at row 0"),
        ([[0.0, 1.0, 2.0]], r"shape \(n, 2\)"),
        (np.zeros((0, 2)), "no initial conditions"),
    ],
)
def test_bad_initial_conditions(bad, message):
    with pytest.raises(ValueError, match=message):
        bl.integrate(ESCAPE, bad, progress=False)


def test_bad_settings_and_params():
    with pytest.raises(ValueError, match="t1 must be a positive"):
        bl.integrate(ESCAPE, [[0.0, 0.0]], t1=-1.0)
    with pytest.raises(ValueError, match="no parameter 'k'"):
        bl.integrate(ESCAPE, [[0.0, 0.0]], params={"k": 1.0})
    with pytest.raises(TypeError, match="diffrax solver"):
        bl.integrate(ESCAPE, [[0.0, 0.0]], solver="rk4")


def test_other_diffrax_solvers_are_accepted():
    import diffrax

    starts = np.array([[0.0, 1.0], [-2.0, 1.0]])
    for solver in (diffrax.Dopri5(), diffrax.Heun()):
        result = bl.integrate(ESCAPE, starts, progress=False, solver=solver, dt0=0.01)
        assert result.attrs["solver"] == type(solver).__name__
        np.testing.assert_allclose(result["y_final"].values[:, 0], -1.0, atol=1e-3)


def test_chunks_resume_from_disk(tmp_path):
    starts = np.stack([np.linspace(-3, 0.9, 40), np.zeros(40)], axis=1)
    first = bl.integrate(ESCAPE, starts, progress=False, chunk_size=16, checkpoint_dir=tmp_path)
    files = sorted(tmp_path.rglob("chunk_*.npz"))
    assert len(files) == 3
    # Mark one stored chunk (written as the store writes, with a valid checksum); a
    # resumed run must read it back rather than recompute it.
    store = ChunkStore(files[1].parent)
    arrays = store.read(1)
    arrays["t_final"] = np.full_like(arrays["t_final"], -7.0)
    store.write(1, arrays)
    resumed = bl.integrate(ESCAPE, starts, progress=False, chunk_size=16, checkpoint_dir=tmp_path)
    assert np.all(resumed["t_final"].values[16:32] == -7.0)
    np.testing.assert_array_equal(resumed["y_final"].values, first["y_final"].values)
    # Other inputs never read these chunks.
    other = bl.integrate(
        ESCAPE, starts[::-1], progress=False, chunk_size=16, checkpoint_dir=tmp_path
    )
    assert not np.any(other["t_final"].values == -7.0)


# Bitwise equality across chunk sizes is a property of XLA's code generation, so it is
# checked with the compiler the product runs with, not the suite's quicker one.
_CHUNKS_AND_WORKERS = textwrap.dedent(
    """
    import numpy as np
    import sympy as sp

    import basinlab as bl

    x, y = sp.symbols("x y")
    escape = bl.Model("escape", [x, y], [x**2 - 1, -y])
    starts = np.random.default_rng(0).uniform(-3, 0.9, size=(50, 2))
    one = bl.integrate(escape, starts, progress=False, chunk_size=64, workers=1)
    many = bl.integrate(escape, starts, progress=False, chunk_size=8, workers=2)
    for name in ("y_final", "t_final", "status"):
        np.testing.assert_array_equal(one[name].values, many[name].values)
    """
)


def test_results_do_not_depend_on_chunks_or_workers():
    done = run_python(_CHUNKS_AND_WORKERS, env=product_compiler())
    assert done.returncode == 0, done.stderr[-3000:]


def test_float32_is_allowed_and_agrees_to_its_precision():
    import jax.numpy as jnp

    starts = np.stack([np.linspace(-3, 0.9, 20), np.linspace(-1, 1, 20)], axis=1)
    single = bl.integrate(bl.compile_model(ESCAPE, dtype=jnp.float32), starts, progress=False)
    double = bl.integrate(ESCAPE, starts, progress=False)
    np.testing.assert_array_equal(single["status"].values, double["status"].values)
    np.testing.assert_allclose(single["y_final"].values, double["y_final"].values, atol=1e-4)


def test_passes_carry_the_step_so_results_do_not_depend_on_them():
    # Passes are the diffrax path's; the lean kernel has none.
    starts = np.random.default_rng(2).uniform(-3, 0.9, size=(64, 2))
    one = bl.integrate(ESCAPE, starts, progress=False, pass_steps=4096, lean=False)
    for pass_steps in (5, 48):
        passes = bl.integrate(ESCAPE, starts, progress=False, pass_steps=pass_steps, lean=False)
        for name in ("y_final", "t_final", "status"):
            np.testing.assert_array_equal(passes[name].values, one[name].values)


def _lean_and_diffrax(model, starts, **overrides):
    lean = bl.integrate(model, starts, progress=False, lean=True, **overrides)
    plain = bl.integrate(model, starts, progress=False, lean=False, **overrides)
    return lean, plain


@pytest.mark.parametrize("solver_name", ["Tsit5", "Dopri5", "Bosh3"])
def test_lean_kernel_agrees_with_diffrax(solver_name):
    import diffrax

    solver = getattr(diffrax, solver_name)()
    rng = np.random.default_rng(3)
    starts = rng.uniform([-2.0, -1.0], [2.0, 3.0], size=(300, 2))
    model = bl.models.alignment_double_well()
    lean, plain = _lean_and_diffrax(model, starts, solver=solver)
    assert lean.attrs["lean"] == 1 and plain.attrs["lean"] == 0
    np.testing.assert_array_equal(lean["status"].values, plain["status"].values)
    # The same tableau and controller: the two differ only by rounding, far below
    # the tolerances (rtol 1e-6, atol 1e-8).
    np.testing.assert_allclose(lean["y_final"].values, plain["y_final"].values, atol=1e-8)
    np.testing.assert_allclose(lean["t_final"].values, plain["t_final"].values, rtol=1e-6)


def test_lean_kernel_keeps_diffrax_statuses_at_the_edges():
    # Blow-up (DIVERGED), the time limit (UNCONVERGED), a start at rest, a given dt0.
    starts = np.array([[2.0, 0.5], [-1.0, 0.0], [0.5, 0.5], [-3.0, 1.0]])
    for overrides in ({}, {"t1": 0.1}, {"dt0": 0.01}, {"rtol": 1e-9, "atol": 1e-11}):
        lean, plain = _lean_and_diffrax(ESCAPE, starts, **overrides)
        np.testing.assert_array_equal(lean["status"].values, plain["status"].values)
        np.testing.assert_allclose(
            lean["t_final"].values, plain["t_final"].values, rtol=1e-6, atol=1e-12
        )
    assert lean["t_final"].values[1] == 0.0  # already at rest


def test_only_explicit_pairs_take_the_lean_kernel():
    tableau = lean_tableau(diffrax.Tsit5())
    assert tableau is not None and tableau.fsal and tableau.error_order == 5
    np.testing.assert_allclose(sum(tableau.b), 1.0)
    for solver in (diffrax.Kvaerno5(), diffrax.Euler(), diffrax.ImplicitEuler()):
        assert lean_tableau(solver) is None
    with pytest.raises(TypeError, match="lean must be True or False"):
        bl.SolverSettings(lean="yes")


def test_batch_and_chunk_sizes_are_chosen_for_the_device(monkeypatch):
    from basinlab.simulations._engine import _solver_settings

    cpu = bl.SolverSettings()
    sizes = _solver_settings._DEVICE_SIZES
    assert (cpu.batch_size, cpu.chunk_size) == (sizes["batch_size"][0], sizes["chunk_size"][0])
    monkeypatch.setattr(_solver_settings.jax, "default_backend", lambda: "gpu")
    gpu = bl.SolverSettings()
    assert gpu.batch_size > 100 * cpu.batch_size and gpu.chunk_size > 100 * cpu.chunk_size
    assert bl.SolverSettings(batch_size=64, chunk_size=128).batch_size == 64
    assert gpu.describe()["batch_size"] == gpu.batch_size  # a number in every record


@pytest.mark.parametrize(
    "controller",
    [
        diffrax.PIDController(rtol=1e-7, atol=1e-9),
        diffrax.PIDController(rtol=1e-7, atol=1e-9, safety=0.6, factormin=0.5, factormax=2.0),
    ],
    ids=["default", "cautious"],
)
def test_the_lean_kernel_steps_as_the_pid_controller_it_is_given(controller):
    # The same accepted and rejected steps as diffrax's own loop, so the same step
    # count and the same end state, whatever the controller's safety and factor bounds.
    solver, t1 = diffrax.Tsit5(), 3.0
    term = diffrax.ODETerm(lambda t, y, args: jnp.stack([y[1], -y[0] - 0.3 * y[1] ** 3]))
    y0 = jnp.array([1.5, 0.0])
    dt0 = 0.01
    solution = diffrax.diffeqsolve(
        term, solver, 0.0, t1, dt0, y0, stepsize_controller=controller, max_steps=10_000
    )
    y, t, _ = lean_ensemble(
        lambda y, _: jnp.stack([y[1], -y[0] - 0.3 * y[1] ** 3]),
        lean_tableau(solver),
        lambda y, f: jnp.ones(y.shape[1], jnp.int32),
        running=1,
        at_end=0,
        t1=t1,
        controller=controller,
        max_steps=10_000,
        lanes=1,
        refill_every=1,
        y0s=y0[None],
        dt0s=jnp.array([dt0]),
        args=jnp.zeros((1, 0)),
        count=1,
    )
    np.testing.assert_allclose(y[0], solution.ys[-1], rtol=1e-12, atol=1e-12)
    assert float(t[0]) == t1


def test_the_lean_kernel_refuses_a_controller_it_would_not_follow():
    with pytest.raises(ValueError, match="pcoeff"):
        check_integral_controller(diffrax.PIDController(rtol=1e-6, atol=1e-6, pcoeff=0.3))


def test_calls_with_one_model_share_its_compiled_form_until_it_changes():
    from basinlab.simulations._engine._integrate import as_compiled

    a, c = sp.symbols("a c", real=True)
    model = bl.Model("pair", [a, c], [-a, -2 * c])
    first = as_compiled(model)
    assert as_compiled(model) is first
    assert as_compiled(bl.Model("pair", [a, c], [-a, -2 * c])) is not first
    y = jnp.array([1.0, 1.0])
    model.vector_field[1] = -3 * c  # changed in place: compiled again
    second = as_compiled(model)
    assert second is not first
    np.testing.assert_allclose(second.vector_field(0.0, y, jnp.zeros(0)), [-1.0, -3.0])
    np.testing.assert_allclose(first.vector_field(0.0, y, jnp.zeros(0)), [-1.0, -2.0])
