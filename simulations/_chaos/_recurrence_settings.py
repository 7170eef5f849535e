"""The settings of the recurrence method: sampling, counts and classification."""

from __future__ import annotations

import dataclasses
import math

from ...theory._checks import check_count, check_positive


@dataclasses.dataclass(frozen=True)
class RecurrenceSettings:
    r"""Settings of [`basinlab.find_attractors`][] (the names of Datseris & Wagemakers'
    counters are given in brackets).

    **Fields:**

    - `interval`: for a flow, the time between two samples of a trajectory, each
      placed in its grid cell ($\Delta t$); a map is sampled every step.
    - `dt`: for a flow, the first step of the adaptive Tsit5 solver that integrates
      it, and the fixed step of the Lyapunov spectrum's.
    - `rtol`, `atol`: the solver's tolerances.
    - `section_state`, `section_value`: to sample a flow on a Poincaré section
      instead, the state whose upward crossings of `section_value` are the samples;
      `interval` is then the longest wait for a crossing (a run that does not cross
      in that time, such as one resting at a fixed point, is sampled where it is).
    - `recurrences`: a trajectory that finds this many samples in a row in cells it
      has visited before has found an attractor (`consecutive_recurrences`).
    - `record_steps`: the samples recorded on an attractor just found; their cells
      are the attractor (`attractor_locate_steps`).
    - `hits`: a trajectory belongs to a known attractor once this many samples in a
      row lie in that attractor's cells (`consecutive_attractor_steps`).
    - `lost_steps`: a trajectory that stays outside the grid for this many samples in
      a row diverged (`consecutive_lost_steps`).
    - `max_steps`: the samples a trajectory may take to reach a known attractor, and
      again to find a new one.
    - `max_period`: the longest period looked for in a map's recorded orbit.
    - `settle_tol`: recorded samples that agree to this (relative) tolerance are the
      same point: a fixed point, or a periodic orbit of a map repeating.
    - `lyapunov_length`: the time (a flow) or the steps (a map) over which each
      attractor's Lyapunov spectrum is averaged.
    - `exponent_tol`: exponents within this of zero count as zero.
    """

    interval: float = 0.1
    dt: float = 0.01
    rtol: float = 1e-8
    atol: float = 1e-10
    section_state: str | None = None
    section_value: float = 0.0
    recurrences: int = 100
    record_steps: int = 1000
    hits: int = 5
    lost_steps: int = 20
    max_steps: int = 20_000
    max_period: int = 64
    settle_tol: float = 1e-6
    lyapunov_length: float = 1000.0
    exponent_tol: float = 0.01

    def __post_init__(self):
        for name in (
            "interval",
            "dt",
            "rtol",
            "atol",
            "settle_tol",
            "lyapunov_length",
            "exponent_tol",
        ):
            check_positive(getattr(self, name), name)
        for name in (
            "recurrences",
            "record_steps",
            "hits",
            "lost_steps",
            "max_steps",
            "max_period",
        ):
            check_count(getattr(self, name), name)
        if self.section_state is not None and not isinstance(self.section_state, str):
            raise TypeError(f"section_state must be a state's name, got {self.section_state!r}")
        if not math.isfinite(self.section_value):
            raise ValueError(f"section_value must be finite, got {self.section_value!r}")
        if self.interval < self.dt:
            raise ValueError(f"interval ({self.interval}) must be at least one step ({self.dt})")
