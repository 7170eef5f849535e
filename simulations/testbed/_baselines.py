r"""In-context baselines: learners that see the first $k$ pairs of a prompt and predict
the next output, as in Garg et al. (2022)."""

from __future__ import annotations

import functools
import json
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr
from jaxtyping import Array, Float

from ...theory._checks import check_count, check_positive
from .._engine._provenance import versions
from ._prompts import Prompts

BASELINES = ("least_squares", "ridge", "lasso", "nearest_neighbours", "averaging", "zero")


def _shown(prompts: Prompts) -> tuple[Array, Array, Array]:
    """For each prompt and each position k: the inputs and outputs of pairs before k
    (later pairs zeroed), and the mask of those pairs."""
    points = prompts.points
    before = jnp.arange(points)[None, :] < jnp.arange(points)[:, None]  # (k, i)
    xs = jnp.where(before[None, :, :, None], prompts.xs[:, None], 0.0)
    ys = jnp.where(before[None], prompts.ys[:, None], 0.0)
    return xs, ys, jnp.broadcast_to(before, (prompts.xs.shape[0], points, points))


@jax.jit
def _least_squares(xs, ys, queries):
    # Zeroed rows change neither the min-norm solution nor the pseudo-inverse.
    weights = jnp.einsum("bkdi,bki->bkd", jnp.linalg.pinv(xs), ys)
    return jnp.einsum("bkd,bkd->bk", weights, queries)


@jax.jit
def _ridge(xs, ys, queries, penalty):
    gram = jnp.einsum("bkid,bkie->bkde", xs, xs) + penalty * jnp.eye(xs.shape[-1])
    weights = jnp.linalg.solve(gram, jnp.einsum("bkid,bki->bkd", xs, ys)[..., None])[..., 0]
    return jnp.einsum("bkd,bkd->bk", weights, queries)


@jax.jit
def _averaging(xs, ys, queries):
    shown = jnp.maximum(jnp.arange(xs.shape[1]), 1)[None, :, None]
    weights = jnp.einsum("bkid,bki->bkd", xs, ys) / shown
    return jnp.einsum("bkd,bkd->bk", weights, queries)


@functools.partial(jax.jit, static_argnames=("neighbours",))
def _nearest_neighbours(xs, ys, shown, queries, neighbours):
    distance = jnp.sum((xs - queries[:, :, None, :]) ** 2, axis=-1)
    distance = jnp.where(shown, distance, jnp.inf)
    order = jnp.argsort(distance, axis=-1)[..., :neighbours]
    near_ys = jnp.take_along_axis(ys, order, axis=-1)
    valid = jnp.take_along_axis(shown, order, axis=-1)
    count = jnp.sum(valid, axis=-1)
    return jnp.where(count > 0, jnp.sum(near_ys * valid, -1) / jnp.maximum(count, 1), 0.0)


def _lasso(prompts: Prompts, alpha: float) -> np.ndarray:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import Lasso

    xs, ys = np.asarray(prompts.xs, float), np.asarray(prompts.ys, float)
    predictions = np.zeros(ys.shape)
    model = Lasso(alpha=alpha, fit_intercept=False, max_iter=100_000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for b in range(ys.shape[0]):
            for k in range(1, ys.shape[1]):
                model.fit(xs[b, :k], ys[b, :k])
                predictions[b, k] = xs[b, k] @ model.coef_
    return predictions


def baseline_predictions(
    prompts: Prompts,
    method: str,
    *,
    penalty: float = 0.1,
    alpha: float = 0.1,
    neighbours: int = 3,
) -> Float[np.ndarray, "batch points"]:
    r"""Each baseline's prediction of $y_k$ from the pairs before $k$, at every $k$.

    With $X_k, y_k$ the first $k$ pairs and $x$ the query:

    - `least_squares`: $x\cdot X_k^+ y_k$, the minimum-norm least-squares fit (the
      Bayes-optimal predictor for the noiseless linear class);
    - `ridge`: $x\cdot(X_k^\top X_k + \lambda I)^{-1}X_k^\top y_k$, $\lambda$ = `penalty`;
    - `lasso`: scikit-learn's `Lasso(alpha)` without intercept;
    - `nearest_neighbours`: the mean output of the `neighbours` nearest inputs;
    - `averaging`: $x\cdot\frac1k\sum_i y_i x_i$;
    - `zero`: 0.

    Every method predicts 0 at $k = 0$.

    **Arguments:**

    - `prompts`: [`Prompts`][].
    - `method`: one of the names above.
    - `penalty`, `alpha`, `neighbours`: the ridge, Lasso and nearest-neighbour
      settings.

    **Returns:**

    Predictions, `(batch, points)`.

    **Raises:**

    - `ValueError`: an unknown method or a non-positive setting.
    """
    if method not in BASELINES:
        raise ValueError(f"unknown baseline {method!r}; known: {', '.join(BASELINES)}")
    check_positive(penalty, "penalty")
    check_positive(alpha, "alpha")
    check_count(neighbours, "neighbours")
    if method == "zero":
        return np.zeros(prompts.ys.shape)
    if method == "lasso":
        return _lasso(prompts, alpha)
    xs, ys, shown = _shown(prompts)
    queries = prompts.xs
    if method == "least_squares":
        result = _least_squares(xs, ys, queries)
    elif method == "ridge":
        result = _ridge(xs, ys, queries, penalty)
    elif method == "averaging":
        result = _averaging(xs, ys, queries)
    else:
        result = _nearest_neighbours(xs, ys, shown, queries, neighbours)
    return np.asarray(result, float)


def error_curves(
    prompts: Prompts, predictions: dict[str, Float[np.ndarray, "batch points"]]
) -> xr.Dataset:
    r"""The normalised squared error $(\hat y_k - y_k)^2/\mathrm{Var}\,f$ against the
    number $k$ of pairs shown, averaged over the batch (for the linear class,
    $\mathrm{Var}\,f = d$: Garg et al.'s normalisation).

    **Arguments:**

    - `prompts`: the [`Prompts`][] the predictions were made on.
    - `predictions`: by learner name, `(batch, points)` arrays.

    **Returns:**

    An `xarray.Dataset` over `(learner, shown)` with `error` (the batch mean) and
    `error_sem` (its standard error); attrs name the class, $d$ and the batch size.

    **Raises:**

    - `ValueError`: no predictions, or one whose shape is not the prompts'.
    """
    if not predictions:
        raise ValueError("give at least one learner's predictions")
    ys = np.asarray(prompts.ys, float)
    scale = prompts.function_class.output_variance
    errors = []
    for name, predicted in predictions.items():
        predicted = np.asarray(predicted, float)
        if predicted.shape != ys.shape:
            raise ValueError(f"{name}: predictions of shape {predicted.shape}, not {ys.shape}")
        errors.append((predicted - ys) ** 2 / scale)
    errors = np.array(errors)
    batch = ys.shape[0]
    spread = errors.std(axis=1, ddof=1) if batch > 1 else np.full(errors[:, 0].shape, np.nan)
    return xr.Dataset(
        {
            "error": (("learner", "shown"), errors.mean(axis=1)),
            "error_sem": (("learner", "shown"), spread / np.sqrt(batch)),
        },
        coords={"learner": list(predictions), "shown": np.arange(ys.shape[1])},
        attrs={
            "function_class": prompts.function_class.name,
            "dim": prompts.function_class.dim,
            "batch": batch,
            "versions": json.dumps(versions()),
        },
    )
