"""Seeds and PRNG keys: one argument, `seed`, that takes either."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import PRNGKeyArray

from ...theory._checks import check_seed


def random_key(seed: int | PRNGKeyArray, what: str = "seed") -> PRNGKeyArray:
    """A JAX PRNG key: `seed` itself if it is one, a key made from it if it is an int.

    **Arguments:**

    - `seed`: a non-negative integer below $2^{63}$, a typed key
      (`jax.random.key`) or a raw one (`jax.random.PRNGKey`, two `uint32`).
    - `what`: the argument's name, for messages.

    **Returns:**

    The key. An int seed and `jax.random.PRNGKey(seed)` give the same numbers.

    **Raises:**

    - `TypeError`, `ValueError`: `seed` is neither a key nor a valid int seed.
    """
    if isinstance(seed, jax.Array):
        if jnp.issubdtype(seed.dtype, jax.dtypes.prng_key):
            return seed
        if seed.dtype == jnp.uint32 and seed.shape == (2,):
            return seed
        raise TypeError(
            f"{what} must be an int or a PRNG key, got an array {seed.dtype}{seed.shape}"
        )
    return jax.random.PRNGKey(check_seed(seed, what))
