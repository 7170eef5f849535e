"""The local learning coefficient at the end of real training runs, by end state, beside
the end states' basin fractions."""

from __future__ import annotations

import json

import jax
import numpy as np
import xarray as xr
from jaxtyping import Int, PRNGKeyArray, PyTree

from ...theory._checks import check_count
from .._degeneracy._local_learning_coefficient import (
    NotAMinimumError,
    local_learning_coefficient,
)
from .._degeneracy._sgld_settings import SGLDSettings
from .._engine._progress import Progress
from .._engine._provenance import versions
from .._engine._random_key import random_key
from ._ensemble_fractions import check_record, ensemble_fractions
from ._final_states import final_states
from ._training_task import TrainingTask


def _selected_runs(labels: Int[np.ndarray, " run"], outcomes: int, per_end_state: int):
    return np.sort(
        np.concatenate([np.flatnonzero(labels == k)[:per_end_state] for k in range(outcomes)])
    )


def ensemble_learning_coefficients(
    task: TrainingTask,
    record: xr.Dataset,
    *,
    per_end_state: int = 4,
    run_indices: Int[np.ndarray, " selected"] | list[int] | None = None,
    n: int = 10_000,
    settings: SGLDSettings | None = None,
    starts: PyTree | None = None,
    confidence: float = 0.95,
    seed: int | PRNGKeyArray = 0,
    progress: bool = True,
) -> xr.Dataset:
    r"""The local learning coefficient $\hat\lambda$ of the trained network at the end of
    runs of a [`train_ensemble`][] record, summarised by end state beside each end
    state's share of the runs: how degenerate each basin's attractor is, and how large
    its basin.

    Each selected run is replayed to its final weights $w^*$ ([`final_states`][]), and
    [`basinlab.local_learning_coefficient`][] samples the task's empirical loss
    $L_n(w) = \frac1n\sum_{i \le n}\ell(w; z_i)$ about $w^*$, on $n$ samples drawn
    once from the task's data ([`TrainingTask.draw_samples`][]) and shared by every
    run. The estimator refuses a point that is not near a minimum of $L_n$ (a slope
    or a saddle): a run that ends on a plateau, or before it has converged. Such a
    run is kept, with `llc` NaN and the reason in `diagnosis`: that an end state is
    not a minimum is itself the answer.

    (E. Lau, Z. Furman, G. Wang, D. Murfet and S. Wei, "The local learning
    coefficient: a singularity-aware complexity measure", 2023.)

    **Arguments:**

    - `task`: the task that trained `record`; it must have a loss
      ([`TrainingTask.has_loss`][]).
    - `record`: the result of [`train_ensemble`][].
    - `per_end_state`: the first this many runs of each end state are measured.
    - `run_indices`: the runs to measure instead.
    - `n`: the number of samples behind $L_n$ (and $\beta = 1/\log n$).
    - `settings`: the [`basinlab.SGLDSettings`][] of every estimate.
    - `starts`: the starts the record was trained from, if it was given some.
    - `confidence`: of the basin fractions' Wilson intervals.
    - `seed`: the seed of the data and of the chains (run $i$'s chains from
      `fold_in` of $i$).
    - `progress`: show a progress bar over runs.

    **Returns:**

    An `xarray.Dataset` (attrs `kind = "ensemble_learning_coefficients"`, the
    settings, `n`, `beta`) over `run` (the measured runs) with `label` (the end
    state), `llc`, `llc_std_error`, `trusted` (0 when refused) and `diagnosis`; and
    over `outcome` the table of [`ensemble_fractions`][] (`outcome_name`, `count`,
    `fraction`, `fraction_low`, `fraction_high`, over all runs of the record) with
    `measured` and `refused` (runs), and `llc_mean` and `llc_spread` (the mean and
    standard deviation of $\hat\lambda$ over the end state's measured runs; NaN where
    none was measured).

    **Raises:**

    - `ValueError`: `record` is not a record of this task and settings, bad counts or
      run indices, the replay does not reproduce the record, or the chains diverge
      (a step size too large).
    - `NotImplementedError`: the task has no per-sample loss.
    """
    record = check_record(record, task)
    if not task.has_loss:
        raise NotImplementedError(
            f"the task {task.name!r} has no per-sample loss, so no learning coefficient"
        )
    check_count(n, "n", minimum=2)
    settings = SGLDSettings() if settings is None else settings
    labels = record["label"].values
    names = list(record["end_state"].values)
    if run_indices is None:
        check_count(per_end_state, "per_end_state")
        run_indices = _selected_runs(labels, len(names), per_end_state)
    runs = np.asarray(run_indices, dtype=np.int64)
    states = final_states(task, record, runs, starts=starts)
    key = random_key(seed)
    data_key, chain_key = jax.random.split(key)
    data = task.draw_samples(data_key, n)

    estimates = np.full(runs.size, np.nan)
    errors = np.full(runs.size, np.nan)
    trusted = np.zeros(runs.size, dtype=np.int32)
    diagnoses = []
    with Progress(runs.size, f"learning coefficients of {task.name}", progress, "run") as bar:
        for position, run in enumerate(runs):
            state = jax.tree.map(lambda leaf, i=position: leaf[i], states)
            try:
                result = local_learning_coefficient(
                    task.sample_losses,
                    state,
                    data=data,
                    settings=settings,
                    seed=jax.random.fold_in(chain_key, int(run)),
                )
            except NotAMinimumError as refusal:
                diagnoses.append(f"refused: {refusal}")
            else:
                estimates[position] = result.attrs["estimate"]
                errors[position] = result.attrs["std_error"]
                trusted[position] = result.attrs["trusted"]
                diagnoses.append(result.attrs["diagnosis"])
            bar.advance(1)
    run_labels = labels[runs]
    table = ensemble_fractions(record, confidence)
    outcome_vars = ["outcome_name", "count", "fraction", "fraction_low", "fraction_high"]
    by_state = [estimates[(run_labels == k) & np.isfinite(estimates)] for k in range(len(names))]
    selected = [int(np.sum(run_labels == k)) for k in range(len(names))]
    return xr.Dataset(
        {
            **{name: table[name] for name in outcome_vars},
            "measured": ("outcome", [v.size for v in by_state]),
            "refused": ("outcome", [s - v.size for s, v in zip(selected, by_state)]),
            "llc_mean": ("outcome", [v.mean() if v.size else np.nan for v in by_state]),
            "llc_spread": ("outcome", [v.std(ddof=1) if v.size > 1 else np.nan for v in by_state]),
            "label": ("run", run_labels.astype(np.int32)),
            "llc": ("run", estimates),
            "llc_std_error": ("run", errors),
            "trusted": ("run", trusted),
            "diagnosis": ("run", np.array(diagnoses, dtype=object)),
        },
        coords={"run": runs, "outcome": table["outcome"].values},
        attrs={
            **settings.describe(),
            "kind": "ensemble_learning_coefficients",
            "task": task.name,
            "task_settings": json.dumps(task.settings()),
            "n": n,
            "beta": settings.beta if settings.beta is not None else 1.0 / np.log(n),
            "seed": seed if isinstance(seed, int) else "key",
            "versions": json.dumps(versions()),
        },
    )
