"""Following trajectories that did not come to rest, to summarise the set each moves on."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, Int

from ...theory import MAP
from .._engine._batched_map import map_in_batches
from .._engine._compile import CompiledModel
from .._engine._progress import Progress
from .._engine._solver_settings import SolverSettings
from .._engine._trajectories import saved_path
from ._label_settings import LabelSettings

# Trajectories followed per compiled call; the progress bar moves once per call.
_FOLLOW_CHUNK = 1024
# The longest period looked for in a map's orbits.
_MAX_PERIOD = 64


@eqx.filter_jit
def _follow_chunk(
    compiled: CompiledModel,
    settings: SolverSettings,
    labels: LabelSettings,
    y0s: Float[Array, "batch n"],
    p: Float[Array, " m"],
) -> tuple[
    Float[Array, "batch 2 n"],
    Float[Array, "batch 2 n"],
    Bool[Array, "batch k"],
    Int[Array, " batch"],
    Float[Array, " batch"],
]:
    """Follow each state for `tail_time` (a flow) or `tail_samples` iterations (a map);
    return the bounding box of each half of the stretch, whether each predicate holds
    all along it, the period of the orbit the second half repeats (a map's; 0 when
    there is none or for a flow), and how far the second half keeps from the first:
    the median distance of its points from the first half's path (its polyline for
    a flow, its points for a map), relative to the stretch's extent. That is near 0
    on an attractor, where the trajectory returns close to where it has been
    (exactly on a cycle, densely on a chaotic set), and not on a transient."""
    times = jnp.linspace(0.0, labels.tail_time, labels.tail_samples)
    half = labels.tail_samples // 2
    periods = jnp.arange(1, _MAX_PERIOD + 1)

    def iterates(y0):
        def step(y, k):
            new = compiled.vector_field(k, y, p)
            return new, new

        return jax.lax.scan(step, y0, times)[1]

    def period(path):
        """The least p with y[k + p] = y[k] (to `match_tol`) along the second half."""
        tail = path[half:]
        scale = 1 + jnp.max(jnp.abs(tail))

        def mismatch(q):
            shifted = jnp.roll(tail, -q, axis=0)
            valid = jnp.arange(len(tail)) < len(tail) - q
            return jnp.max(jnp.where(valid[:, None], jnp.abs(shifted - tail), 0.0))

        repeats = jax.vmap(mismatch)(periods) < labels.match_tol * scale
        return jnp.where(jnp.any(repeats), periods[jnp.argmax(repeats)], 0)

    def distance_to_first_half(point, head):
        if compiled.kind == MAP:
            return jnp.min(jnp.max(jnp.abs(head - point), axis=1))
        start, step = head[:-1], head[1:] - head[:-1]
        length = jnp.sum(step**2, axis=1)
        along = jnp.sum((point - start) * step, axis=1) / jnp.where(length > 0, length, 1.0)
        nearest = start + jnp.clip(along, 0.0, 1.0)[:, None] * step
        return jnp.min(jnp.max(jnp.abs(nearest - point), axis=1))

    def one(y0):
        if compiled.kind == MAP:
            path = iterates(y0)
        else:
            path = saved_path(compiled, settings, y0, times, p).ys
        halves = (path[:half], path[half:])
        low = jnp.stack([h.min(axis=0) for h in halves])
        high = jnp.stack([h.max(axis=0) for h in halves])
        holds = jax.vmap(lambda y: compiled.predicates(y, p))(path).all(axis=0)
        orbit = period(path) if compiled.kind == MAP else jnp.zeros((), int)
        gaps = jax.vmap(lambda q: distance_to_first_half(q, halves[0]))(halves[1])
        size = jnp.max(high.max(axis=0) - low.min(axis=0))
        returns = jnp.median(gaps) / jnp.where(size > 0, size, 1.0)
        return low, high, holds, orbit, returns

    return map_in_batches(one, y0s, min(settings.batch_size, y0s.shape[0]))


def follow_tails(
    compiled: CompiledModel,
    settings: SolverSettings,
    labels: LabelSettings,
    starts: np.ndarray,
    p: Float[Array, " m"],
    progress: bool,
) -> tuple[np.ndarray, ...]:
    """`_follow_chunk` in chunks, so memory stays bounded however many trajectories move."""
    # Powers of two up to the chunk size: few distinct shapes, few compilations.
    size = min(_FOLLOW_CHUNK, 1 << int(np.ceil(np.log2(len(starts)))))
    parts = []
    with Progress(len(starts), "following unsettled", progress) as bar:
        for begin in range(0, len(starts), size):
            block = starts[begin : begin + size]
            padded = np.concatenate([block, np.repeat(block[:1], size - len(block), 0)])
            out = _follow_chunk(compiled, settings, labels, jnp.asarray(padded, compiled.dtype), p)
            parts.append([np.asarray(a)[: len(block)] for a in out])
            bar.advance(len(block))
    return tuple(np.concatenate(column) for column in zip(*parts))
