"""Whole trajectories, saved at given times, with the model's observables along them."""

from __future__ import annotations

from collections.abc import Mapping

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr
from jaxtyping import Array, ArrayLike, Float, Int

from ...theory import MAP, Model
from ...theory._legacy_arguments import legacy_arguments
from ._batched_map import map_in_batches
from ._compile import CompiledModel
from ._integrate import as_compiled, as_initial_conditions
from ._provenance import provenance
from ._settings_argument import settings_argument
from ._solver_settings import SolverSettings


def saved_path(
    compiled: CompiledModel,
    settings: SolverSettings,
    y0: Float[Array, " n"],
    times: Float[Array, " time"],
    p: Float[Array, " m"],
    t0: Float[Array, ""] | None = None,
    adjoint: dfx.AbstractAdjoint | None = None,
) -> dfx.Solution:
    """One solve from `t0` (by default `times[0]`) to `times[-1]`, saved at `times`;
    failures are not raised but reported in `result`. `adjoint` is how it is
    differentiated (diffrax's checkpointed reverse mode by default)."""
    return dfx.diffeqsolve(
        dfx.ODETerm(compiled.vector_field),
        settings.solver,
        t0=times[0] if t0 is None else t0,
        t1=times[-1],
        dt0=settings.dt0,
        y0=y0,
        args=p,
        saveat=dfx.SaveAt(ts=times),
        stepsize_controller=settings.controller(),
        max_steps=settings.max_steps,
        adjoint=adjoint or dfx.RecursiveCheckpointAdjoint(),
        throw=False,
    )


def _along(compiled: CompiledModel, path: Float[Array, "time n"], p: Float[Array, " m"]):
    """The observables and the predicates at every saved state of one path."""
    observed = jax.vmap(lambda y: compiled.observables(y, p))(path)
    held = jax.vmap(lambda y: compiled.predicates(y, p))(path)
    return observed, held


@eqx.filter_jit
def _paths(
    compiled: CompiledModel,
    settings: SolverSettings,
    y0s: Float[Array, "batch n"],
    times: Float[Array, " time"],
    p: Float[Array, " m"],
):
    def one(y0):
        solution = saved_path(compiled, settings, y0, times, p)
        solved = solution.result == dfx.RESULTS.successful
        return solution.ys, *_along(compiled, solution.ys, p), solved

    return map_in_batches(one, y0s, min(settings.batch_size, y0s.shape[0]))


@eqx.filter_jit
def _iterated_paths(
    compiled: CompiledModel,
    settings: SolverSettings,
    y0s: Float[Array, "batch n"],
    saved: Int[Array, " time"],
    iterations: int,
    p: Float[Array, " m"],
):
    """A map's iterates 0, ..., `iterations` from each start, kept at `saved`."""

    def one(y0):
        def step(y, k):
            new = compiled.vector_field(k, y, p)
            return new, new

        path = jnp.concatenate(
            [y0[None], jax.lax.scan(step, y0, jnp.arange(iterations, dtype=y0.dtype))[1]]
        )[saved]
        return path, *_along(compiled, path, p), jnp.all(jnp.isfinite(path))

    return map_in_batches(one, y0s, min(settings.batch_size, y0s.shape[0]))


@legacy_arguments(positional=("params",))
def trajectories(
    model: Model | CompiledModel,
    y0s: Float[ArrayLike, "n dim"],
    times: Float[ArrayLike, " time"],
    *,
    params: Mapping[str, float] | None = None,
    settings: SolverSettings | None = None,
    **setting_overrides,
) -> xr.Dataset:
    """Integrate each initial condition and save its state at `times`.

    Unlike [`basinlab.integrate`][], nothing stops early: each trajectory runs from
    `times[0]` to `times[-1]`. The model's observables are evaluated along the way.
    For a map, `times` are iteration counts (integers).

    **Arguments:**

    - `model`: a [`basinlab.Model`][] or a compiled one.
    - `y0s`: initial conditions, shape `(n, dim)`, at `times[0]`.
    - `times`: increasing save times.
    - `params`: parameter overrides by name.
    - `settings`, `**setting_overrides`: solver settings; `max_steps` bounds each solve.

    **Returns:**

    An `xarray.Dataset` with `y` over `(trajectory, time, state)`, one variable per
    observable over `(trajectory, time)`, `holds` over `(trajectory, time,
    predicate)` (each predicate at each saved state; see
    [`basinlab.simulations.holds_all_along`][]), and `solved` (whether each solve
    reached `times[-1]`; a failed solve's values after the failure are not
    meaningful; for a map, whether every iterate is finite).

    **Raises:**

    - `ValueError`: malformed or non-finite initial conditions, `times` not strictly
      increasing or not finite (or, for a map, not integers), or an unknown
      parameter.
    """
    compiled = as_compiled(model)
    clash = {"y", "solved", "holds"} & set(compiled.observable_names)
    if clash:
        raise ValueError(f"observables named {sorted(clash)} clash with trajectory results")
    settings = settings_argument(settings, SolverSettings, **setting_overrides)
    initial = as_initial_conditions(y0s, len(compiled.state_names))
    ts = np.asarray(times, dtype=float)
    if ts.ndim != 1 or len(ts) < 2 or not np.all(np.isfinite(ts)) or np.any(np.diff(ts) <= 0):
        raise ValueError("times must be a finite, strictly increasing sequence of 2 or more")
    p = compiled.param_vector(params)
    starts = jnp.asarray(initial, compiled.dtype)
    if compiled.kind == MAP:
        if np.any(ts != np.round(ts)):
            raise ValueError(f"times of a map are iteration counts, integers; got {ts.tolist()}")
        offsets = (ts - ts[0]).astype(int)
        ys, observed, held, solved = _iterated_paths(
            compiled, settings, starts, jnp.asarray(offsets), int(offsets[-1]), p
        )
    else:
        ys, observed, held, solved = _paths(
            compiled, settings, starts, jnp.asarray(ts, compiled.dtype), p
        )
    data = {
        "y": (("trajectory", "time", "state"), np.asarray(ys)),
        "solved": ("trajectory", np.asarray(solved)),
    }
    observed = np.asarray(observed)
    for i, name in enumerate(compiled.observable_names):
        data[name] = (("trajectory", "time"), observed[:, :, i])
    if compiled.predicate_names:
        data["holds"] = (("trajectory", "time", "predicate"), np.asarray(held, dtype=bool))
    coords = {
        "trajectory": np.arange(len(initial)),
        "time": ts,
        "state": list(compiled.state_names),
        "predicate": list(compiled.predicate_names),
    }
    attrs = provenance(compiled, params, settings.describe(compiled.kind))
    return xr.Dataset(data, coords=coords, attrs=attrs | {"kind": "trajectories"})
