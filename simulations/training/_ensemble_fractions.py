r"""The share of training runs that end in each end state, measured and predicted."""

from __future__ import annotations

import json
import statistics

import numpy as np
import xarray as xr
from jaxtyping import Int

from .._basin._wilson import wilson_interval
from ._training_task import TrainingTask


def check_record(record: object, task: TrainingTask | None = None) -> xr.Dataset:
    """`record` after checking that it is a record of `train_ensemble`, and, given
    `task`, that this task trained it.

    **Raises:**

    - `ValueError`: it is not, or a task of another name or settings trained it.
    """
    if not isinstance(record, xr.Dataset) or record.attrs.get("kind") != "training_ensemble":
        raise ValueError("expected a record of train_ensemble (attrs kind = 'training_ensemble')")
    if task is not None:
        if record.attrs["task"] != task.name:
            raise ValueError(f"record is of the task {record.attrs['task']!r}, not {task.name!r}")
        if json.loads(record.attrs["settings"]) != task.settings():
            raise ValueError("record was trained with other settings than this task's")
    return record


def _table(record: xr.Dataset, label: Int[np.ndarray, " run"], confidence: float) -> xr.Dataset:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    n = label.size
    names = record["end_state"].values
    counts = np.array([np.sum(label == k) for k in range(len(names))], dtype=np.int64)
    low, high = wilson_interval(counts, n, confidence)
    at_end = record["holds"].isel(step=-1).values
    along = record["holds"].values.all(axis=1)
    predicate_counts = at_end.sum(axis=0).astype(np.int64)
    along_counts = along.sum(axis=0).astype(np.int64)
    p_low, p_high = wilson_interval(predicate_counts, n, confidence)
    a_low, a_high = wilson_interval(along_counts, n, confidence)
    return xr.Dataset(
        {
            "outcome_name": ("outcome", names.astype(object)),
            "count": ("outcome", counts),
            "fraction": ("outcome", counts / n),
            "fraction_low": ("outcome", low),
            "fraction_high": ("outcome", high),
            "predicate_count": ("predicate", predicate_counts),
            "predicate_fraction": ("predicate", predicate_counts / n),
            "predicate_low": ("predicate", p_low),
            "predicate_high": ("predicate", p_high),
            "all_along_count": ("predicate", along_counts),
            "all_along_fraction": ("predicate", along_counts / n),
            "all_along_low": ("predicate", a_low),
            "all_along_high": ("predicate", a_high),
        },
        coords={"outcome": np.arange(len(names)), "predicate": record["predicate"].values},
        attrs={"n": n, "confidence": confidence, "task": record.attrs["task"]},
    )


def ensemble_fractions(record: xr.Dataset, confidence: float = 0.95) -> xr.Dataset:
    r"""The share of runs that end in each end state, with Wilson intervals: the
    table of [`basinlab.basin_fractions`][] for real training runs.

    The share of end state $A$ is the Monte Carlo estimate of $\Pr[\text{a run ends
    in } A]$ over the task's random initialisations and data streams, with the
    Wilson score interval at `confidence`.

    **Arguments:**

    - `record`: the result of [`train_ensemble`][].
    - `confidence`: of the intervals, in $(0, 1)$.

    **Returns:**

    An `xarray.Dataset` over `outcome` with `outcome_name`, `count`, `fraction`,
    `fraction_low` and `fraction_high`, and over `predicate` the share of runs where
    each predicate holds at the last logged step (`predicate_count`,
    `predicate_fraction`, `predicate_low`, `predicate_high`) and at every logged step
    (`all_along_count`, `all_along_fraction`, `all_along_low`, `all_along_high`).

    **Raises:**

    - `ValueError`: `record` is not a record of `train_ensemble`, or `confidence` is
      outside $(0, 1)$.
    """
    record = check_record(record)
    return _table(record, record["label"].values, confidence)


def predicted_fractions(
    task: TrainingTask,
    record: xr.Dataset,
    confidence: float = 0.95,
    *,
    fluctuations: bool = False,
    paths: int = 16,
    seed: int = 0,
) -> xr.Dataset:
    r"""The share of runs that the task's theory predicts to end in each end state,
    each run predicted from its own logged quantities at step 0: the theory pushed
    through the distribution of starts that the random initialisation induces.

    By default the theory is deterministic (the ODE of $D \to \infty$): each run gets
    one predicted end state, and the table is that of [`ensemble_fractions`][] for
    them. With `fluctuations`, each run gets a chance $p_{i,A}$ of each end state
    $A$ from `paths` paths of the theory with its finite-size noise
    (`task.predict_end_state_probabilities`). The predicted share is then
    $\bar p_A = \frac1n\sum_i p_{i,A}$, and `fraction_low`/`fraction_high` are the
    range in which the measured share lies with chance `confidence` if the theory is
    right, given these starts: $\bar p_A \pm z\,\sqrt{(1 + 1/\text{paths})
    \sum_i p_{i,A}(1 - p_{i,A})}/n$, the normal approximation of the measured count's
    Poisson-binomial law, widened by the paths' own Monte Carlo error.

    **Arguments:**

    - `task`: the task that trained `record`.
    - `record`: the result of [`train_ensemble`][].
    - `confidence`: of the intervals, in $(0, 1)$.
    - `fluctuations`: predict with the finite-size noise.
    - `paths`, `seed`: the theory's paths per run and their seed, with
      `fluctuations`.

    **Returns:**

    The table of [`ensemble_fractions`][] for the predicted end states (the
    predicates are the measured ones), with `label_predicted` over `run` (the most
    likely end state) and the attr `agreement`: the share of runs whose predicted
    end state is the measured one (with `fluctuations`, its expected value
    $\frac1n\sum_i p_{i,\text{label}_i}$). With `fluctuations` also
    `probability_predicted` over (run, outcome), and `count` is the expected count.

    **Raises:**

    - `ValueError`: `record` is not a record of `train_ensemble`, or was not trained
      by a task of this name and settings.
    - `NotImplementedError`: the task has no such theory.
    """
    record = check_record(record, task)
    measured = record["label"].values
    if not fluctuations:
        predicted = np.asarray(task.predict_end_states(record), dtype=np.int32)
        table = _table(record, predicted, confidence)
        table["label_predicted"] = ("run", predicted)
        table.attrs["agreement"] = float(np.mean(predicted == measured))
        return table
    chances = np.asarray(task.predict_end_state_probabilities(record, paths=paths, seed=seed))
    predicted = np.argmax(chances, axis=1).astype(np.int32)
    table = _table(record, predicted, confidence)
    n = chances.shape[0]
    share = chances.mean(axis=0)
    z = statistics.NormalDist().inv_cdf((1 + confidence) / 2)
    spread = z * np.sqrt((1 + 1 / paths) * np.sum(chances * (1 - chances), axis=0)) / n
    table["count"] = ("outcome", share * n)
    table["fraction"] = ("outcome", share)
    table["fraction_low"] = ("outcome", np.clip(share - spread, 0.0, 1.0))
    table["fraction_high"] = ("outcome", np.clip(share + spread, 0.0, 1.0))
    table["label_predicted"] = ("run", predicted)
    table["probability_predicted"] = (("run", "outcome"), chances)
    table.attrs["agreement"] = float(np.mean(chances[np.arange(n), measured]))
    table.attrs["paths"] = paths
    return table
