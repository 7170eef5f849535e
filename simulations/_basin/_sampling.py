"""Initial states drawn from a NumPyro distribution."""

from __future__ import annotations

import jax
import numpy as np
import numpyro.distributions as dist

from ...theory._checks import check_count, check_seed
from ...theory._resources import ensemble_bytes, require_memory


def sample_states(p0: dist.Distribution, n: int, seed: int, dim: int) -> np.ndarray:
    """`n` states of dimension `dim` drawn from `p0` with `seed`, as floats.

    **Raises:**

    - `TypeError`: `p0` is not a NumPyro distribution, or `seed` is not an integer.
    - `ValueError`: `p0` has the wrong shape; `n` is not a positive integer or would
      not fit in memory; `seed` is outside $[0, 2^{63})$.
    """
    if not isinstance(p0, dist.Distribution):
        raise TypeError(f"p0 must be a numpyro distribution, got {type(p0).__name__}")
    if tuple(p0.batch_shape) + tuple(p0.event_shape) != (dim,):
        raise ValueError(
            f"p0 must draw states of shape ({dim},), but draws shape "
            f"{tuple(p0.batch_shape) + tuple(p0.event_shape)}"
        )
    n = check_count(n, "n")
    seed = check_seed(seed)
    require_memory(ensemble_bytes(n, dim), f"{n} samples")
    return np.asarray(p0.sample(jax.random.key(seed), (n,)), dtype=float)
