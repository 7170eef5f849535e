"""How much memory a training run takes, and how many fit in a budget."""

from __future__ import annotations

import jax

from ._ensemble import one_run
from ._training_task import TrainingTask


def run_bytes(task: TrainingTask, steps: int, log_every: int) -> int:
    """An estimate of the memory one run takes in a chunk: its record, and four
    copies of its state for the step's arguments, result and temporaries.

    **Arguments:**

    - `task`, `steps`, `log_every`: as for [`train_ensemble`][].

    **Returns:**

    The estimate in bytes.
    """
    key = jax.random.PRNGKey(0)
    state = jax.eval_shape(task.init, key)
    intervals = steps // log_every
    record = jax.eval_shape(lambda k: one_run(task, k, None, intervals, log_every)[:3], key)
    size = lambda tree: sum(leaf.size * leaf.dtype.itemsize for leaf in jax.tree.leaves(tree))  # noqa: E731
    return int(size(record) + 4 * size(state))


def chunk_size_for(
    task: TrainingTask, steps: int, log_every: int, memory_budget: float, batch_size: int = 16
) -> int:
    """The most runs whose chunk fits in `memory_budget` bytes, by [`run_bytes`][], in
    whole batches.

    **Raises:**

    - `ValueError`: not even one batch of runs fits.
    """
    per_run = run_bytes(task, steps, log_every)
    batches = int(memory_budget // (per_run * batch_size))
    if batches < 1:
        raise ValueError(
            f"a memory budget of {memory_budget:.3g} bytes cannot hold one batch of "
            f"{batch_size} runs ({per_run} bytes each)"
        )
    return batches * batch_size
