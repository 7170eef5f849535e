"""A record of starts alone, for a task's theory to predict where they end."""

from __future__ import annotations

import json

import jax
import numpy as np
import xarray as xr
from jaxtyping import PyTree

from ._training_task import TrainingTask


def start_record(task: TrainingTask, starts: PyTree, steps: int) -> xr.Dataset:
    """The logged quantities of `starts` at step 0, shaped as a record of
    `train_ensemble` that trained them for `steps`, so that
    `task.predict_end_states` reads it; no run is trained.

    **Arguments:**

    - `task`: the task.
    - `starts`: states of the task with a leading axis over runs.
    - `steps`: the steps the prediction is for.

    **Returns:**

    An `xarray.Dataset` with each logged quantity over `(run, step)`, one step.
    """
    observed = jax.vmap(task.observe)(starts)
    n = len(next(iter(observed.values())))
    return xr.Dataset(
        {name: (("run", "step"), np.asarray(v)[:, None]) for name, v in observed.items()},
        coords={"run": np.arange(n), "step": [0]},
        attrs={
            "kind": "training_ensemble",
            "task": task.name,
            "settings": json.dumps(task.settings()),
            "steps": steps,
        },
    )
