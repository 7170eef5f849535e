"""Ensemble integration with diffrax: final states, convergence times and status."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import itertools
import os
import time
from collections.abc import Callable, Mapping

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr
from jax.sharding import PartitionSpec
from jaxtyping import Array, ArrayLike, Bool, Float, Int

from ..theory import FLOW, MAP, Model
from ..theory._checks import check_count
from ._checkpoint import ChunkStore
from ._compile import CompiledModel, compile_model
from ._distribute import batch_placement, chunk_share
from ._lean_rk import LeanTableau, lean_ensemble, lean_tableau
from ._progress import Progress
from ._provenance import provenance
from ._step_size import CarriedStepSize

CONVERGED = 0
DIVERGED = -1
UNCONVERGED = -2
_RUNNING = 1  # out of step budget for this pass; continued in the next
# Batch and chunk sizes by default: (on a CPU, on a GPU or TPU).
_DEVICE_SIZES = {"batch_size": (1024, 262_144), "chunk_size": (16_384, 2_097_152)}
# Steps between refills of the lean kernel's lanes: often enough that few lanes idle
# on stopped trajectories, seldom enough that refilling costs little.
_REFILL_EVERY = 8


@dataclasses.dataclass(frozen=True)
class SolverSettings:
    r"""How each trajectory is integrated and when it stops.

    A trajectory stops at steady state, when $\|f(y)\|_\infty <
    \text{steady\_tol}\,(1 + \|y\|_\infty)$ (CONVERGED); when it leaves the box
    $\|y\|_\infty > \text{divergence\_bound}$, or its state or its field $f(y)$
    stops being finite (DIVERGED: it blew up, or left the domain of the field, as
    $-\log x$ does at $x < 0$); or at `t1` or after `max_steps` steps (UNCONVERGED).

    **Fields:**

    - `solver`: any diffrax solver; `diffrax.Tsit5()` by default.
    - `t1`: the final time.
    - `dt0`: the first step. `None` (the default) picks it from the scale of the field
      at the start (diffrax's rule, after Hairer, Nørsett and Wanner, *Solving
      Ordinary Differential Equations I*, §II.4) for an adaptive solver; a solver
      without an error estimate needs it, and takes only steps of this size.
    - `rtol`, `atol`: tolerances of the step-size controller (an integral
      controller, diffrax's `PIDController` with its default coefficients).
    - `steady_tol`: the steady-state tolerance above. Keep it well above `rtol`:
      near a stable point an adaptive solver hovers at its own error level, about
      `rtol` times the state, and a stricter test would never fire.
    - `divergence_bound`: the box outside which a trajectory counts as diverged.
    - `max_steps`: the most steps a trajectory may take, rounded up to a multiple of
      `pass_steps`.
    - `pass_steps`: the step budget of one pass of the diffrax path. A vectorised
      adaptive solve runs in lockstep until its slowest member stops, so
      trajectories are integrated in passes of this many steps, and those still
      running after a pass are packed into full batches for the next one. Each pass
      resumes with the step size the previous pass would have taken next, so the
      results do not depend on `pass_steps`.
    - `batch_size`: trajectories integrated in lockstep (vectorised) at a time, per
      device: the lanes of the lean kernel, the batches of the diffrax path. Small
      batches waste less work on their slowest member, large ones amortise more
      overhead. `None` (the default) chooses for JAX's default device: 1,024 on a
      CPU, 262,144 on a GPU or TPU, which needs many lanes to fill it.
    - `chunk_size`: trajectories per compiled call (the lean kernel's queue); each
      finished chunk is written to disk when there is a checkpoint directory.
      `None` (the default): 16,384 on a CPU, 2,097,152 on a GPU or TPU.
    - `lean`: integrate with basinlab's lean kernel when the solver is an explicit
      Runge–Kutta pair (`Tsit5`, `Dopri5`, `Bosh3`, ...): the same tableau, controller
      and stopping rules as diffrax, in one compiled loop per chunk whose lanes take
      the next start as soon as their trajectory stops; four to five times faster.
      `False` integrates every trajectory with `diffrax.diffeqsolve`. Other solvers
      (implicit, stochastic, fixed-step) always go through diffrax.
    """

    solver: dfx.AbstractSolver = dataclasses.field(default_factory=dfx.Tsit5)
    t1: float = 200.0
    dt0: float | None = None
    rtol: float = 1e-6
    atol: float = 1e-8
    steady_tol: float = 1e-5
    divergence_bound: float = 1e6
    max_steps: int = 4096
    pass_steps: int = 48
    batch_size: int | None = None
    chunk_size: int | None = None
    lean: bool = True

    def __post_init__(self):
        if not isinstance(self.solver, dfx.AbstractSolver):
            raise TypeError(f"solver must be a diffrax solver, got {self.solver!r}")
        for name in ("t1", "dt0", "rtol", "atol", "steady_tol", "divergence_bound"):
            value = getattr(self, name)
            if name == "dt0" and value is None:
                continue
            if isinstance(value, bool) or not (
                isinstance(value, int | float) and np.isfinite(value) and value > 0
            ):
                raise ValueError(f"{name} must be a positive finite number, got {value!r}")
        if self.dt0 is None and not self.adaptive:
            raise ValueError(
                f"{type(self.solver).__name__} has no error estimate, so it needs a fixed "
                "step: give dt0"
            )
        for name, sizes in _DEVICE_SIZES.items():
            if getattr(self, name) is None:
                # Resolved once, here, so that every use and every record sees a number.
                object.__setattr__(self, name, sizes[jax.default_backend() != "cpu"])
        for name in ("max_steps", "pass_steps", "batch_size", "chunk_size"):
            check_count(getattr(self, name), name)
        if not isinstance(self.lean, bool):
            raise TypeError(f"lean must be True or False, got {self.lean!r}")

    @property
    def adaptive(self) -> bool:
        """Whether the solver estimates its error, so that steps adapt."""
        return isinstance(self.solver, dfx.AbstractAdaptiveSolver)

    def controller(self) -> dfx.AbstractStepSizeController:
        """A controller at `rtol`, `atol` that carries its next step in its state, for
        an adaptive solver; fixed steps of `dt0` for one without an error estimate."""
        if self.adaptive:
            return CarriedStepSize(dfx.PIDController(rtol=self.rtol, atol=self.atol))
        return dfx.ConstantStepSize()

    def describe(self, kind: str = FLOW) -> dict[str, object]:
        """The settings as attrs for a result; for a map, without the ODE solver's."""
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        fields["solver"] = type(self.solver).__name__
        if self.dt0 is None:
            fields["dt0"] = "automatic"
        # netCDF attributes hold no booleans.
        fields["lean"] = int(self.lean)
        if kind == MAP:
            for name in ("dt0", "rtol", "atol", "lean"):
                del fields[name]
            fields["solver"] = "iteration"
        return fields


def _stop_status(
    settings: SolverSettings, y: Float[Array, " *dims"], f: Float[Array, " *dims"], axis: int = -1
) -> Int[Array, " *dims"]:
    """The status a state `y` with field `f` (states along `axis`) stops with:
    DIVERGED out of bounds or not finite, CONVERGED at rest, `_RUNNING` otherwise."""
    size = jnp.max(jnp.abs(y), axis=axis)
    speed = jnp.max(jnp.abs(f), axis=axis)
    escaped = (size > settings.divergence_bound) | ~jnp.isfinite(size) | ~jnp.isfinite(speed)
    at_rest = speed < settings.steady_tol * (1 + size)
    return jnp.select([escaped, at_rest], [DIVERGED, CONVERGED], _RUNNING).astype(jnp.int32)


def _stop(compiled: CompiledModel, settings: SolverSettings, t, y, p) -> Bool[Array, ""]:
    """Whether to stop at state `y`: at rest, out of bounds, or not finite."""
    return _stop_status(settings, y, compiled.vector_field(t, y, p)) != _RUNNING


def _solve_one(
    compiled: CompiledModel,
    settings: SolverSettings,
    steps: int,
    y0: Float[Array, " n"],
    t0: Float[Array, ""],
    dt: Float[Array, ""],
    p: Float[Array, " m"],
) -> tuple[Float[Array, " n"], Float[Array, ""], Float[Array, ""], Int[Array, ""]]:
    """One pass of at most `steps` steps from `(t0, y0)`; `dt` is the step to start
    with, or NaN to choose one. Returns the state, time, next step and status."""
    term = dfx.ODETerm(compiled.vector_field)
    controller = settings.controller()
    resumable = isinstance(controller, CarriedStepSize)
    if resumable:
        automatic, initial = controller.init(
            term,
            t0,
            settings.t1,
            y0,
            settings.dt0,
            p,
            settings.solver.func,
            settings.solver.error_order(term),
        )
        dt = jnp.where(dt > 0, dt, automatic - t0)
        state = (initial[0], dt)
    solution = dfx.diffeqsolve(
        term,
        settings.solver,
        t0=t0,
        t1=settings.t1,
        dt0=dt if resumable else settings.dt0,
        y0=y0,
        args=p,
        saveat=dfx.SaveAt(t1=True, controller_state=resumable),
        stepsize_controller=controller,
        controller_state=state if resumable else None,
        # One condition, so the field is evaluated once per step for all of them.
        event=dfx.Event(lambda t, y, args, **kwargs: _stop(compiled, settings, t, y, args)),
        max_steps=steps,
        throw=False,
    )
    y, t = solution.ys[-1], solution.ts[-1]
    size = jnp.max(jnp.abs(y))
    speed = jnp.max(jnp.abs(compiled.vector_field(t, y, p)))
    diverged = ~jnp.isfinite(size) | ~jnp.isfinite(speed) | (size > settings.divergence_bound)
    stopped = solution.event_mask
    out_of_steps = solution.result == dfx.RESULTS.max_steps_reached
    status = jnp.select(
        [diverged, stopped, out_of_steps], [DIVERGED, CONVERGED, _RUNNING], UNCONVERGED
    ).astype(jnp.int32)
    next_dt = solution.controller_state[1] if resumable else jnp.asarray(settings.dt0, t.dtype)
    return y, t, next_dt, status


def _iterate_one(
    compiled: CompiledModel,
    settings: SolverSettings,
    steps: int,
    y0: Float[Array, " n"],
    k0: Float[Array, ""],
    dt: Float[Array, ""],
    p: Float[Array, " m"],
) -> tuple[Float[Array, " n"], Float[Array, ""], Float[Array, ""], Int[Array, ""]]:
    """One pass of at most `steps` iterations of a map from iteration `k0`, with the
    same stopping rules and statuses as `_solve_one` (time is the iteration count, and
    a step moving less than `steady_tol (1 + |y|)` is at rest)."""

    def running(state):
        _, _, taken, status = state
        return (status == _RUNNING) & (taken < steps)

    def iterate(state):
        y, k, taken, _ = state
        new = compiled.vector_field(k, y, p)
        size = jnp.max(jnp.abs(new))
        diverged = ~jnp.isfinite(size) | (size > settings.divergence_bound)
        settled = jnp.max(jnp.abs(new - y)) < settings.steady_tol * (1 + jnp.max(jnp.abs(y)))
        k = k + 1
        status = jnp.select(
            [diverged, settled, k >= settings.t1], [DIVERGED, CONVERGED, UNCONVERGED], _RUNNING
        ).astype(jnp.int32)
        # A state that is no longer finite is not kept: the last finite one is.
        return jnp.where(jnp.all(jnp.isfinite(new)), new, y), k, taken + 1, status

    start = jnp.where(k0 >= settings.t1, UNCONVERGED, _RUNNING).astype(jnp.int32)
    y, k, _, status = jax.lax.while_loop(running, iterate, (y0, k0, 0, start))
    return y, k, dt, status


def solve_to_rest(
    compiled: CompiledModel,
    settings: SolverSettings,
    y0: Float[Array, " n"],
    p: Float[Array, " m"],
) -> tuple[Float[Array, " n"], Float[Array, ""], Int[Array, ""]]:
    """One solve from $t = 0$ of at most `settings.max_steps` steps, for use inside
    `jit` and `vmap`; returns the final state, its time and its status (CONVERGED,
    DIVERGED or UNCONVERGED)."""
    t0 = jnp.zeros((), compiled.dtype)
    y, t, _, status = _solve_one(
        compiled, settings, settings.max_steps, y0, t0, jnp.full((), jnp.nan, t0.dtype), p
    )
    return y, t, jnp.where(status == _RUNNING, UNCONVERGED, status)


def _automatic_steps(
    compiled: CompiledModel,
    settings: SolverSettings,
    y0s: Float[Array, "batch n"],
    t0s: Float[Array, " batch"],
    p: Float[Array, " m"],
) -> Float[Array, " batch"]:
    """The first step from each start: `dt0`, or else diffrax's automatic one (its
    controller's own rule)."""
    term = dfx.ODETerm(compiled.vector_field)
    controller = settings.controller()
    error_order = settings.solver.error_order(term)

    def one(y0, t0):
        tnext, _ = controller.init(
            term, t0, settings.t1, y0, settings.dt0, p, settings.solver.func, error_order
        )
        return tnext - t0

    return jax.vmap(one)(y0s, t0s)


def _lean_kernel(
    compiled: CompiledModel,
    settings: SolverSettings,
    tableau: LeanTableau,
    y0s: Float[Array, "starts n"],
    count: Int[Array, ""],
    p: Float[Array, " m"],
    token: Int[Array, ""] | None,
) -> tuple[Float[Array, "starts n"], Float[Array, " starts"], Int[Array, " starts"]]:
    """The first `count` starts of a chunk integrated by the lean kernel, with the
    stopping rules, statuses and step budget of the pass-by-pass path; finished
    trajectories are reported to the callback registered under `token`, if any (a
    host callback from the loop costs about a tenth of the time on a cheap model)."""
    zero = jnp.zeros((), compiled.dtype)
    dt0s = _automatic_steps(compiled, settings, y0s, jnp.zeros(len(y0s), compiled.dtype), p)
    field = jax.vmap(lambda y: compiled.vector_field(zero, y, p), in_axes=1, out_axes=1)
    return lean_ensemble(
        # The parameters are shared, so the lanes carry no arguments of their own.
        lambda y, _: field(y),
        tableau,
        lambda y, f: _stop_status(settings, y, f, axis=0),
        running=_RUNNING,
        at_end=UNCONVERGED,
        t1=settings.t1,
        rtol=settings.rtol,
        atol=settings.atol,
        max_steps=_step_budget(settings),
        lanes=min(settings.batch_size, len(y0s)),
        refill_every=_REFILL_EVERY,
        y0s=y0s,
        dt0s=dt0s,
        args=jnp.zeros((len(y0s), 0), compiled.dtype),
        count=count,
        report=None
        if token is None
        else lambda finished: jax.debug.callback(_report_finished, token, finished),
    )


_lean_chunk = eqx.filter_jit(_lean_kernel)

# Progress from inside compiled loops: each chunk registers its callback under a token
# that the loop passes back, so one compiled loop serves every chunk.
_TOKENS = itertools.count()
_LISTENERS: dict[int, Callable[[int], None]] = {}


def _report_finished(token: np.ndarray, finished: np.ndarray) -> None:
    _LISTENERS[int(token)](int(finished))


@eqx.filter_jit
def _lean_chunk_sharded(
    compiled: CompiledModel,
    settings: SolverSettings,
    tableau: LeanTableau,
    mesh: jax.sharding.Mesh,
    y0s: Float[Array, "starts n"],
    counts: Int[Array, " devices"],
    p: Float[Array, " m"],
    token: Int[Array, ""] | None,
):
    """`_lean_chunk` with the starts split evenly over the devices of `mesh`, each
    integrating the first `counts[i]` of its share in its own loop."""
    rows = PartitionSpec(mesh.axis_names[0])
    return jax.shard_map(
        lambda y0s, counts, p, token: _lean_kernel(
            compiled, settings, tableau, y0s, counts[0], p, token
        ),
        mesh=mesh,
        in_specs=(rows, rows, PartitionSpec(), PartitionSpec()),
        out_specs=(rows, rows, rows),
        # diffrax's first-step rule mixes values that vary across devices with
        # constants inside `lax.switch`, which the replication check refuses.
        check_vma=False,
    )(y0s, counts, p, token)


def _lean_ensemble(
    compiled: CompiledModel,
    settings: SolverSettings,
    tableau: LeanTableau,
    initial: np.ndarray,
    p: Array,
    rows: int,
    finished: Callable[[int], None] | None,
) -> dict[str, np.ndarray]:
    """A chunk by the lean kernel, padded to `rows` starts so that chunks of any length
    share one compiled loop; split over the local devices when there are several.
    `finished`, if given, hears of trajectories as they stop."""
    n = len(initial)
    token = None if finished is None else next(_TOKENS)
    if finished is not None:
        _LISTENERS[token] = finished
    placement = batch_placement()
    if placement is not None:
        rows = placement.batch_size(rows)
    padded = np.zeros((rows, initial.shape[1]), compiled.dtype)
    padded[:n] = initial
    if placement is None:
        y, t, status = _lean_chunk(
            compiled,
            settings,
            tableau,
            jnp.asarray(padded),
            jnp.asarray(n),
            jnp.asarray(p),
            None if token is None else jnp.asarray(token),
        )
    else:
        share = rows // placement.devices
        counts = np.clip(n - share * np.arange(placement.devices), 0, share).astype(np.int32)
        y, t, status = _lean_chunk_sharded(
            compiled,
            settings,
            tableau,
            placement.mesh,
            placement.rows(padded),
            placement.rows(counts),
            placement.everywhere(p),
            None if token is None else placement.everywhere(np.asarray(token)),
        )
    saved = {
        "y_final": np.asarray(y, float)[:n],
        "t_final": np.asarray(t, float)[:n],
        "status": np.asarray(status)[:n],
    }
    if finished is not None:
        jax.effects_barrier()
        del _LISTENERS[token]
    return saved


@eqx.filter_jit
def _solve_batch(
    compiled: CompiledModel,
    settings: SolverSettings,
    steps: int,
    y0s: Float[Array, "batch n"],
    t0s: Float[Array, " batch"],
    dts: Float[Array, " batch"],
    p: Float[Array, " m"],
):
    if compiled.kind == MAP:
        one = _iterate_one
    else:
        one = _solve_one
    return jax.vmap(lambda y0, t0, dt: one(compiled, settings, steps, y0, t0, dt, p))(y0s, t0s, dts)


def _solve_ensemble(
    compiled: CompiledModel,
    settings: SolverSettings,
    initial: np.ndarray,
    p: Array,
    finished: Callable[[int], None] | None = None,
    rows: int | None = None,
) -> dict[str, np.ndarray]:
    """Integrate a chunk: by the lean kernel, whose lanes refill as trajectories stop
    (padded to `rows` starts, so that a short last chunk reuses its compiled loop),
    or else in passes of `pass_steps`, regrouping the unfinished between passes.

    A vectorised adaptive solve runs until its slowest member stops. Giving each pass
    a small step budget and packing the trajectories that are still running into
    fresh batches for the next one keeps the batches full of live trajectories. Each
    trajectory carries its time and next step from pass to pass. With several local
    devices each batch (each lean chunk) is split over all of them. `finished`, if
    given, is called with the number of trajectories that stopped after each batch
    (in the lean kernel, after at least `batch_size` of them).
    """
    tableau = lean_tableau(settings.solver) if settings.lean and compiled.kind == FLOW else None
    if tableau is not None:
        return _lean_ensemble(
            compiled, settings, tableau, initial, p, rows or len(initial), finished
        )
    finished = finished or (lambda count: None)
    n = len(initial)
    placement = batch_placement()
    size = min(settings.batch_size, n)
    if placement is None:
        place_rows, p = jnp.asarray, jnp.asarray(p)
    else:
        size, p = placement.batch_size(size), placement.everywhere(p)
        place_rows = placement.rows
    y, t, dt = initial.copy(), np.zeros(n), np.full(n, np.nan)
    status = np.full(n, _RUNNING, dtype=np.int32)
    running = np.arange(n)
    for _ in range(-(-settings.max_steps // settings.pass_steps)):
        for start in range(0, len(running), size):
            rows = running[start : start + size]
            padded = np.concatenate([rows, np.repeat(rows[:1], size - len(rows))])
            ys, ts, dts, codes = _solve_batch(
                compiled,
                settings,
                settings.pass_steps,
                *(place_rows(np.asarray(values[padded], compiled.dtype)) for values in (y, t, dt)),
                p,
            )
            y[rows] = np.asarray(ys)[: len(rows)]
            t[rows] = np.asarray(ts)[: len(rows)]
            dt[rows] = np.asarray(dts)[: len(rows)]
            status[rows] = np.asarray(codes)[: len(rows)]
            finished(int(np.sum(status[rows] != _RUNNING)))
        running = running[status[running] == _RUNNING]
        if len(running) == 0:
            break
    status[running] = UNCONVERGED
    finished(len(running))
    return {"y_final": y, "t_final": t, "status": status}


def _step_budget(settings: SolverSettings) -> int:
    """The most steps of one trajectory: `max_steps` rounded up to whole passes."""
    return -(-settings.max_steps // settings.pass_steps) * settings.pass_steps


def _process() -> tuple[int, int]:
    """This process's index and the number of processes (1 without
    `jax.distributed`)."""
    return jax.process_index(), jax.process_count()


def _wait_for_chunk(
    store: ChunkStore, index: int, bar: Progress, poll_seconds: float = 1.0
) -> dict[str, np.ndarray]:
    """A chunk another process integrates, once it is on disk."""
    while (saved := store.read(index)) is None:
        time.sleep(poll_seconds)
    bar.advance(len(saved["status"]))
    return saved


def as_initial_conditions(y0s: ArrayLike, dim: int) -> np.ndarray:
    """Validate initial conditions as a finite `(n, dim)` float array.

    **Raises:**

    - `ValueError`: the shape is wrong, the array is empty, or an entry is not finite.
    """
    array = np.asarray(y0s, dtype=float)
    if array.ndim == 1 and dim == 1:
        array = array[:, None]
    if array.ndim != 2 or array.shape[1] != dim:
        raise ValueError(f"initial conditions must have shape (n, {dim}), got {np.shape(y0s)}")
    if array.shape[0] == 0:
        raise ValueError("no initial conditions given")
    bad = ~np.all(np.isfinite(array), axis=1)
    if np.any(bad):
        first = int(np.argmax(bad))
        raise ValueError(
            f"{int(bad.sum())} initial condition(s) are not finite, the first at row "
            f"{first}: {array[first].tolist()}"
        )
    return array


def as_compiled(model: Model | CompiledModel) -> CompiledModel:
    """Compile a `Model`; pass a `CompiledModel` through (keeping its jit cache)."""
    if isinstance(model, CompiledModel):
        return model
    if isinstance(model, Model):
        return compile_model(model)
    raise TypeError(f"expected a basinlab Model, got {type(model).__name__}")


def integrate(
    model: Model | CompiledModel,
    y0s: Float[ArrayLike, "n dim"],
    params: Mapping[str, float] | None = None,
    *,
    settings: SolverSettings | None = None,
    progress: bool = True,
    checkpoint_dir: str | None = None,
    workers: int | None = None,
    **setting_overrides,
) -> xr.Dataset:
    r"""Integrate an ensemble of initial conditions until each one settles.

    Every trajectory of $\dot y = f(y; p)$ is integrated by diffrax (Tsit5 with a PID
    controller unless `settings` says otherwise) and stopped at steady state, on
    leaving a bounding box, at `t1`, or after `max_steps` steps; see
    [`basinlab.simulations.SolverSettings`][]. The ensemble runs in chunks of
    `chunk_size`, one per CPU core at a time, with a progress bar. Inside a chunk,
    `batch_size` trajectories run vectorised in lockstep, and each one that stops
    hands its place to the next waiting start (or, on the diffrax path, those still
    running after `pass_steps` steps are regrouped into full batches), so a slow
    trajectory holds up little else.

    With `checkpoint_dir`, each finished chunk is written there, and a repeated call
    with the same model, parameters, initial conditions and settings reads them
    back instead of recomputing them, so interrupted work resumes.

    Explicit Runge–Kutta pairs (the default `Tsit5`) run in a lean kernel of the same
    tableau and controller (see `SolverSettings.lean`). With several local devices
    (GPUs, or CPU host devices made with `XLA_FLAGS=--xla_force_host_platform_device_count=K`)
    every chunk is split over a `jax.sharding.Mesh` of all of them; the results are
    the same as on one device. Without a progress bar the lean kernel skips its host
    callbacks, about a tenth faster on cheap models.

    In a multi-process run (`jax.distributed.initialize()` on each host, then the
    same call everywhere, with a `checkpoint_dir` all hosts share) each process
    integrates every `process_count`-th chunk from its own index, writes it, and
    reads the others' chunks as they appear, so each returns the whole result.

    **Arguments:**

    - `model`: a [`basinlab.Model`][] or a [`basinlab.simulations.CompiledModel`][]
      (reuse one compiled model across calls to reuse its compiled solver).
    - `y0s`: initial conditions, shape `(n, dim)`.
    - `params`: parameter overrides by name.
    - `settings`: the solver settings; keyword arguments such as `t1=50.0` override
      single fields.
    - `progress`: show a progress bar.
    - `checkpoint_dir`: a directory for finished chunks, or `None`.
    - `workers`: chunks integrated at once, in threads; by default one per CPU core
      on a single CPU device, and one on an accelerator or when chunks are split
      over several devices. The results do not depend on it.

    **Returns:**

    An `xarray.Dataset` over `trajectory` and `state` with `y0`, `y_final`,
    `t_final` (the time each trajectory stopped) and `status` (`0` converged,
    `DIVERGED = -1`, `UNCONVERGED = -2`), and provenance attrs.

    **Raises:**

    - `ValueError`: the initial conditions are malformed or not finite, a parameter
      is unknown or not finite, a setting is invalid, or a multi-process run has no
      `checkpoint_dir`.
    - `TypeError`: `model` is not a model, or a setting has the wrong type.
    """
    compiled = as_compiled(model)
    settings = dataclasses.replace(settings or SolverSettings(), **setting_overrides)
    initial = as_initial_conditions(y0s, len(compiled.state_names))
    p = compiled.param_vector(params)
    n = initial.shape[0]
    chunk = min(settings.chunk_size, n)
    store = ChunkStore.open(
        checkpoint_dir,
        compiled.model,
        np.asarray(p),
        initial,
        settings.describe(compiled.kind),
        chunk,
    )

    y_final = np.empty_like(initial)
    t_final = np.empty(n)
    status = np.empty(n, dtype=np.int32)
    chunks = -(-n // chunk)
    # Lean chunks are padded to a power of two, so ensembles of many sizes share a few
    # compiled loops.
    padded_rows = min(settings.chunk_size, 1 << (chunk - 1).bit_length())
    with Progress(n, "integrating", progress) as bar:

        def keep(index: int, saved: dict[str, np.ndarray]) -> None:
            part = slice(index * chunk, min((index + 1) * chunk, n))
            y_final[part] = saved["y_final"]
            t_final[part] = saved["t_final"]
            status[part] = saved["status"]

        def solve(index: int) -> None:
            saved = store.read(index)
            if saved is None:
                part = slice(index * chunk, min((index + 1) * chunk, n))
                saved = _solve_ensemble(
                    compiled,
                    settings,
                    initial[part],
                    p,
                    bar.advance if progress else None,
                    rows=padded_rows,
                )
                store.write(index, saved)
            else:
                bar.advance(len(saved["status"]))
            keep(index, saved)

        process_index, process_count = _process()
        if process_count > 1 and store.directory is None:
            raise ValueError(
                f"a run over {process_count} processes needs checkpoint_dir, a folder "
                "that every process can read, to gather their chunks"
            )
        own = chunk_share(chunks, process_index, process_count)
        # One CPU device: XLA runs each call on one core, so chunks in threads keep
        # every core busy. Several devices, or an accelerator: one call fills them.
        alone_on_cpu = batch_placement() is None and jax.default_backend() == "cpu"
        default_workers = (os.cpu_count() or 1) if alone_on_cpu else 1
        with concurrent.futures.ThreadPoolExecutor(workers or default_workers) as pool:
            list(pool.map(solve, own))
        for index in sorted(set(range(chunks)) - set(own)):
            keep(index, _wait_for_chunk(store, index, bar))
    coords = {"trajectory": np.arange(n), "state": list(compiled.state_names)}
    return xr.Dataset(
        {
            "y0": (("trajectory", "state"), initial),
            "y_final": (("trajectory", "state"), y_final),
            "t_final": ("trajectory", t_final),
            "status": ("trajectory", status),
        },
        coords=coords,
        attrs=provenance(
            compiled.model, compiled.model.resolve_params(params), settings.describe(compiled.kind)
        ),
    )
