"""Predicates over whole trajectories: at the end, all along, and the first failure.

They read the results of `trajectories` (over `trajectory` and `time`) and the records
of `train_ensemble` (over `run` and `step`) alike.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

# The path axis and the ensemble axis of each kind of result.
_AXES = {"trajectories": ("trajectory", "time"), "training_ensemble": ("run", "step")}


def _holds(result: xr.Dataset, predicate: str) -> xr.DataArray:
    if not isinstance(result, xr.Dataset) or result.attrs.get("kind") not in _AXES:
        raise ValueError(
            "a trajectory predicate needs a result of basinlab.trajectories or of train_ensemble"
        )
    names = [str(p) for p in result["predicate"].values]
    if predicate not in names:
        raise ValueError(f"unknown predicate {predicate!r}; the model's predicates are {names}")
    return result["holds"].sel(predicate=predicate)


def holds_at_end(result: xr.Dataset, predicate: str) -> xr.DataArray:
    """Whether `predicate` holds at each trajectory's last saved time.

    **Arguments:**

    - `result`: a dataset from [`basinlab.trajectories`][], or a record of
      [`train_ensemble`][].
    - `predicate`: the name of one of the model's predicates.

    **Returns:**

    A boolean `xarray.DataArray` over `trajectory` (over `run` for a record).

    **Raises:**

    - `ValueError`: `result` is neither a trajectories result nor a record, or the
      predicate is unknown.
    """
    holds = _holds(result, predicate)
    along = _AXES[result.attrs["kind"]][1]
    return holds.isel({along: -1}).drop_vars([along, "predicate"])


def holds_all_along(result: xr.Dataset, predicate: str) -> xr.DataArray:
    r"""Whether `predicate` holds at every saved time of each trajectory.

    "Holds all along" is a property of the whole path, not of where it ends: a run
    can end where alignment holds after having lagged on the way. It is checked at
    the saved `times`, so a violation shorter than their spacing can be missed; save
    densely where that matters.

    **Arguments:**

    - `result`: a dataset from [`basinlab.trajectories`][], or a record of
      [`train_ensemble`][].
    - `predicate`: the name of one of the model's predicates.

    **Returns:**

    A boolean `xarray.DataArray` over `trajectory` (over `run` for a record).

    **Raises:**

    - `ValueError`: `result` is neither a trajectories result nor a record, or the
      predicate is unknown.
    """
    holds = _holds(result, predicate)
    return holds.all(_AXES[result.attrs["kind"]][1]).drop_vars("predicate")


def first_violation(result: xr.Dataset, predicate: str) -> xr.DataArray:
    """The first saved time at which `predicate` fails on each trajectory; NaN where it
    holds all along.

    **Raises:**

    - `ValueError`: `result` is neither a trajectories result nor a record, or the
      predicate is unknown.
    """
    holds = _holds(result, predicate)
    ensemble, along = _AXES[result.attrs["kind"]]
    failed = ~holds.transpose(ensemble, along).values
    times = result[along].values.astype(float)
    first = np.where(failed.any(axis=1), times[np.argmax(failed, axis=1)], np.nan)
    return xr.DataArray(first, coords={ensemble: result[ensemble].values}, dims=ensemble)
