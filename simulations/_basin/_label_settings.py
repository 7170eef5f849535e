"""The tolerances that match final states to attractors."""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class LabelSettings:
    """Tolerances for matching final states to attractors.

    **Fields:**

    - `match_tol`: a final state is at a fixed point when
      $\\|y - x^*\\|_\\infty < \\text{match\\_tol}\\,(1 + \\|x^*\\|_\\infty)$.
    - `tail_time`: how long a trajectory of a flow that did not come to rest is
      followed further to find the set it moves on.
    - `tail_samples`: samples along that stretch; for a map, the iterations followed.
    - `settle_tol`: the two halves of that stretch must have bounding boxes that
      agree to this tolerance (relative, as above) for the trajectory to count as
      settled; sets whose boxes agree to it are the same attractor.
    - `continuum_gap`: rest points the theory did not list are grouped into one
      attractor when a chain of them with steps below this (relative) joins them, or
      when a path of rest points between them is found by projecting onto $f = 0$;
      a continuum of fixed points thus becomes one attractor per connected piece,
      however few trajectories sample it.
    """

    match_tol: float = 1e-3
    tail_time: float = 60.0
    tail_samples: int = 512
    settle_tol: float = 2e-2
    continuum_gap: float = 0.1

    def __post_init__(self):
        for name in ("match_tol", "tail_time", "settle_tol", "continuum_gap"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be positive and finite, got {value!r}")
        if self.tail_samples < 8:
            raise ValueError(f"tail_samples must be at least 8, got {self.tail_samples}")
