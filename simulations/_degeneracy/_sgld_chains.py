"""SGLD chains localised at a point, all run at once: one per chain and value of gamma."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from .._engine._progress import Progress
from ._loss_function import LossFunction
from ._sgld_settings import ONE_BATCH, PAIRED, SGLDSettings

# Steps per compiled call, so that the progress bar moves and memory stays bounded.
_CHUNK = 500


def _indices(key: PRNGKeyArray, n: int, batch: int | None, shape: tuple[int, ...]) -> Array:
    if batch is None:
        return jnp.broadcast_to(jnp.arange(n), (*shape, n))
    return jax.random.randint(key, (*shape, batch), 0, n)


@eqx.filter_jit
def _advance(
    loss: LossFunction,
    settings: SGLDSettings,
    nbeta: Float[Array, ""],
    gammas: Float[Array, " g"],
    reference: Float[Array, ""],
    w: Float[Array, "g c d"],
    key: PRNGKeyArray,
    steps: int,
) -> tuple[Float[Array, "g c d"], Float[Array, "steps g c"], Float[Array, "steps g c"]]:
    """`steps` SGLD steps of every chain, with $n\\beta(L_B(w) - L^*)$ and
    $|w - w^*|$ before each step."""
    start = loss.start
    epsilon = settings.step_size
    shape = w.shape[:2]

    def one_chain(w_c, gamma, indices, noise):
        value, gradient = jax.value_and_grad(loss.batch_loss)(w_c, indices)
        star = loss.batch_loss(start, indices) if settings.reference == PAIRED else reference
        drift = nbeta * gradient + gamma * (w_c - start)
        moved = w_c - 0.5 * epsilon * drift + jnp.sqrt(epsilon) * noise
        return moved, nbeta * (value - star), jnp.linalg.norm(w_c - start)

    chains = jax.vmap(jax.vmap(one_chain, in_axes=(0, None, 0, 0)), in_axes=(0, 0, 0, 0))

    def step(w, key):
        batch_key, noise_key = jax.random.split(key)
        indices = _indices(batch_key, loss.n, settings.batch_size, shape)
        noise = jax.random.normal(noise_key, w.shape, w.dtype)
        moved, excess, distance = chains(w, gammas, indices, noise)
        return moved, (excess, distance)

    w, (excess, distance) = jax.lax.scan(step, w, jax.random.split(key, steps))
    return w, excess, distance


def reference_loss(loss: LossFunction, settings: SGLDSettings, key: PRNGKeyArray) -> float:
    """$L^*$ for the `"full"` and `"one_batch"` references (and the population loss)."""
    if loss.population:
        return float(loss.batch_loss(loss.start, jnp.arange(1)))
    if settings.reference == ONE_BATCH and settings.batch_size is not None:
        indices = jax.random.randint(key, (settings.batch_size,), 0, loss.n)
        return float(loss.batch_loss(loss.start, indices))
    return float(loss.batch_loss(loss.start, jnp.arange(loss.n)))


def run_chains(
    loss: LossFunction,
    settings: SGLDSettings,
    nbeta: float,
    key: PRNGKeyArray,
    progress: bool,
) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
    """Run every chain for `burn_in + steps` steps from $w^*$.

    **Returns:**

    The recorded $n\\beta(L_B(w_t) - L^*)$ and $|w_t - w^*|$, each of shape
    `(gamma, chain, draw)`; $L^*$ (for the `"paired"` reference, the full loss at
    $w^*$, for the record); and the chains' last states, `(gamma, chain, d)`.
    """
    reference_key, key = jax.random.split(key)
    reference = reference_loss(loss, settings, reference_key)
    gammas = jnp.asarray([settings.gamma * f for f in settings.gamma_factors])
    shape = (len(gammas), settings.chains)
    w = jnp.broadcast_to(loss.start, (*shape, loss.start.size))
    total = settings.burn_in + settings.steps
    excess, distance = [], []
    done = 0
    with Progress(total, "SGLD", progress, unit="step") as bar:
        while done < total:
            steps = min(_CHUNK, total - done)
            key, chunk_key = jax.random.split(key)
            w, e, d = _advance(
                loss,
                settings,
                jnp.asarray(nbeta),
                gammas,
                jnp.asarray(reference),
                w,
                chunk_key,
                steps,
            )
            excess.append(np.asarray(e))
            distance.append(np.asarray(d))
            done += steps
            bar.advance(steps)
    excess = np.concatenate(excess)[settings.burn_in :]
    distance = np.concatenate(distance)[settings.burn_in :]
    return np.moveaxis(excess, 0, -1), np.moveaxis(distance, 0, -1), reference, np.asarray(w)
