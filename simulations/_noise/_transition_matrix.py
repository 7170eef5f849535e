"""A matrix of conditional probabilities between labelled outcomes, with intervals."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr
from jaxtyping import Int

from .._basin._wilson import wilson_interval
from .._engine._solver_settings import DIVERGED, UNCONVERGED


def outcome_names(names: Sequence[str]) -> list[str]:
    """Attractor names followed by the two outcomes that are not attractors."""
    return [*names, "DIVERGED", "UNCONVERGED"]


def _index(labels: np.ndarray, attractors: int) -> np.ndarray:
    """Labels as rows of the matrix: attractors first, then DIVERGED, UNCONVERGED."""
    index = np.asarray(labels).copy()
    index[labels == DIVERGED] = attractors
    index[labels == UNCONVERGED] = attractors + 1
    return index


def transition_matrix(
    start: Int[np.ndarray, " n"],
    end: Int[np.ndarray, " n"],
    start_names: Sequence[str],
    end_names: Sequence[str],
    confidence: float,
) -> xr.Dataset:
    r"""$P(\text{end} = j \mid \text{start} = i)$ from paired labels, with Wilson
    intervals per row.

    **Arguments:**

    - `start`, `end`: labels (attractor indices, `DIVERGED` or `UNCONVERGED`) of the
      same runs.
    - `start_names`, `end_names`: the attractors' names on each side.
    - `confidence`: of the intervals.

    **Returns:**

    A dataset over `start` and `end` (the outcome names) with `count`,
    `probability`, `probability_low`, `probability_high` (NaN in rows without runs)
    and each row's `start_count`.
    """
    assert start.shape == end.shape
    rows = outcome_names(start_names)
    columns = outcome_names(end_names)
    counts = np.zeros((len(rows), len(columns)), dtype=np.int64)
    np.add.at(counts, (_index(start, len(start_names)), _index(end, len(end_names))), 1)
    totals = counts.sum(axis=1)
    probability = np.full(counts.shape, np.nan)
    low = np.full(counts.shape, np.nan)
    high = np.full(counts.shape, np.nan)
    for i in np.flatnonzero(totals):
        probability[i] = counts[i] / totals[i]
        low[i], high[i] = wilson_interval(counts[i], int(totals[i]), confidence)
    return xr.Dataset(
        {
            "count": (("start", "end"), counts),
            "probability": (("start", "end"), probability),
            "probability_low": (("start", "end"), low),
            "probability_high": (("start", "end"), high),
            "start_count": ("start", totals),
        },
        coords={"start": rows, "end": columns},
        attrs={"confidence": confidence},
    )
