r"""The smallest shock to a trained network after which continued training ends in
another end state, bracketed by bisection on real runs and on the task's theory."""

from __future__ import annotations

import numpy as np
import xarray as xr
from jaxtyping import Float

from ...theory._checks import check_count, check_positive
from .._engine._progress import Progress
from ._ensemble import train_ensemble
from ._start_record import start_record
from ._training_task import TrainingTask


def _shocked(trained: np.ndarray, units: np.ndarray, size: np.ndarray) -> np.ndarray:
    return trained + (size * np.linalg.norm(trained))[:, None] * units


def minimal_fine_tuning_shock(
    task: TrainingTask,
    trained: Float[np.ndarray, " dim"],
    directions: Float[np.ndarray, "direction dim"],
    *,
    steps: int,
    log_every: int,
    end_state: int = 0,
    streams: int = 4,
    max_shock: float = 4.0,
    bisections: int = 10,
    seed: int = 0,
    progress: bool = True,
) -> xr.Dataset:
    r"""The smallest relative shock $\varepsilon = \|\delta\|/\|w\|$ along each direction
    after which continued training no longer ends in `end_state`.

    The trained weights $w$ get $\delta = \varepsilon\,\|w\|\,\hat d$ and are trained
    on for `steps` steps, `streams` times with different data streams (the same
    streams at every $\varepsilon$). A shock *leaves* the end state when most of those
    runs end elsewhere. Bisection on $[0, $ `max_shock`$]$ brackets the smallest such
    $\varepsilon$ along each direction, all directions in one ensemble per round. The
    theory's bracket comes from the same bisection on `task.predict_end_states` of
    the shocked starts: for the RL perceptron, the ODE's critical shock in order-
    parameter space along the image of the same direction. It is the minimal
    critical shock of P. Halekotte and U. Feudel (Sci. Rep. 10, 11783, 2020) along
    given directions, measured on real training.

    **Arguments:**

    - `task`: a [`TrainingTask`][] whose state is one array.
    - `trained`: the trained weights $w$.
    - `directions`: one direction per row (normalised here).
    - `steps`, `log_every`, `seed`: of the continued training, as for
      [`train_ensemble`][].
    - `end_state`: the index of the end state to leave (0, `aligned`, for the RL
      perceptron).
    - `streams`: runs per shock.
    - `max_shock`: the largest $\varepsilon$ tried.
    - `bisections`: halvings of each bracket.
    - `progress`: show a progress bar in rounds.

    **Returns:**

    An `xarray.Dataset` over `direction` with `shock_low` and `shock_high` (the runs'
    bracket: $\varepsilon$ at `shock_low` stays, at `shock_high` leaves) and
    `theory_low`, `theory_high`; a bracket is `[0, 0]` where the unshocked weights
    already leave and `[max_shock, inf]` where even `max_shock` does not.

    **Raises:**

    - `ValueError`: shapes that do not match, a direction of zero length, or a count
      or size that is not positive.
    """
    trained = np.asarray(trained, float)
    directions = np.atleast_2d(np.asarray(directions, float))
    if directions.shape[1:] != trained.shape or trained.ndim != 1:
        raise ValueError(
            f"directions must be rows shaped as the weights {trained.shape}, got {directions.shape}"
        )
    lengths = np.linalg.norm(directions, axis=1)
    if np.any(lengths == 0):
        raise ValueError("a direction has zero length")
    for value, name in ((streams, "streams"), (bisections, "bisections")):
        check_count(value, name)
    check_positive(max_shock, "max_shock")
    units = directions / lengths[:, None]
    m = units.shape[0]

    def leaves_by_runs(size: np.ndarray) -> np.ndarray:
        starts = np.repeat(_shocked(trained, units, size), streams, axis=0)
        record = train_ensemble(
            task,
            n=m * streams,
            steps=steps,
            log_every=log_every,
            seed=seed,
            starts=starts,
            progress=False,
        )
        left = (record["label"].values != end_state).reshape(m, streams)
        return left.mean(axis=1) > 0.5

    def leaves_by_theory(size: np.ndarray) -> np.ndarray:
        record = start_record(task, _shocked(trained, units, size), steps)
        return np.asarray(task.predict_end_states(record)) != end_state

    brackets = {}
    with Progress(2 * (bisections + 2), "bisecting shocks", progress, unit="round") as bar:
        for name, leaves in (("shock", leaves_by_runs), ("theory", leaves_by_theory)):
            low, high = np.zeros(m), np.full(m, float(max_shock))
            at_zero, at_largest = leaves(low), leaves(high)
            bar.advance(2)
            for _ in range(bisections):
                middle = (low + high) / 2
                left = leaves(middle)
                low, high = np.where(left, low, middle), np.where(left, middle, high)
                bar.advance(1)
            low, high = np.where(at_zero, 0.0, low), np.where(at_zero, 0.0, high)
            low = np.where(~at_largest & ~at_zero, max_shock, low)
            high = np.where(~at_largest & ~at_zero, np.inf, high)
            brackets[f"{name}_low"], brackets[f"{name}_high"] = low, high
    return xr.Dataset(
        {key: ("direction", value) for key, value in brackets.items()},
        coords={"direction": np.arange(m)},
        attrs={
            "kind": "fine_tuning_shock",
            "task": task.name,
            "steps": steps,
            "streams": streams,
            "end_state": end_state,
            "seed": seed,
        },
    )
