r"""Many training runs of one task at once: each run with its own key, vmapped over
runs, in chunks that are written to disk as they finish.

Work in progress for the issue "Basins of real networks" (branch only): the engine
and its record; the tasks, the CLI and the comparison with theory come next.
"""

from __future__ import annotations

import abc
import json
import pathlib

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr
from jaxtyping import Array, Bool, PRNGKeyArray, PyTree, Scalar

from ...theory._checks import check_count
from .._basin._wilson import wilson_interval
from .._engine._checkpoint import ChunkStore
from .._engine._progress import Progress
from .._engine._provenance import versions
from .._engine._random_key import random_key


class TrainingTask(eqx.Module):
    """One network and one data stream, to be trained many times.

    A subclass says how a run starts, what one step does, what is logged and which
    outcomes a finished run is tested for. Everything random comes from the keys it
    is given, so a run is a function of its key alone.
    """

    @property
    @abc.abstractmethod
    def name(self) -> str:
        """A short name for records and file names."""

    @abc.abstractmethod
    def settings(self) -> dict[str, object]:
        """Every setting of the task, JSON-able: it keys the chunks on disk."""

    @abc.abstractmethod
    def init(self, key: PRNGKeyArray) -> PyTree:
        """The state of a run at step 0."""

    @abc.abstractmethod
    def step(self, state: PyTree, key: PRNGKeyArray, index: Array) -> PyTree:
        """The state after step `index`, drawn with `key`."""

    @abc.abstractmethod
    def observe(self, state: PyTree) -> dict[str, Scalar]:
        """The logged quantities of a state, each a scalar."""

    @abc.abstractmethod
    def outcomes(self, observed: dict[str, Scalar]) -> dict[str, Bool[Array, ""]]:
        """Whether each outcome holds, from the last logged quantities."""


def run_keys(seed: int | PRNGKeyArray, indices: np.ndarray) -> PRNGKeyArray:
    """The key of each run: the seed's key folded with the run's index, so a run does
    not depend on which chunk it is trained in."""
    root = random_key(seed)
    return jax.vmap(lambda i: jax.random.fold_in(root, i))(jnp.asarray(indices))


def _one_run(task: TrainingTask, key: PRNGKeyArray, intervals: int, log_every: int):
    init_key, data_key = jax.random.split(key)
    state = task.init(init_key)

    def interval(state, start):
        def one_step(index, state):
            return task.step(state, jax.random.fold_in(data_key, index), index)

        state = jax.lax.fori_loop(start, start + log_every, one_step, state)
        return state, task.observe(state)

    first = task.observe(state)
    state, logged = jax.lax.scan(interval, state, jnp.arange(intervals) * log_every)
    path = {k: jnp.concatenate([first[k][None], logged[k]]) for k in first}
    final = {k: v[-1] for k, v in path.items()}
    return path, task.outcomes(final)


@eqx.filter_jit
def _train_chunk(
    task: TrainingTask, keys: PRNGKeyArray, intervals: int, log_every: int, batch_size: int
):
    # Every run is trained in a vmapped batch of the same size, whatever the chunk:
    # XLA's code for a batch depends on its size, and so would the last bits.
    batches = keys.reshape(-1, batch_size, *keys.shape[1:])

    def batch(batch_keys):
        return jax.vmap(lambda key: _one_run(task, key, intervals, log_every))(batch_keys)

    outputs = jax.lax.map(batch, batches)
    return jax.tree.map(lambda v: v.reshape(-1, *v.shape[2:]), outputs)


def train_ensemble(
    task: TrainingTask,
    *,
    n: int,
    steps: int,
    log_every: int,
    seed: int | PRNGKeyArray = 0,
    chunk_size: int = 256,
    batch_size: int = 16,
    checkpoint_dir: str | pathlib.Path | None = None,
    progress: bool = True,
) -> xr.Dataset:
    r"""Train `n` runs of `task`, vmapped over runs, `chunk_size` runs at a time.

    Run $i$ draws everything from the key $k_i$ = `fold_in(key(seed), i)`: its start
    from the first half of `split(k_i)`, step $s$ from `fold_in` of the second half
    and $s$. A run is therefore the same whatever the chunk it falls in.

    **Arguments:**

    - `task`: a [`TrainingTask`][].
    - `n`: the number of runs.
    - `steps`: training steps per run, a multiple of `log_every`.
    - `log_every`: steps between logged states.
    - `seed`: an int or a PRNG key.
    - `chunk_size`: runs trained in one compiled call, rounded up to a multiple of
      `batch_size`; each finished chunk is written to `checkpoint_dir` and read back
      by a rerun of the same work.
    - `batch_size`: runs trained in lockstep (vmapped). Results do not depend on
      `chunk_size`; they may differ in their last bits between batch sizes.
    - `checkpoint_dir`: a folder for finished chunks, or `None`.
    - `progress`: show a progress bar in runs.

    **Returns:**

    An `xarray.Dataset` with each logged quantity over `(run, step)` and `holds`
    over `(run, outcome)`; the attrs hold the task's settings, `n`, `steps`, the seed
    and the package versions.

    **Raises:**

    - `ValueError`: a count below 1, or `steps` not a multiple of `log_every`.
    """
    for value, name in ((n, "n"), (steps, "steps"), (log_every, "log_every")):
        check_count(value, name)
    check_count(chunk_size, "chunk_size")
    check_count(batch_size, "batch_size")
    chunk_size = -(-chunk_size // batch_size) * batch_size
    if steps % log_every:
        raise ValueError(f"steps = {steps} must be a multiple of log_every = {log_every}")
    intervals = steps // log_every
    seed_record = seed if isinstance(seed, int) else json.dumps(np.asarray(seed).tolist())
    store = ChunkStore.open(
        checkpoint_dir,
        {
            "task": task.name,
            "settings": task.settings(),
            "steps": steps,
            "log_every": log_every,
            "seed": seed_record,
            "chunk_size": chunk_size,
            "batch_size": batch_size,
            "versions": versions(),
        },
        np.array([n], dtype=float),
    )
    chunks = []
    with Progress(n, f"training {task.name}", progress, unit="run") as bar:
        for index, first in enumerate(range(0, n, chunk_size)):
            indices = np.arange(first, min(first + chunk_size, n))
            arrays = store.read(index)
            if arrays is None:
                padded = np.resize(indices, chunk_size)  # one compiled shape for every chunk
                keys = run_keys(seed, padded)
                path, holds = _train_chunk(task, keys, intervals, log_every, batch_size)
                arrays = {f"path/{k}": np.asarray(v)[: len(indices)] for k, v in path.items()}
                arrays |= {f"holds/{k}": np.asarray(v)[: len(indices)] for k, v in holds.items()}
                store.write(index, arrays)
            chunks.append(arrays)
            bar.advance(len(indices))
    joined = {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}
    outcomes = [k.removeprefix("holds/") for k in joined if k.startswith("holds/")]
    return xr.Dataset(
        {
            **{
                k.removeprefix("path/"): (("run", "step"), v)
                for k, v in joined.items()
                if k.startswith("path/")
            },
            "holds": (
                ("run", "outcome"),
                np.stack([joined[f"holds/{k}"] for k in outcomes], axis=1),
            ),
        },
        coords={
            "run": np.arange(n),
            "step": np.arange(intervals + 1) * log_every,
            "outcome": outcomes,
        },
        attrs={
            "experiment": "training_ensemble",
            "task": task.name,
            "settings": json.dumps(task.settings()),
            "n": n,
            "steps": steps,
            "seed": seed_record,
            "versions": json.dumps(versions()),
        },
    )


def ensemble_fractions(record: xr.Dataset, confidence: float = 0.95) -> xr.Dataset:
    """The share of runs for which each outcome holds, with Wilson intervals.

    **Arguments:**

    - `record`: the result of [`train_ensemble`][].
    - `confidence`: of the intervals.

    **Returns:**

    An `xarray.Dataset` over `outcome` with `count`, `fraction`, `fraction_low` and
    `fraction_high`.
    """
    holds = record["holds"].values
    counts = holds.sum(axis=0)
    low, high = wilson_interval(counts, holds.shape[0], confidence)
    return xr.Dataset(
        {
            "count": ("outcome", counts),
            "fraction": ("outcome", counts / holds.shape[0]),
            "fraction_low": ("outcome", low),
            "fraction_high": ("outcome", high),
        },
        coords={"outcome": record["outcome"].values},
        attrs={"n": holds.shape[0], "confidence": confidence, "task": record.attrs["task"]},
    )
