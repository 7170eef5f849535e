"""Monte Carlo of a Gaussian retrained, generation after generation, on its own samples."""

from __future__ import annotations

import json

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr
from jaxtyping import Array, Float

from ...theory._checks import check_count, check_positive, check_seed
from ...theory._legacy_arguments import legacy_arguments
from ...theory.models._retraining import check_refit
from .._engine._provenance import versions


def _generation(key, mean, variance, samples: int, fresh: int):
    """One refit of every run: `samples - fresh` draws from the model, `fresh` real."""
    own = samples - fresh
    noise = jax.random.normal(key, (mean.shape[0], samples))
    draws = jnp.concatenate(
        [mean[:, None] + jnp.sqrt(variance)[:, None] * noise[:, :own], noise[:, own:]], axis=1
    )
    centre = draws.mean(axis=1)
    return centre, jnp.sum((draws - centre[:, None]) ** 2, axis=1) / (samples - 1)


def _refit_path(
    seed: int, mean: Float[Array, " runs"], variance: Float[Array, " runs"], samples, fresh, steps
):
    root = jax.random.key(seed)

    def step(state, generation):
        key = jax.random.fold_in(root, generation)
        new = _generation(key, *state, samples, fresh)
        return new, new

    _, (means, variances) = jax.lax.scan(step, (mean, variance), jnp.arange(steps))
    return means, variances


@legacy_arguments(positional=("steps", "n", "seed"), renamed={"generations": "steps", "runs": "n"})
def gaussian_refit(
    samples: int = 20,
    fresh: int = 0,
    *,
    steps: int = 100,
    n: int = 1000,
    seed: int = 0,
    start: tuple[float, float] = (0.0, 1.0),
) -> xr.Dataset:
    r"""Simulate iterated retraining of a Gaussian: each generation fits the sample mean
    and unbiased sample variance to `samples` draws, `fresh` of them from the real
    data $\mathcal N(0, 1)$ and the rest from the previous generation's model.

    With `fresh=0` the variance collapses: it keeps its mean but its logarithm
    drifts down by $\psi(\frac{M-1}{2}) - \ln\frac{M-1}{2}$ per generation and the
    standard deviation shrinks by $c_4(M)$ in mean (see
    [`basinlab.theory.collapse_factor`][] and [`basinlab.theory.log_variance_drift`][];
    Shumailov et al., Nature 2024). With fresh data the moments stay near the real
    ones (Bertrand et al., ICLR 2024). Runs are independent, all driven by keys
    derived from `seed` and the generation, so a seed gives the same paths on any
    device.

    **Arguments:**

    - `samples`: $M \ge 2$, the samples each fit sees.
    - `fresh`: how many of them are real data, $0 \le n \le M$.
    - `steps`: how many refits.
    - `n`: independent chains.
    - `seed`: the seed.
    - `start`: $(\mu_0, v_0)$, with $v_0 > 0$.

    **Returns:**

    An `xarray.Dataset` over (`run`, `generation`) with `mean` and `variance`; generation
    0 is the start.

    **Raises:**

    - `ValueError`: a count out of range, `fresh > samples`, or a start that is not
      finite or has $v_0 \le 0$.
    """
    samples, fresh = check_refit(samples, fresh)
    steps = check_count(steps, "steps")
    n = check_count(n, "n")
    seed = check_seed(seed)
    mean0 = float(start[0])
    if not np.isfinite(mean0):
        raise ValueError(f"the start mean must be finite, got {start[0]}")
    variance0 = check_positive(start[1], "the start variance")
    means, variances = jax.jit(_refit_path, static_argnums=(0, 3, 4, 5))(
        seed,
        jnp.full(n, mean0),
        jnp.full(n, variance0),
        samples,
        fresh,
        steps,
    )
    means = np.concatenate([np.full((1, n), mean0), np.asarray(means)], axis=0).T
    variances = np.concatenate([np.full((1, n), variance0), np.asarray(variances)], axis=0).T
    return xr.Dataset(
        {
            "mean": (("run", "generation"), means),
            "variance": (("run", "generation"), variances),
        },
        coords={"run": np.arange(n), "generation": np.arange(steps + 1)},
        attrs={
            "kind": "gaussian_refit",
            "samples": samples,
            "fresh": fresh,
            "seed": seed,
            "versions": json.dumps(versions()),
        },
    )
