"""Posterior basin probabilities: each posterior draw pushed to its attractor."""

from __future__ import annotations

from collections.abc import Mapping

import equinox as eqx
import jax
import numpy as np
import xarray as xr

from .._basin._wilson import wilson_interval
from .._engine._integrate import solve_to_rest
from .._engine._solver_settings import CONVERGED, DIVERGED, UNCONVERGED, SolverSettings
from ._likelihood import Parametrisation, flatten


@eqx.filter_jit
def _batched_outcomes(setup: Parametrisation, settings: SolverSettings, draws: dict):
    def one(draw):
        p, y0 = setup.params_and_state(draw)
        y, _, status = solve_to_rest(setup.compiled, settings, y0, p)
        return y, status, setup.compiled.predicates(y, p)

    return jax.vmap(one)(draws)


def posterior_basins(
    setup: Parametrisation,
    samples: Mapping[str, np.ndarray],
    count: int,
    settings: SolverSettings,
    confidence: float,
) -> xr.Dataset:
    """Push up to `count` evenly spaced posterior draws to their attractors.

    Each draw's parameters and initial state are integrated until steady state (or
    `settings.t1`); the model's predicates at the end label the basin. A draw counts
    towards a predicate only if it CONVERGED.

    **Returns:**

    A Dataset over `outcome` (the predicates, `DIVERGED`, `UNCONVERGED`) with
    `count`, `probability` and its Wilson interval `low`, `high`, and per draw its
    `final_state`, `status` and the predicates it `holds`.
    """
    draws = flatten(samples)
    total = next(iter(draws.values())).shape[0]
    keep = np.unique(np.linspace(0, total - 1, min(count, total)).astype(int))
    y, status, holds = _batched_outcomes(setup, settings, {k: v[keep] for k, v in draws.items()})
    y, status, holds = np.asarray(y), np.asarray(status), np.asarray(holds)
    names = list(setup.compiled.predicate_names)
    converged = status == CONVERGED
    counts = [int(np.sum(converged & holds[:, j])) for j in range(len(names))]
    counts += [int(np.sum(status == DIVERGED)), int(np.sum(status == UNCONVERGED))]
    low, high = wilson_interval(np.array(counts), len(keep), confidence)
    return xr.Dataset(
        {
            "count": ("outcome", np.array(counts)),
            "probability": ("outcome", np.array(counts) / len(keep)),
            "low": ("outcome", low),
            "high": ("outcome", high),
            "final_state": (("basin_draw", "state"), y),
            "status": ("basin_draw", status),
            "holds": (("basin_draw", "predicate"), holds.reshape(len(keep), len(names))),
        },
        coords={
            "outcome": [*names, "DIVERGED", "UNCONVERGED"],
            "predicate": names,
            "state": list(setup.compiled.state_names),
            "basin_draw": keep,
        },
        attrs={"draws": len(keep), "confidence": confidence, "t1": settings.t1},
    )
