"""Which basin of a `find_attractors` result a state lies in, by running it until it
settles in an attractor's cells."""

from __future__ import annotations

import json
from collections.abc import Mapping

import jax.numpy as jnp
import numpy as np
import xarray as xr
from jaxtyping import Float, Int

from .._engine._compile import CompiledModel
from ._recurrence_settings import RecurrenceSettings
from ._recurrences import _PENDING, _sampler, _Search
from ._state_grid import StateGrid


class BasinOracle:
    """The basins of the attractors in `found` (a result of `find_attractors` for the
    same model, parameters and settings), queried state by state.

    **Raises:**

    - `ValueError`: `found` is not a result of `find_attractors`.
    """

    def __init__(
        self,
        compiled: CompiledModel,
        found: xr.Dataset,
        params: Mapping[str, float] | None,
        settings: RecurrenceSettings,
    ):
        if not isinstance(found, xr.Dataset) or found.attrs.get("kind") != "find_attractors":
            raise ValueError("found must be a result of basinlab.find_attractors")
        rows = json.loads(found.attrs["grid"])
        low, high, cells = (np.array(column) for column in zip(*rows))
        grid = StateGrid(low.astype(float), high.astype(float), cells.astype(np.int64))
        if len(grid.low) != len(compiled.state_names):
            raise ValueError(
                f"found has a grid of {len(grid.low)} states, the model {len(compiled.state_names)}"
            )
        owner = np.full(grid.size, -1, np.int32)
        owner[found["cell_index"].values] = found["cell_attractor"].values
        self.owner = jnp.asarray(owner)
        self.p = compiled.param_vector(params)
        self.advance = _sampler(compiled, self.p, settings)
        self.search = _Search(self.advance, grid, settings)
        self.settings = settings

    def __call__(self, states: Float[np.ndarray, "k n"]) -> Int[np.ndarray, " k"]:
        """The attractor each state goes to, `DIVERGED`, or `_PENDING` when undecided
        within `max_steps` samples."""
        ys, outcome = jnp.asarray(states), np.full(len(states), _PENDING)
        taken = 0
        while np.any(outcome == _PENDING) and taken < self.settings.max_steps:
            ys, reached, used = self.search.reach(ys, self.owner)
            outcome = np.where(outcome == _PENDING, np.asarray(reached), outcome)
            taken += int(np.max(np.asarray(used)))
        return outcome
