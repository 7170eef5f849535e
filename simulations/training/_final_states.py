"""The trained networks of an ensemble's runs, replayed from their keys."""

from __future__ import annotations

import json
import operator

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr
from jaxtyping import Int, PRNGKeyArray, PyTree

from ._ensemble import _checked_starts, run_keys, train_chunk
from ._ensemble_fractions import check_record
from ._training_task import TrainingTask

# Records written before batch sizes were recorded were trained in train_ensemble's
# default batches.
_DEFAULT_BATCH_SIZE = 16
_REPLAY_TOLERANCE = 1e-6


def _record_seed(record: xr.Dataset) -> int | PRNGKeyArray:
    seed = record.attrs["seed"]
    if isinstance(seed, str):
        return jnp.asarray(json.loads(seed), dtype=jnp.uint32)
    return int(seed)


def final_states(
    task: TrainingTask,
    record: xr.Dataset,
    run_indices: Int[np.ndarray, " selected"] | list[int],
    *,
    starts: PyTree | None = None,
) -> PyTree:
    r"""The trained state (the network's weights) at the last step of some runs of a
    [`train_ensemble`][] record.

    A record keeps what each run logged, not its weights; but a run is a function of
    its key (and its start), so it is replayed here, in vmapped batches of the size
    it was trained in (XLA's code, and so the last bits, depend on it; a run that
    amplifies them, leaving a plateau say, would otherwise end elsewhere). The replay
    is checked against the record: every logged quantity at every logged step, and
    the end state, must agree to $10^{-6}$.

    **Arguments:**

    - `task`: the task that trained `record`.
    - `record`: the result of [`train_ensemble`][].
    - `run_indices`: the indices of the runs in the record.
    - `starts`: the starts the record was trained from, if it was given some (all
      `n` of them, as passed to `train_ensemble`).

    **Returns:**

    The states, a pytree shaped as `task.init`'s result with a leading axis over
    `run_indices`.

    **Raises:**

    - `ValueError`: `record` is not a record of this task and settings, a run index is
      out of range, `starts` are misshapen, or the replay does not reproduce the
      record (the record was trained from starts that were not given, or by other
      code).
    """
    record = check_record(record, task)
    n, steps, log_every = (int(record.attrs[k]) for k in ("n", "steps", "log_every"))
    runs = np.asarray(run_indices, dtype=np.int64)
    if runs.ndim != 1 or runs.size == 0 or np.any((runs < 0) | (runs >= n)):
        raise ValueError(f"run_indices must be a non-empty list of run indices in [0, {n})")
    batch_size = int(record.attrs.get("batch_size", _DEFAULT_BATCH_SIZE))
    padded = np.resize(runs, -(-runs.size // batch_size) * batch_size)
    if starts is not None:
        starts, _ = _checked_starts(task, starts, n)
        starts = jax.tree.map(lambda leaf: leaf[padded][None], starts)
    keys = run_keys(_record_seed(record), padded)[None]
    path, _, label, states = jax.tree.map(
        operator.itemgetter(slice(runs.size)),
        train_chunk(task, keys, starts, steps // log_every, log_every, batch_size, True),
    )
    mismatched = [
        name
        for name, value in path.items()
        if not np.allclose(
            np.asarray(value),
            record[name].values[runs],
            rtol=_REPLAY_TOLERANCE,
            atol=_REPLAY_TOLERANCE,
            equal_nan=True,
        )
    ]
    if mismatched or np.any(np.asarray(label) != record["label"].values[runs]):
        raise ValueError(
            "the replayed runs do not reproduce the record"
            + (f" ({', '.join(mismatched)} differ)" if mismatched else " (end states differ)")
            + ": was it trained from starts that were not given, or by other code?"
        )
    return states
