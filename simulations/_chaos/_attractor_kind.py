"""What an attractor is, from a recording of it: its period, and its Lyapunov
spectrum."""

from __future__ import annotations

import numpy as np
from jaxtyping import Float

from ...theory import MAP
from .._basin._attractors import LIMIT_CYCLE, NON_STATIONARY, PERIODIC_ORBIT
from .._engine._compile import CompiledModel
from ._lyapunov import lyapunov_spectrum
from ._recurrence_settings import RecurrenceSettings

FIXED_POINT = "fixed point"
QUASI_PERIODIC = "quasi-periodic"
CHAOTIC = "chaotic"


def _period(states: np.ndarray, tol: float, longest: int) -> int:
    """The least p <= `longest` with x_{k+p} = x_k (to `tol`) over the recording's
    second half, or 0."""
    tail = states[len(states) // 2 :]
    for period in range(1, min(longest, len(tail) // 2) + 1):
        if np.max(np.abs(tail[period:] - tail[:-period])) < tol:
            return period
    return 0


def attractor_kind(
    compiled: CompiledModel,
    params: dict[str, float],
    states: Float[np.ndarray, "k n"],
    settings: RecurrenceSettings,
) -> tuple[str, int, Float[np.ndarray, " n"]]:
    r"""Classify an attractor from consecutive samples on it.

    A recording whose second half repeats after $p$ samples (to `settle_tol`,
    relative) is a fixed point ($p = 1$) or, for a map, a periodic orbit of period
    $p$. Otherwise the Lyapunov spectrum $\lambda_1 \ge \lambda_2 \ge \dots$ from the
    last sample (after a tenth of `lyapunov_length` discarded) decides, with
    $|\lambda| \le$ `exponent_tol` counted as zero:
    $\lambda_1 > 0$ is chaotic; for a flow, one zero exponent (along the flow) is a
    limit cycle and two or more a quasi-periodic torus; for a map, a zero exponent is
    a quasi-periodic invariant circle. A flow whose exponents are all negative but
    which had not settled is a (slowly approached) fixed point; such a map orbit,
    with no period up to `max_period`, is `"non-stationary"`. On a Poincaré section
    the exponents decide alone ($\lambda_1 < 0$ is a fixed point).

    **Returns:**

    The kind, the period of a map's periodic orbit (0 otherwise), and the spectrum.
    """
    scale = 1 + float(np.max(np.abs(states)))
    tol = settings.settle_tol * scale
    is_map = compiled.kind == MAP
    # On a Poincaré section a cycle repeats its crossing point, so repetition tells
    # nothing there: the exponents decide alone.
    on_section = settings.section_state is not None
    period = 0 if on_section else _period(states, tol, settings.max_period if is_map else 1)
    # A tenth more is run first and discarded, so that the tangent vectors align with
    # their directions before averaging; from the axes, a start mostly across the flow
    # would bias a cycle's zero exponent by log|cos angle| / length.
    length = settings.lyapunov_length
    if is_map:
        length = dict(steps=round(length), transient_steps=round(length / 10))
    else:
        # Re-orthonormalised at least every time unit: on a section `interval` is the
        # longest wait for a crossing, far too long between QR steps.
        every = min(settings.interval, 1.0)
        length = dict(t1=length, transient=max(length / 10, every), interval=every, dt=settings.dt)
    exponents = lyapunov_spectrum(compiled, states[-1], params=params, **length)["exponent"].values
    zeros = int(np.sum(np.abs(exponents) <= settings.exponent_tol))
    if period == 1:
        return FIXED_POINT, 0, exponents
    if period > 1:
        return PERIODIC_ORBIT, period, exponents
    if exponents[0] > settings.exponent_tol:
        return CHAOTIC, 0, exponents
    if is_map:
        return (QUASI_PERIODIC if zeros else NON_STATIONARY), 0, exponents
    if on_section and exponents[0] < -settings.exponent_tol:
        return FIXED_POINT, 0, exponents
    if zeros >= 2:
        return QUASI_PERIODIC, 0, exponents
    return (LIMIT_CYCLE if zeros == 1 else FIXED_POINT), 0, exponents
