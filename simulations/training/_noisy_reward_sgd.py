"""Minibatch SGD on the tilted well of rewards with noisy labels: real SGD runs whose
gradient flow is `alignment_tilted_well`, near its fold."""

from __future__ import annotations

import json
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np
import sympy as sp
import xarray as xr
from jaxtyping import Array, Float

from ...theory import Model, Noise
from ...theory._checks import check_count, check_positive, check_seed
from ...theory.models import alignment_tilted_well
from .._engine._provenance import versions


def _sample_losses(w: Float[Array, " 2"], labels: Float[Array, "batch 2"], bias, coupling):
    a, c = w
    return (
        a**4 / 4
        - a**2 / 2
        + (bias + labels[:, 0]) * a
        + 0.5 * (c - 1 - coupling * a - labels[:, 1]) ** 2
    )


def noisy_reward_sgd(
    values: Sequence[float],
    *,
    start: Sequence[float],
    samples: int = 1000,
    label_noise: float = 0.5,
    learning_rate: float = 0.01,
    batch_size: int = 10,
    steps: int = 20_000,
    log_every: int = 50,
    n: int = 40,
    coupling: float = 1.0,
    seed: int = 0,
) -> tuple[xr.Dataset, Model]:
    r"""Minibatch SGD on a data set of noisy rewards whose mean loss is the tilted well.

    Each sample $\xi = (\xi_1, \xi_2)$ is a noisy reward label and a noisy capability
    target, with the per-sample loss

    $$
    \ell(a, c; \xi) = \frac{a^4}{4} - \frac{a^2}{2} + (b + \xi_1)a
    + \frac12\bigl(c - 1 - \kappa a - \xi_2\bigr)^2 .
    $$

    The labels are drawn $N(0, \sigma^2)$ and centred, so the mean loss over the data
    set is exactly [`basinlab.models.alignment_tilted_well`][] (plus a constant), with
    its fold at $b^* = 2\sqrt 3/9$. SGD with learning rate $\eta$ and batches of $B$
    samples (drawn with replacement) is then, in the time $t = \eta\cdot$steps, the
    SDE $dw = -\nabla L\,dt + \sqrt{(\eta/B)\,C}\,dW$ to first order in $\eta$, with $C$
    the covariance of the per-sample gradients, which here does not depend on $w$:
    $C = \operatorname{Cov}[(\xi_1 + \kappa\xi_2, -\xi_2)]$ over the data set (Q. Li,
    C. Tai and W. E, "Stochastic modified equations and adaptive stochastic gradient
    algorithms", ICML 2017). The model returned is that SDE.

    **Arguments:**

    - `values`: the reward biases $b$ to train at.
    - `start`: the initial $(a, c)$ of every run.
    - `samples`: the size of the data set.
    - `label_noise`: $\sigma$.
    - `learning_rate`, `batch_size`: $\eta$ and $B$.
    - `steps`: SGD steps per run.
    - `log_every`: steps between logged states.
    - `n`: runs per value, each with its own minibatches.
    - `coupling`: $\kappa$.
    - `seed`: the seed of the data set and the minibatches.

    **Returns:**

    `(runs, model)`: an `xarray.Dataset` with `state` over `(value, run, time, name)`
    (time in the model's units, $\eta\cdot$steps), and the tilted well with the
    matching SGD noise, for [`basinlab.early_warning`][] and
    [`basinlab.stationary_covariance`][].

    **Raises:**

    - `ValueError`: a count below 1 or a rate that is not positive.
    """
    for name, value in (("samples", samples), ("batch_size", batch_size), ("steps", steps)):
        check_count(value, name)
    check_count(log_every, "log_every")
    check_count(n, "n")
    check_positive(label_noise, "label_noise")
    check_positive(learning_rate, "learning_rate")
    seed = check_seed(seed)
    rng = np.random.default_rng(seed)
    labels = rng.normal(0.0, label_noise, size=(samples, 2))
    labels -= labels.mean(axis=0)
    noise_vectors = np.stack([labels[:, 0] + coupling * labels[:, 1], -labels[:, 1]], axis=1)
    covariance = np.cov(noise_vectors.T, bias=True)
    data = jnp.asarray(labels)
    gradient = jax.grad(lambda w, batch, b: jnp.mean(_sample_losses(w, batch, b, coupling)))

    def run(bias, key):
        def step(w, key):
            indices = jax.random.randint(key, (batch_size,), 0, samples)
            return w - learning_rate * gradient(w, data[indices], bias), None

        def logged(w, key):
            w, _ = jax.lax.scan(step, w, jax.random.split(key, log_every))
            return w, w

        keys = jax.random.split(key, steps // log_every)
        return jax.lax.scan(logged, jnp.asarray(start, jnp.float64), keys)[1]

    keys = jax.random.split(jax.random.PRNGKey(seed), (len(values), n))
    biases = jnp.asarray(np.repeat(np.asarray(values, float)[:, None], n, axis=1))
    paths = jax.jit(jax.vmap(jax.vmap(run)))(biases, keys)
    times = learning_rate * log_every * np.arange(1, steps // log_every + 1)
    scale = sp.Rational(repr(learning_rate)) / batch_size
    exact = sp.Matrix(2, 2, [sp.Rational(repr(float(v))) for v in covariance.ravel()])
    model = alignment_tilted_well(coupling=coupling).with_noise(
        Noise.from_covariance(
            scale * exact, description=f"SGD: eta/B x gradient covariance, eta={learning_rate}"
        )
    )
    runs = xr.Dataset(
        {"state": (("value", "run", "time", "name"), np.asarray(paths))},
        coords={"value": np.asarray(values, float), "time": times, "name": ["a", "c"]},
        attrs={
            "learning_rate": learning_rate,
            "batch_size": batch_size,
            "samples": samples,
            "label_noise": label_noise,
            "coupling": coupling,
            "gradient_covariance": json.dumps(covariance.tolist()),
            "seed": seed,
            "versions": json.dumps(versions()),
        },
    )
    return runs, model
