r"""Many training runs of one task at once: each run with its own key, vmapped over
runs, split over the local devices, in chunks that are written to disk as they
finish."""

from __future__ import annotations

import hashlib
import json
import operator
import pathlib

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr
from jaxtyping import PRNGKeyArray, PyTree

from ...theory._checks import check_count
from .._engine._checkpoint import ChunkStore
from .._engine._distribute import batch_placement, usable_cores
from .._engine._processes import share_chunks
from .._engine._progress import Progress
from .._engine._provenance import versions
from .._engine._random_key import random_key
from ._training_task import TrainingTask


def run_keys(seed: int | PRNGKeyArray, indices: np.ndarray) -> PRNGKeyArray:
    """The key of each run: the seed's key folded with the run's index, so a run does
    not depend on which chunk it is trained in."""
    root = random_key(seed)
    return jax.vmap(lambda i: jax.random.fold_in(root, i))(jnp.asarray(indices))


def one_run(
    task: TrainingTask, key: PRNGKeyArray, start: PyTree | None, intervals: int, log_every: int
):
    """One run from its key (or its given start): its logged path, where each predicate
    holds, its end state and its final state."""
    init_key, data_key = jax.random.split(key)
    state = task.init(init_key) if start is None else start

    def interval(state, first_step):
        def one_step(index, state):
            return task.step(state, jax.random.fold_in(data_key, index), index)

        state = jax.lax.fori_loop(first_step, first_step + log_every, one_step, state)
        return state, task.observe(state)

    first = task.observe(state)
    state, logged = jax.lax.scan(interval, state, jnp.arange(intervals) * log_every)
    path = {k: jnp.concatenate([first[k][None], logged[k]]) for k in first}
    holds = jax.vmap(task.predicates)(path)
    final = {k: v[-1] for k, v in path.items()}
    return path, holds, task.end_state(final), state


@eqx.filter_jit
def train_chunk(
    task: TrainingTask,
    keys: PRNGKeyArray,
    starts: PyTree | None,
    intervals: int,
    log_every: int,
    batch_size: int,
    keep_states: bool = False,
):
    """Runs in vmapped batches of `batch_size`, their keys and starts with a leading
    axis of one group per device: each run's path, predicates, end state, and with
    `keep_states` its final state."""

    # Every run is trained in a vmapped batch of the same size, whatever the chunk:
    # XLA's code for a batch depends on its size, and so would the last bits.
    def in_batches(tree):
        return jax.tree.map(lambda v: v.reshape(-1, batch_size, *v.shape[1:]), tree)

    def group(group_keys, group_starts):
        def batch(pair):
            batch_keys, batch_starts = pair

            def run(key, start):
                outputs = one_run(task, key, start, intervals, log_every)
                return outputs if keep_states else outputs[:3]

            return jax.vmap(run)(batch_keys, batch_starts)

        return jax.lax.map(batch, (in_batches(group_keys), in_batches(group_starts)))

    outputs = jax.vmap(group)(keys, starts)
    return jax.tree.map(lambda v: v.reshape(-1, *v.shape[3:]), outputs)


def _checked_starts(task: TrainingTask, starts: PyTree, n: int) -> tuple[PyTree, str]:
    """`starts` as arrays of the task's dtypes, and their SHA-256, after checking that
    they are `n` finite states of `task`."""
    state = jax.eval_shape(task.init, jax.random.PRNGKey(0))
    wanted, given = jax.tree.leaves(state), jax.tree.leaves(starts)
    if jax.tree.structure(state) != jax.tree.structure(starts) or any(
        np.shape(g) != (n, *w.shape) for w, g in zip(wanted, given)
    ):
        shapes = [(n, *w.shape) for w in wanted]
        raise ValueError(f"starts must be {n} states of the task: arrays shaped {shapes}")
    starts = jax.tree.map(lambda w, g: np.asarray(g, w.dtype), state, starts)
    digest = hashlib.sha256()
    for leaf in jax.tree.leaves(starts):
        if not np.all(np.isfinite(leaf)):
            raise ValueError("starts must be finite")
        digest.update(np.ascontiguousarray(leaf).tobytes())
    return starts, digest.hexdigest()


def train_ensemble(
    task: TrainingTask,
    *,
    n: int,
    steps: int,
    log_every: int,
    seed: int | PRNGKeyArray = 0,
    starts: PyTree | None = None,
    chunk_size: int = 256,
    batch_size: int = 16,
    workers: int | None = None,
    checkpoint_dir: str | pathlib.Path | None = None,
    progress: bool = True,
) -> xr.Dataset:
    r"""Train `n` runs of `task`, vmapped over runs, `chunk_size` runs at a time.

    Run $i$ draws everything from the key $k_i$ = `fold_in(key(seed), i)`: its start
    from the first half of `split(k_i)` (unless `starts` gives it), step $s$ from
    `fold_in` of the second half and $s$. A run is therefore the same whatever the
    chunk it falls in. With several local devices each chunk is split over them, a
    whole number of batches each. In a run over several processes
    ([`basinlab.join_processes`][], a `checkpoint_dir` they all share) each process
    trains every `process_count`-th chunk and reads the others', and each returns the
    whole record.

    **Arguments:**

    - `task`: a [`TrainingTask`][].
    - `n`: the number of runs.
    - `steps`: training steps per run, a multiple of `log_every`.
    - `log_every`: steps between logged states.
    - `seed`: an int or a PRNG key.
    - `starts`: the state of each run at step 0, a PyTree shaped as `task.init`'s
      result with a leading axis of length `n` (weights on a plane through weight
      space, say, or trained weights given a shock); `None` to draw them.
    - `chunk_size`: runs trained in one compiled call, at most a worker's (or over
      several processes, a process's) share of `n`, rounded up to a whole number of
      batches on each device; each finished chunk is written to `checkpoint_dir` and
      read back by a rerun of the same work.
    - `batch_size`: runs trained in lockstep (vmapped) on one device. Results do not
      depend on `chunk_size`; they may differ in their last bits between batch sizes.
    - `workers`: chunks trained at once, in threads; by default one per CPU core when
      JAX has one CPU device, else one.
    - `checkpoint_dir`: a folder for finished chunks, or `None`.
    - `progress`: show a progress bar in runs.

    **Returns:**

    An `xarray.Dataset` (attrs `kind = "training_ensemble"`) with each logged
    quantity over `(run, step)`, `holds` over `(run, step, predicate)` and the end
    state `label` over `run`, an index into the coordinate `end_state`; the attrs
    hold the task's settings, `n`, `steps`, the seed and the package versions.

    **Raises:**

    - `ValueError`: a count below 1, `steps` not a multiple of `log_every`, or
      `starts` not shaped as `n` states of the task.
    """
    for value, name in ((n, "n"), (steps, "steps"), (log_every, "log_every")):
        check_count(value, name)
    check_count(chunk_size, "chunk_size")
    check_count(batch_size, "batch_size")
    if steps % log_every:
        raise ValueError(f"steps = {steps} must be a multiple of log_every = {log_every}")
    placement = batch_placement()
    groups = 1 if placement is None else placement.devices
    # One CPU device: XLA runs each call on one core, so chunks in threads keep every
    # core busy. Several devices, or an accelerator: one call fills them.
    alone_on_cpu = placement is None and jax.default_backend() == "cpu"
    if workers is None:
        workers = usable_cores() if alone_on_cpu else 1
    check_count(workers, "workers")
    whole_batches = batch_size * groups
    # No larger than each worker's share of the work, so a small ensemble pads at most
    # one batch per device and still keeps every worker busy. Over several processes,
    # each process's share: the chunks must be laid out alike in all of them.
    sharers = workers if jax.process_count() == 1 else jax.process_count()
    chunk_size = -(-min(chunk_size, -(-n // sharers)) // whole_batches) * whole_batches
    intervals = steps // log_every
    seed_record = seed if isinstance(seed, int) else json.dumps(np.asarray(seed).tolist())
    starts_digest = None
    if starts is not None:
        starts, starts_digest = _checked_starts(task, starts, n)
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
            "starts": starts_digest,
            "versions": versions(),
        },
        np.array([n], dtype=float),
    )

    chunks: dict[int, dict[str, np.ndarray]] = {}

    def train(index: int) -> None:
        first = index * chunk_size
        indices = np.arange(first, min(first + chunk_size, n))
        arrays = store.read(index)
        if arrays is None:
            padded = np.resize(indices, chunk_size)  # one compiled shape for every chunk
            keys = run_keys(seed, padded)
            chunk_starts = jax.tree.map(operator.itemgetter(padded), starts)
            keys, chunk_starts = jax.tree.map(
                lambda v: v.reshape(groups, -1, *v.shape[1:]), (keys, chunk_starts)
            )
            if placement is not None:
                keys, chunk_starts = jax.tree.map(placement.rows, (keys, chunk_starts))
            path, holds, label = train_chunk(
                task, keys, chunk_starts, intervals, log_every, batch_size
            )
            arrays = {f"path/{k}": np.asarray(v)[: len(indices)] for k, v in path.items()}
            arrays |= {f"holds/{k}": np.asarray(v)[: len(indices)] for k, v in holds.items()}
            arrays["label"] = np.asarray(label)[: len(indices)]
            store.write(index, arrays)
        received(index, arrays)

    def received(index: int, arrays: dict[str, np.ndarray]) -> None:
        bar.advance(len(arrays["label"]))
        chunks[index] = arrays

    with Progress(n, f"training {task.name}", progress, unit="run") as bar:
        share_chunks(store, -(-n // chunk_size), train, received, workers)
    ordered = [chunks[index] for index in sorted(chunks)]
    joined = {k: np.concatenate([c[k] for c in ordered]) for k in ordered[0]}
    predicates = [k.removeprefix("holds/") for k in joined if k.startswith("holds/")]
    observables = {
        k.removeprefix("path/"): (("run", "step"), v)
        for k, v in joined.items()
        if k.startswith("path/")
    }
    return xr.Dataset(
        {
            **observables,
            "holds": (
                ("run", "step", "predicate"),
                np.stack([joined[f"holds/{k}"] for k in predicates], axis=-1),
            ),
            "label": ("run", joined["label"].astype(np.int32)),
        },
        coords={
            "run": np.arange(n),
            "step": np.arange(intervals + 1) * log_every,
            "predicate": predicates,
            "end_state": list(task.end_state_names),
        },
        attrs={
            "kind": "training_ensemble",
            "task": task.name,
            "settings": json.dumps(task.settings()),
            "n": n,
            "steps": steps,
            "log_every": log_every,
            "batch_size": batch_size,
            "seed": seed_record,
            "versions": json.dumps(versions()),
        },
    )
