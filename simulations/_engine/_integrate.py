"""Ensemble integration with diffrax: final states, convergence times and status."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr
from jaxtyping import Array, ArrayLike, Bool, Float, Int

from ...theory import FLOW, MAP, Model
from ...theory._legacy_arguments import legacy_arguments
from ._checkpoint import ChunkStore
from ._compile import CompiledModel, cached_compile
from ._distribute import batch_placement, usable_cores
from ._lean_chunks import lean_chunk
from ._lean_rk import lean_tableau
from ._processes import share_chunks
from ._progress import Progress
from ._provenance import provenance, solver_description
from ._settings_argument import settings_argument
from ._solver_settings import (
    _RUNNING,
    CONVERGED,
    DIVERGED,
    UNCONVERGED,
    SolverSettings,
    _stop_status,
    left_the_box,
    speed_scale,
)
from ._step_size import CarriedStepSize


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
    diverged = _stop_status(settings, y, compiled.vector_field(t, y, p)) == DIVERGED
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
        diverged = left_the_box(new, settings.divergence_bound)
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
    one = _iterate_one if compiled.kind == MAP else _solve_one
    return jax.vmap(lambda y0, t0, dt: one(compiled, settings, steps, y0, t0, dt, p))(y0s, t0s, dts)


def _solve_ensemble(
    compiled: CompiledModel,
    settings: SolverSettings,
    initial: np.ndarray,
    p: Array,
    finished: Callable[[int], None] | None = None,
) -> dict[str, np.ndarray]:
    """Integrate a chunk through diffrax in passes of `pass_steps`, regrouping the
    unfinished between passes.

    A vectorised adaptive solve runs until its slowest member stops. Giving each pass
    a small step budget and packing the trajectories that are still running into
    fresh batches for the next one keeps the batches full of live trajectories. Each
    trajectory carries its time and next step from pass to pass. With several local
    devices each batch is split over all of them. `finished`, if given, is called
    with the number of trajectories that stopped after each batch.
    """
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
    """Compile a `Model` (once per Model object); pass a `CompiledModel` through
    (keeping its jit cache)."""
    if isinstance(model, CompiledModel):
        return model
    if isinstance(model, Model):
        return cached_compile(model)
    raise TypeError(f"expected a basinlab Model, got {type(model).__name__}")


@legacy_arguments(positional=("params",))
def integrate(
    model: Model | CompiledModel,
    y0s: Float[ArrayLike, "n dim"],
    *,
    params: Mapping[str, float] | None = None,
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

    In a multi-process run ([`basinlab.join_processes`][] in each process, then the
    same call everywhere, with a `checkpoint_dir` all processes share) each process
    integrates every `process_count`-th chunk from its own index, writes it, and
    reads the others' chunks as they appear, so each returns the whole result
    (without a `checkpoint_dir`, each process integrates every chunk itself).

    **Arguments:**

    - `model`: a [`basinlab.Model`][] or a [`basinlab.simulations.CompiledModel`][]
      (calls with the same model object, or the same compiled model, reuse its
      compiled solver).
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
    `DIVERGED = -1`, `UNCONVERGED = -2`), and provenance attrs, `speed_scale` (the
    factor of `steady_tol` that the ensemble's own speed set) among them.

    **Raises:**

    - `ValueError`: the initial conditions are malformed or not finite, a parameter
      is unknown or not finite, a setting is invalid, or a multi-process run has no
      `checkpoint_dir`.
    - `TypeError`: `model` is not a model, or a setting has the wrong type.
    """
    compiled = as_compiled(model)
    settings = settings_argument(settings, SolverSettings, **setting_overrides)
    initial = as_initial_conditions(y0s, len(compiled.state_names))
    p = compiled.param_vector(params)
    n = initial.shape[0]
    chunk = min(settings.chunk_size, n)
    scale = speed_scale(compiled, initial, p)
    # The steady-state test relative to the ensemble's own speed (see speed_scale).
    stopping = dataclasses.replace(settings, steady_tol=settings.steady_tol * scale)
    attrs = provenance(compiled, params, settings.describe(compiled.kind))
    attrs["speed_scale"] = scale
    key = attrs | {"solver": solver_description(settings.solver), "chunk_size": chunk}
    store = ChunkStore.open(checkpoint_dir, key, initial)

    y_final = np.empty_like(initial)
    t_final = np.empty(n)
    status = np.empty(n, dtype=np.int32)
    chunks = -(-n // chunk)
    tableau = lean_tableau(settings.solver) if settings.lean and compiled.kind == FLOW else None
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
                report = bar.advance if progress else None
                if tableau is None:
                    saved = _solve_ensemble(compiled, stopping, initial[part], p, report)
                else:
                    saved = lean_chunk(
                        compiled, stopping, tableau, initial[part], p, padded_rows, report
                    )
                store.write(index, saved)
            else:
                bar.advance(len(saved["status"]))
            keep(index, saved)

        def received(index: int, saved: dict[str, np.ndarray]) -> None:
            bar.advance(len(saved["status"]))
            keep(index, saved)

        # One CPU device: XLA runs each call on one core, so chunks in threads keep
        # every core busy. Several devices, or an accelerator: one call fills them.
        alone_on_cpu = batch_placement() is None and jax.default_backend() == "cpu"
        default_workers = usable_cores() if alone_on_cpu else 1
        share_chunks(store, chunks, solve, received, workers or default_workers)
    coords = {"trajectory": np.arange(n), "state": list(compiled.state_names)}
    return xr.Dataset(
        {
            "y0": (("trajectory", "state"), initial),
            "y_final": (("trajectory", "state"), y_final),
            "t_final": ("trajectory", t_final),
            "status": ("trajectory", status),
        },
        coords=coords,
        attrs=attrs,
    )
