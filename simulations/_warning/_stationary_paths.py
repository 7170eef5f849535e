"""Sample paths of an SDE about its stable points, saved at regular intervals."""

from __future__ import annotations

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from .._engine._compile import CompiledModel
from .._engine._progress import Progress
from .._noise._sde import INCREMENTS, NoiseSettings


@eqx.filter_jit
def _paths(
    compiled: CompiledModel,
    settings: NoiseSettings,
    starts: Float[Array, "runs n"],
    p: Float[Array, "runs m"],
    keys: PRNGKeyArray,
    times: Float[Array, " samples"],
    steps: int,
) -> Float[Array, "runs samples n"]:
    solver = settings.solver_for(compiled)
    t0 = jnp.zeros((), compiled.dtype)
    needs_area = getattr(solver, "minimal_levy_area", None) is not None
    levy_area = dfx.SpaceTimeLevyArea if needs_area else dfx.BrownianIncrement
    shape = compiled.noise_shape[1:]

    def one(y0, args, key):
        if settings.brownian == INCREMENTS:
            path = dfx.UnsafeBrownianPath(shape=shape, key=key, levy_area=levy_area)
        else:
            path = dfx.VirtualBrownianTree(
                t0, times[-1], tol=settings.dt / 4, shape=shape, key=key, levy_area=levy_area
            )
        terms = dfx.MultiTerm(
            dfx.ODETerm(compiled.vector_field), dfx.ControlTerm(compiled.diffusion, path)
        )
        solution = dfx.diffeqsolve(
            terms,
            solver,
            t0=t0,
            t1=times[-1],
            dt0=jnp.asarray(settings.dt, compiled.dtype),
            y0=y0,
            args=args,
            saveat=dfx.SaveAt(ts=times),
            max_steps=steps,
            throw=False,
            adjoint=dfx.ForwardMode(),
        )
        return solution.ys

    return jax.vmap(one)(starts, p, keys)


def stationary_paths(
    compiled: CompiledModel,
    settings: NoiseSettings,
    starts: np.ndarray,
    p: np.ndarray,
    seed_key: PRNGKeyArray,
    burn_in: float,
    t1: float,
    interval: float,
    progress: bool,
) -> Float[np.ndarray, "runs samples n"]:
    """Integrate each run from its start (with its own parameter vector) over
    `burn_in + t1`, and return its state every `interval` after `burn_in`.

    Runs are integrated in batches of `settings.batch_size`, each in one solve (the
    settings' `window` is not used). Run `i` has the Brownian key
    `fold_in(seed_key, i)`, so its path does not depend on the batching. A run that
    fails or leaves the box (`divergence_bound`) is NaN.
    """
    runs = starts.shape[0]
    samples = round(t1 / interval)
    times = burn_in + interval * np.arange(1, samples + 1)
    saved = []
    with Progress(runs, "stationary runs", progress, unit="run") as bar:
        for first in range(0, runs, settings.batch_size):
            batch = jnp.arange(first, min(runs, first + settings.batch_size))
            keys = jax.vmap(lambda i: jax.random.fold_in(seed_key, i))(batch)
            ys = np.array(
                _paths(
                    compiled,
                    settings,
                    jnp.asarray(starts[first : first + len(batch)], compiled.dtype),
                    jnp.asarray(p[first : first + len(batch)], compiled.dtype),
                    keys,
                    jnp.asarray(times, compiled.dtype),
                    int(np.ceil(times[-1] / settings.dt)) + 2,
                )
            )
            bad = ~np.all(np.isfinite(ys), axis=(1, 2)) | np.any(
                np.abs(ys) > settings.divergence_bound, axis=(1, 2)
            )
            ys[bad] = np.nan
            saved.append(ys)
            bar.advance(len(batch))
    return np.concatenate(saved)
