"""Ensemble integration with diffrax: final states, convergence times and status."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import os
from collections.abc import Mapping

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr
from jaxtyping import Array, ArrayLike, Float, Int

from ..theory import Model
from ._checkpoint import ChunkStore
from ._compile import CompiledModel, compile_model
from ._progress import progress_bar
from ._provenance import provenance

CONVERGED = 0
DIVERGED = -1
UNCONVERGED = -2
_RUNNING = 1  # out of step budget for this pass; continued in the next


@dataclasses.dataclass(frozen=True)
class SolverSettings:
    r"""How each trajectory is integrated and when it stops.

    A trajectory stops at steady state, when $\|f(y)\|_\infty <
    \text{steady\_tol}\,(1 + \|y\|_\infty)$ (CONVERGED); when it leaves the box
    $\|y\|_\infty > \text{divergence\_bound}$ or stops being finite (DIVERGED); or
    at `t1` or after `max_steps` steps (UNCONVERGED).

    **Fields:**

    - `solver`: any diffrax solver; `diffrax.Tsit5()` by default.
    - `t1`: the final time.
    - `dt0`: the first step (the only step for a solver without error estimate).
    - `rtol`, `atol`: tolerances of the PID step-size controller.
    - `steady_tol`: the steady-state tolerance above. Keep it well above `rtol`:
      near a stable point an adaptive solver hovers at its own error level, about
      `rtol` times the state, and a stricter test would never fire.
    - `divergence_bound`: the box outside which a trajectory counts as diverged.
    - `max_steps`: the most steps a trajectory may take, rounded up to a multiple of
      `pass_steps`.
    - `pass_steps`: the step budget of one pass. A vectorised adaptive solve runs in
      lockstep until its slowest member stops, so trajectories are integrated in
      passes of this many steps, and those still running after a pass are packed
      into full batches for the next one. Each pass restarts the step-size controller
      from `dt0`, so results depend slightly on it.
    - `batch_size`: trajectories that are integrated in lockstep (vectorised) at a
      time; small batches waste less work on their slowest member, large ones
      amortise more overhead.
    - `chunk_size`: trajectories per compiled call; each finished chunk updates the
      progress bar and, with a checkpoint directory, is written to disk.
    """

    solver: dfx.AbstractSolver = dataclasses.field(default_factory=dfx.Tsit5)
    t1: float = 200.0
    dt0: float = 0.01
    rtol: float = 1e-6
    atol: float = 1e-8
    steady_tol: float = 1e-5
    divergence_bound: float = 1e6
    max_steps: int = 4096
    pass_steps: int = 48
    batch_size: int = 1024
    chunk_size: int = 16384

    def __post_init__(self):
        if not isinstance(self.solver, dfx.AbstractSolver):
            raise TypeError(f"solver must be a diffrax solver, got {self.solver!r}")
        for name in ("t1", "dt0", "rtol", "atol", "steady_tol", "divergence_bound"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and np.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive finite number, got {value!r}")
        for name in ("max_steps", "pass_steps", "batch_size", "chunk_size"):
            value = getattr(self, name)
            if not (isinstance(value, int) and value >= 1):
                raise ValueError(f"{name} must be a positive integer, got {value!r}")

    def controller(self) -> dfx.AbstractStepSizeController:
        """A PID controller at `rtol`, `atol` for an adaptive solver; fixed steps of
        `dt0` for one without an error estimate."""
        if isinstance(self.solver, dfx.AbstractAdaptiveSolver):
            return dfx.PIDController(rtol=self.rtol, atol=self.atol)
        return dfx.ConstantStepSize()

    def describe(self) -> dict[str, object]:
        """The settings as attrs for a result."""
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        fields["solver"] = type(self.solver).__name__
        return fields


def _solve_one(
    compiled: CompiledModel,
    settings: SolverSettings,
    steps: int,
    y0: Float[Array, " n"],
    t0: Float[Array, ""],
    p: Float[Array, " m"],
) -> tuple[Float[Array, " n"], Float[Array, ""], Int[Array, ""]]:
    def steady(t, y, args, **kwargs):
        speed = jnp.max(jnp.abs(compiled.vector_field(t, y, args)))
        return speed < settings.steady_tol * (1 + jnp.max(jnp.abs(y)))

    def escaped(t, y, args, **kwargs):
        size = jnp.max(jnp.abs(y))
        return (size > settings.divergence_bound) | ~jnp.isfinite(size)

    solution = dfx.diffeqsolve(
        dfx.ODETerm(compiled.vector_field),
        settings.solver,
        t0=t0,
        t1=settings.t1,
        dt0=settings.dt0,
        y0=y0,
        args=p,
        saveat=dfx.SaveAt(t1=True),
        stepsize_controller=settings.controller(),
        event=dfx.Event((steady, escaped)),
        max_steps=steps,
        throw=False,
    )
    y = solution.ys[-1]
    settled, left = solution.event_mask
    size = jnp.max(jnp.abs(y))
    diverged = left | ~jnp.isfinite(size) | (size > settings.divergence_bound)
    out_of_steps = solution.result == dfx.RESULTS.max_steps_reached
    status = jnp.select(
        [diverged, settled, out_of_steps], [DIVERGED, CONVERGED, _RUNNING], UNCONVERGED
    ).astype(jnp.int32)
    return y, solution.ts[-1], status


@eqx.filter_jit
def _solve_batch(
    compiled: CompiledModel,
    settings: SolverSettings,
    steps: int,
    y0s: Float[Array, "batch n"],
    t0s: Float[Array, " batch"],
    p: Float[Array, " m"],
):
    return jax.vmap(lambda y0, t0: _solve_one(compiled, settings, steps, y0, t0, p))(y0s, t0s)


def _solve_ensemble(
    compiled: CompiledModel, settings: SolverSettings, initial: np.ndarray, p: Array
) -> dict[str, np.ndarray]:
    """Integrate in passes of `pass_steps`, regrouping the unfinished between passes.

    A vectorised adaptive solve runs until its slowest member stops. Giving each pass
    a small step budget and packing the trajectories that are still running into
    fresh batches for the next pass keeps the batches full of live trajectories.
    """
    n = len(initial)
    size = min(settings.batch_size, n)
    y, t = initial.copy(), np.zeros(n)
    status = np.full(n, _RUNNING, dtype=np.int32)
    running = np.arange(n)
    for _ in range(-(-settings.max_steps // settings.pass_steps)):
        for start in range(0, len(running), size):
            rows = running[start : start + size]
            padded = np.concatenate([rows, np.repeat(rows[:1], size - len(rows))])
            ys, ts, codes = _solve_batch(
                compiled,
                settings,
                settings.pass_steps,
                jnp.asarray(y[padded], compiled.dtype),
                jnp.asarray(t[padded], compiled.dtype),
                p,
            )
            y[rows] = np.asarray(ys)[: len(rows)]
            t[rows] = np.asarray(ts)[: len(rows)]
            status[rows] = np.asarray(codes)[: len(rows)]
        running = running[status[running] == _RUNNING]
        if len(running) == 0:
            break
    status[running] = UNCONVERGED
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
    trajectories run in vectorised batches of `batch_size` for `pass_steps` steps at
    a time, and those still running are regrouped into full batches after each
    pass, so a slow trajectory holds up little else.

    With `checkpoint_dir`, each finished chunk is written there, and a repeated call
    with the same model, parameters, initial conditions and settings reads them
    back instead of recomputing them, so interrupted work resumes.

    **Arguments:**

    - `model`: a [`basinlab.Model`][] or a [`basinlab.simulations.CompiledModel`][]
      (reuse one compiled model across calls to reuse its compiled solver).
    - `y0s`: initial conditions, shape `(n, dim)`.
    - `params`: parameter overrides by name.
    - `settings`: the solver settings; keyword arguments such as `t1=50.0` override
      single fields.
    - `progress`: show a progress bar.
    - `checkpoint_dir`: a directory for finished chunks, or `None`.
    - `workers`: chunks integrated at once, in threads; one per CPU core by default.
      The results do not depend on it.

    **Returns:**

    An `xarray.Dataset` over `trajectory` and `state` with `y0`, `y_final`,
    `t_final` (the time each trajectory stopped) and `status` (`0` converged,
    `DIVERGED = -1`, `UNCONVERGED = -2`), and provenance attrs.

    **Raises:**

    - `ValueError`: the initial conditions are malformed or not finite, a parameter
      is unknown or not finite, or a setting is invalid.
    - `TypeError`: `model` is not a model, or a setting has the wrong type.
    """
    compiled = as_compiled(model)
    settings = dataclasses.replace(settings or SolverSettings(), **setting_overrides)
    initial = as_initial_conditions(y0s, len(compiled.state_names))
    p = compiled.param_vector(params)
    n = initial.shape[0]
    chunk = min(settings.chunk_size, n)
    store = ChunkStore.open(
        checkpoint_dir, compiled.model, np.asarray(p), initial, settings.describe(), chunk
    )

    def solve(index: int) -> tuple[int, dict[str, np.ndarray]]:
        saved = store.read(index)
        if saved is None:
            start, stop = index * chunk, min((index + 1) * chunk, n)
            saved = _solve_ensemble(compiled, settings, initial[start:stop], p)
            store.write(index, saved)
        return index, saved

    y_final = np.empty_like(initial)
    t_final = np.empty(n)
    status = np.empty(n, dtype=np.int32)
    chunks = -(-n // chunk)
    # XLA runs each call on one core; chunks in threads keep every core busy.
    with concurrent.futures.ThreadPoolExecutor(workers or os.cpu_count() or 1) as pool:
        finished = pool.map(solve, range(chunks))
        sizes = [min(chunk, n - index * chunk) for index in range(chunks)]
        for index, saved in progress_bar(finished, sizes, "integrating", progress):
            part = slice(index * chunk, min((index + 1) * chunk, n))
            y_final[part] = saved["y_final"]
            t_final[part] = saved["t_final"]
            status[part] = saved["status"]
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
            compiled.model, compiled.model.resolve_params(params), settings.describe()
        ),
    )
