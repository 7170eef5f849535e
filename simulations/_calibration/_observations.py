"""Logged trajectories and priors, checked against a model before a fit."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np
import numpyro.distributions as dist
import xarray as xr

from .._engine._compile import CompiledModel

NOISE = "noise"
TIME_OFFSET = "time_offset"
TIME_SCALE = "time_scale"
_SPECIAL = (NOISE, TIME_OFFSET, TIME_SCALE)


@dataclasses.dataclass(frozen=True)
class Observations:
    """Observed values of some of a model's states and observables over time.

    **Fields:**

    - `times`: strictly increasing observation times, shape `(T,)`.
    - `names`: the observed quantities, each a state or an observable of the model.
    - `values`: shape `(T, len(names))`, all finite.
    - `state_columns`: for each name, its index in the state, or -1.
    - `observable_columns`: for each name, its index among the observables, or -1.
    - `first_state`: the state at `times[0]`, NaN where the data do not log a state;
      `None` when they log none.
    """

    times: np.ndarray
    names: tuple[str, ...]
    values: np.ndarray
    state_columns: np.ndarray
    observable_columns: np.ndarray
    first_state: np.ndarray | None

    def __post_init__(self):
        assert self.values.shape == (len(self.times), len(self.names))
        assert np.all(np.diff(self.times) > 0) and np.all(np.isfinite(self.values))
        assert np.all((self.state_columns >= 0) != (self.observable_columns >= 0))


def as_observations(
    compiled: CompiledModel, data: xr.Dataset, observed: Sequence[str] | None = None
) -> Observations:
    """Check logged data against a model and pick out the observed quantities.

    The data are an `xarray.Dataset` over a `time` coordinate. A quantity is found as
    a data variable over `time` named after a state or an observable, or as a column
    of a variable `y` over `(time, state)` whose `state` coordinate holds the model's
    state names (as in a run of [`basinlab.trajectories`][] or a real training run).

    **Arguments:**

    - `compiled`: the model.
    - `data`: the logged data.
    - `observed`: the names to fit; by default every observable and state the data
      hold.

    **Returns:**

    The [`Observations`][].

    **Raises:**

    - `ValueError`: no `time` coordinate, times that are not strictly increasing or
      not finite, a `y` whose number of states differs from the model's or whose
      state names are not the model's, a name that is neither a state nor an
      observable of the model, a name the data do not hold, or NaN in the data.
    - `TypeError`: `data` is not an `xarray.Dataset`.
    """
    if not isinstance(data, xr.Dataset):
        raise TypeError(f"observations must be an xarray.Dataset, got {type(data).__name__}")
    if "time" not in data.coords or data["time"].ndim != 1:
        raise ValueError("observations need a 1-D 'time' coordinate")
    times = np.asarray(data["time"].values, dtype=float)
    if times.size < 2 or not np.all(np.isfinite(times)) or np.any(np.diff(times) <= 0):
        raise ValueError("observation times must be finite and strictly increasing")
    states, observables = list(compiled.state_names), list(compiled.observable_names)
    columns: dict[str, np.ndarray] = {}
    if "y" in data:
        y = data["y"]
        if y.dims != ("time", "state"):
            raise ValueError(f"observations 'y' must be over (time, state), got {y.dims}")
        if y.sizes["state"] != len(states):
            raise ValueError(
                f"the data have {y.sizes['state']} states but the model "
                f"{compiled.name!r} has {len(states)}"
            )
        names = [str(s) for s in y["state"].values]
        if names != states:
            raise ValueError(f"the data's states {names} are not the model's {states}")
        columns |= {name: y.values[:, i] for i, name in enumerate(states)}
    for name, variable in data.data_vars.items():
        if name in states or name in observables:
            if variable.dims != ("time",):
                raise ValueError(f"observations {name!r} must be over (time,), got {variable.dims}")
            columns[str(name)] = variable.values
    # The first logged value of each state, from `y` or from a variable named after it.
    first = np.array([float(columns[s][0]) if s in columns else np.nan for s in states])
    first_state = first if np.any(np.isfinite(first)) else None
    if observed is None:
        chosen = [n for n in (*observables, *states) if n in columns]
        if not chosen:
            raise ValueError(
                f"the observations hold none of the states {states} or observables "
                f"{observables} of the model {compiled.name!r}, neither as a variable over "
                f"time nor as a column of 'y'; their variables are {sorted(map(str, data))}"
            )
    else:
        chosen = observed
    if isinstance(chosen, str) or not chosen:
        raise ValueError(f"observed must be a non-empty sequence of names, got {chosen!r}")
    for name in chosen:
        if name not in states and name not in observables:
            raise ValueError(
                f"{name!r} is neither a state nor an observable of the model "
                f"{compiled.name!r} (states {states}, observables {observables})"
            )
        if name not in columns:
            raise ValueError(f"the observations do not hold {name!r}")
        if not np.all(np.isfinite(np.asarray(columns[name], dtype=float))):
            raise ValueError(f"the observations of {name!r} hold NaN or infinite values")
    return Observations(
        times=times,
        names=tuple(chosen),
        values=np.stack([np.asarray(columns[n], dtype=float) for n in chosen], axis=1),
        state_columns=np.array([states.index(n) if n in states else -1 for n in chosen]),
        observable_columns=np.array(
            [observables.index(n) if n in observables else -1 for n in chosen]
        ),
        first_state=first_state,
    )


def initial_name(state: str) -> str:
    """The prior name of a state's initial value: `"x(0)"` for state `x`."""
    return f"{state}(0)"


def check_priors(compiled: CompiledModel, priors: Mapping[str, dist.Distribution]) -> None:
    """Check that every prior names something the model has and is a scalar law.

    Valid names are the model's parameters, `"x(0)"` for the initial value of state
    `x`, `"noise"` (the observation noise), `"time_offset"` and `"time_scale"`.

    **Raises:**

    - `ValueError`: no priors, an unknown name, a prior with an event shape, or a
      noise, offset or scale prior whose support is not non-negative.
    - `TypeError`: a prior that is not a NumPyro distribution.
    """
    if not priors:
        raise ValueError("calibrate needs at least one prior")
    valid = [
        *compiled.param_names,
        *(initial_name(s) for s in compiled.state_names),
        *_SPECIAL,
    ]
    for name, prior in priors.items():
        if name not in valid:
            raise ValueError(
                f"the model {compiled.name!r} has no parameter {name!r}; priors may name {valid}"
            )
        if not isinstance(prior, dist.Distribution):
            raise TypeError(f"the prior of {name!r} must be a numpyro distribution")
        if prior.event_shape != () or prior.batch_shape != ():
            raise ValueError(f"the prior of {name!r} must be a scalar distribution")
        if name in _SPECIAL and not getattr(prior.support, "lower_bound", -1.0) >= 0:
            raise ValueError(f"the prior of {name!r} must have non-negative support")
