r"""The basin of real training runs on a plane through weight space."""

from __future__ import annotations

import pathlib

import numpy as np
import xarray as xr
from jaxtyping import Float

from ...theory._checks import check_count
from ._ensemble import train_ensemble
from ._start_record import start_record
from ._training_task import TrainingTask


def weight_plane_map(
    task: TrainingTask,
    origin: Float[np.ndarray, " dim"],
    directions: tuple[Float[np.ndarray, " dim"], Float[np.ndarray, " dim"]],
    a: Float[np.ndarray, " a"],
    b: Float[np.ndarray, " b"],
    *,
    steps: int,
    log_every: int,
    streams: int = 4,
    seed: int = 0,
    checkpoint_dir: str | pathlib.Path | None = None,
    progress: bool = True,
) -> xr.Dataset:
    r"""Where real runs end from each start $w_0 = o + a\,u + b\,v$ on a grid of a
    plane through weight space, and where the task's theory says they end.

    Each grid point is trained `streams` times, each with its own data stream (run
    keys as in [`train_ensemble`][]); the share of those runs per end state is the
    measured map. The theory predicts each point's end state from its start alone
    (`task.predict_end_states`), so its boundary can be drawn on the measured map.

    **Arguments:**

    - `task`: a [`TrainingTask`][] whose state is one array.
    - `origin`, `directions`: $o$ and $(u, v)$, arrays shaped as the state.
    - `a`, `b`: the grid's coordinates along $u$ and $v$.
    - `steps`, `log_every`, `seed`, `checkpoint_dir`, `progress`: as for
      `train_ensemble`.
    - `streams`: runs per grid point.

    **Returns:**

    An `xarray.Dataset` over `(end_state, a, b)` with the measured `fraction` of
    runs, and over `(a, b)` the theory's `label_predicted` (-1 where the task has no
    theory); the logged quantities at each start are kept over `(a, b)` as
    `start_<name>`.

    **Raises:**

    - `ValueError`: the origin and directions are not shaped as one state, or a
      count is below 1.
    """
    origin = np.asarray(origin, float)
    u, v = (np.asarray(d, float) for d in directions)
    if not origin.shape == u.shape == v.shape:
        raise ValueError(
            f"origin and directions must share one shape, got {origin.shape}, {u.shape}, {v.shape}"
        )
    check_count(streams, "streams")
    a, b = np.asarray(a, float), np.asarray(b, float)
    grid_a, grid_b = np.meshgrid(a, b, indexing="ij")
    points = origin + grid_a.ravel()[:, None] * u + grid_b.ravel()[:, None] * v
    starts = np.repeat(points, streams, axis=0)
    record = train_ensemble(
        task,
        n=starts.shape[0],
        steps=steps,
        log_every=log_every,
        seed=seed,
        starts=starts,
        checkpoint_dir=checkpoint_dir,
        progress=progress,
    )
    names = [str(name) for name in record["end_state"].values]
    label = record["label"].values.reshape(a.size, b.size, streams)
    fraction = np.stack([(label == k).mean(axis=-1) for k in range(len(names))])
    at_points = start_record(task, points, steps)
    try:
        predicted = np.asarray(task.predict_end_states(at_points)).reshape(a.size, b.size)
    except NotImplementedError:
        predicted = np.full((a.size, b.size), -1)
    starts_logged = {
        f"start_{name}": (("a", "b"), at_points[name].values[:, 0].reshape(a.size, b.size))
        for name in at_points.data_vars
    }
    return xr.Dataset(
        {
            "fraction": (("end_state", "a", "b"), fraction),
            "label_predicted": (("a", "b"), predicted.astype(np.int32)),
            **starts_logged,
        },
        coords={"end_state": names, "a": a, "b": b},
        attrs={
            "kind": "weight_plane_map",
            "task": task.name,
            "steps": steps,
            "streams": streams,
            "seed": seed,
        },
    )
