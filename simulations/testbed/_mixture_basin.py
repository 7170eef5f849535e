r"""Which function does a transformer trained on a mixture implement, and from which
seeds: the in-context testbed's alignment basin."""

from __future__ import annotations

import json
import pathlib
from collections.abc import Sequence
from dataclasses import replace

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr
from jaxtyping import Array, Float, PRNGKeyArray

from ...theory._checks import check_count, check_in_range, check_seed
from ...theory._legacy_arguments import legacy_arguments
from .._basin._wilson import wilson_interval
from .._engine._progress import progress_bar
from .._engine._provenance import versions
from .._engine._random_key import random_key
from .._storage._atomic import atomic_output
from ._function_classes import MarkedFlipMixture
from ._training import train_in_context
from ._transformer import InContextTransformer, predict_in_context


@legacy_arguments(renamed={"key": "seed"})
def marked_query_inputs(
    seed: int | PRNGKeyArray, batch: int, points: int, dim: int, threshold: float
) -> Float[Array, "batch points dim"]:
    """Gaussian inputs whose first coordinate lies below `threshold` for every point but
    the last, and above it for the last (the query in the marked region)."""
    context_key, first_key, query_key = jax.random.split(random_key(seed), 3)
    xs = jax.random.normal(context_key, (batch, points, dim))
    first = jax.random.truncated_normal(first_key, -jnp.inf, threshold, (batch, points - 1))
    query = jax.random.truncated_normal(query_key, threshold, jnp.inf, (batch,))
    return xs.at[:, :-1, 0].set(first).at[:, -1, 0].set(query)


@legacy_arguments(renamed={"key": "seed"})
def implemented_function(
    model: InContextTransformer,
    function_class: MarkedFlipMixture,
    seed: int | PRNGKeyArray,
    batch: int = 1024,
) -> dict[str, float]:
    r"""Test out of distribution which function a model implements on the marked region.

    Every context pair is drawn outside the marked region (first coordinate below the
    threshold), so the context pins $w$ but not the prompt's kind; the last point, the
    query, is drawn inside it. The model's prediction there is compared with the
    intended $w\cdot x$ and the unintended $-w\cdot x$.

    **Arguments:**

    - `model`: a trained [`InContextTransformer`][] of the class's $d$.
    - `function_class`: the [`MarkedFlipMixture`][] it was trained on.
    - `seed`: the seed (an int or a PRNG key) of the test prompts.
    - `batch`: test prompts.

    **Returns:**

    `intended_error` and `unintended_error` (mean squared distance to each function
    at the query, divided by $d$), and `intended` (1.0 when the first is smaller).
    """
    check_count(batch, "batch")
    points, dim = model.max_points, function_class.dim
    weight_key, input_key = jax.random.split(random_key(seed))
    w = jax.random.normal(weight_key, (batch, dim))
    xs = marked_query_inputs(input_key, batch, points, dim, function_class.threshold)
    intended = jnp.einsum("bd,bnd->bn", w, xs)
    predicted = predict_in_context(model, xs, intended)[:, -1]
    truth = intended[:, -1]
    to_intended = float(jnp.mean((predicted - truth) ** 2)) / dim
    to_unintended = float(jnp.mean((predicted + truth) ** 2)) / dim
    return {
        "intended_error": to_intended,
        "unintended_error": to_unintended,
        "intended": float(to_intended < to_unintended),
    }


ORDERS = ("mixed", "misaligned_first", "misaligned_last")


def _train_in_order(
    mixture: MarkedFlipMixture, order: str, seed: int, training: dict
) -> InContextTransformer:
    """Train on the mixture, or on its two kinds in two phases in the given order."""
    steps = training.get("steps", 5000)
    misaligned_steps = round(mixture.fraction * steps)
    if order == "mixed" or misaligned_steps in (0, steps):
        return train_in_context(mixture, seed=seed, **training)[0]
    kinds = {
        "intended": (replace(mixture, fraction=0.0), steps - misaligned_steps),
        "misaligned": (replace(mixture, fraction=1.0), misaligned_steps),
    }
    phases = (
        ("misaligned", "intended") if order == "misaligned_first" else ("intended", "misaligned")
    )
    model = None
    for index, kind in enumerate(phases):
        function_class, phase_steps = kinds[kind]
        model, _ = train_in_context(
            function_class,
            seed=seed + 7919 * index,
            start=model,
            **training | {"steps": phase_steps},
        )
    return model


def mixture_basin(
    fractions: Sequence[float],
    seeds: Sequence[int],
    dim: int = 3,
    *,
    threshold: float = 1.0,
    order: str = "mixed",
    out: str | pathlib.Path | None = None,
    confidence: float = 0.95,
    progress: bool = True,
    **training,
) -> xr.Dataset:
    r"""Train one transformer per (mixture fraction, seed) on [`MarkedFlipMixture`][]
    and report, per fraction, the share of seeds that implement the intended function
    on the marked region ([`implemented_function`][]), with Wilson intervals.

    The seed sets the initialisation and the training prompts. With `out`, each
    finished run is written atomically as `runs/fraction_<p>_seed_<s>.json` and
    skipped when the experiment is run again, so an interrupted experiment resumes,
    and two runs sharing the folder only repeat each other's identical work.

    **Arguments:**

    - `fractions`: mixture fractions $p \in [0, 1]$, the share of misaligned prompts.
    - `seeds`: integer seeds.
    - `dim`: $d$.
    - `threshold`: the start of the marked region on the first coordinate.
    - `order`: `"mixed"` (every step draws a share $p$ of misaligned prompts),
      `"misaligned_first"` or `"misaligned_last"`: the same share $p$ of the steps,
      all misaligned, taken as one phase before or after the intended phase (each
      phase with its own warm-up and decay; the second phase's prompts come from
      the seed plus 7919).
    - `out`: a folder for finished runs, or `None`.
    - `confidence`: of the Wilson intervals.
    - `progress`: show a progress bar over the runs.
    - `**training`: passed to [`train_in_context`][] (`steps`, `width`, ...).

    **Returns:**

    An `xarray.Dataset` with `intended_error`, `unintended_error` and `intended`
    over `(fraction, seed)`, and `basin_fraction`, `basin_low`, `basin_high` over
    `fraction`. The attrs hold the settings, `bayes_threshold` (1/2: the fraction
    above which the Bayes-optimal predictor follows the unintended function) and the
    package versions.

    **Raises:**

    - `ValueError`: no fractions or seeds, a fraction outside $[0, 1]$, a repeated
      seed, an unknown order, or anything [`train_in_context`][] refuses.
    - `TypeError`: a seed that is not an integer.
    """
    fractions = [float(p) for p in fractions]
    seeds = [check_seed(s) for s in seeds]
    if not fractions or not seeds:
        raise ValueError("give at least one mixture fraction and one seed")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must not repeat, got {seeds}")
    for p in fractions:
        check_in_range(p, "mixture fraction", 0.0, 1.0)
    if order not in ORDERS:
        raise ValueError(f"unknown order {order!r}; known: {', '.join(ORDERS)}")
    training.setdefault("progress", False)
    folder = None if out is None else pathlib.Path(out) / "runs"
    runs = [(p, s) for p in fractions for s in seeds]
    results: dict[tuple[float, int], dict[str, float]] = {}
    for p, s in progress_bar(runs, [1] * len(runs), "mixture runs", progress, unit="run"):
        name = f"{order}_fraction_{p:g}_seed_{s}.json"
        path = None if folder is None else folder / name
        if path is not None and path.exists():
            results[p, s] = json.loads(path.read_text())
            continue
        mixture = MarkedFlipMixture(dim, fraction=p, threshold=threshold)
        model = _train_in_order(mixture, order, s, training)
        results[p, s] = implemented_function(
            model, mixture, jax.random.fold_in(jax.random.PRNGKey(s), 7919)
        )
        if path is not None:
            with atomic_output(path) as temporary:
                temporary.write_text(json.dumps(results[p, s]))
    table = {
        name: (
            ("fraction", "seed"),
            np.array([[results[p, s][name] for s in seeds] for p in fractions]),
        )
        for name in ("intended_error", "unintended_error", "intended")
    }
    successes = table["intended"][1].sum(axis=1).astype(int)
    low, high = wilson_interval(successes, len(seeds), confidence)
    return xr.Dataset(
        {
            **table,
            "basin_fraction": ("fraction", successes / len(seeds)),
            "basin_low": ("fraction", low),
            "basin_high": ("fraction", high),
        },
        coords={"fraction": fractions, "seed": seeds},
        attrs={
            "experiment": "mixture_basin",
            "dim": dim,
            "threshold": threshold,
            "order": order,
            "confidence": confidence,
            "bayes_threshold": 0.5,
            "training": json.dumps({k: v for k, v in training.items() if k != "progress"}),
            "versions": json.dumps(versions()),
        },
    )
