"""Ensembles by the lean kernel: one compiled loop per chunk, split over the local
devices, reporting progress from inside."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import PartitionSpec
from jaxtyping import Array, Float, Int

from ._compile import CompiledModel
from ._distribute import batch_placement
from ._lean_rk import LeanTableau, lean_ensemble
from ._solver_settings import (
    _RUNNING,
    UNCONVERGED,
    SolverSettings,
    _automatic_steps,
    _step_budget,
    _stop_status,
)

# Steps between refills of the lean kernel's lanes: often enough that few lanes idle
# on stopped trajectories, seldom enough that refilling costs little.
_REFILL_EVERY = 8


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
        controller=settings.pid_controller(),
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


def lean_chunk(
    compiled: CompiledModel,
    settings: SolverSettings,
    tableau: LeanTableau,
    initial: np.ndarray,
    p: Array,
    rows: int,
    finished: Callable[[int], None] | None,
) -> dict[str, np.ndarray]:
    """Integrate one chunk of starts by the lean kernel until each stops.

    The chunk is padded to `rows` starts, so that chunks of any length share one
    compiled loop (the padding is never integrated), and split evenly over the local
    devices when there are several, each running its own loop on its share.

    **Arguments:**

    - `compiled`, `settings`: the model and how to integrate it.
    - `tableau`: the explicit Runge–Kutta pair of `settings.solver`.
    - `initial`: the starts, shape `(n, dim)`.
    - `p`: the parameter vector all starts share.
    - `rows`: the padded length, at least `n`.
    - `finished`: called with the number of trajectories that stopped, as they stop
      (from inside the compiled loop); `None` skips those host callbacks.

    **Returns:**

    `y_final`, `t_final` and `status` of each start, as NumPy arrays.
    """
    n = len(initial)
    assert rows >= n, (rows, n)
    placement = batch_placement()
    if placement is not None:
        rows = placement.batch_size(rows)
    padded = np.zeros((rows, initial.shape[1]), compiled.dtype)
    padded[:n] = initial
    token = None
    if finished is not None:
        token = next(_TOKENS)
        _LISTENERS[token] = finished
    try:
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
            counts = np.clip(n - share * np.arange(placement.devices), 0, share)
            y, t, status = _lean_chunk_sharded(
                compiled,
                settings,
                tableau,
                placement.mesh,
                placement.rows(padded),
                placement.rows(counts.astype(np.int32)),
                placement.everywhere(p),
                None if token is None else placement.everywhere(np.asarray(token)),
            )
        saved = {
            "y_final": np.asarray(y, float)[:n],
            "t_final": np.asarray(t, float)[:n],
            "status": np.asarray(status)[:n],
        }
    finally:
        if token is not None:
            # Every callback has run before the listener goes.
            jax.effects_barrier()
            del _LISTENERS[token]
    return saved
