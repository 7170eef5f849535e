"""Checks of the plain numbers that users pass: seeds, counts, positive values."""

from __future__ import annotations

import math
import numbers

# NumPy and JAX both take seeds of up to 64 bits; below 2**63 they are also signed
# 64-bit integers, which NetCDF attributes store exactly.
SEED_LIMIT = 2**63


def check_seed(seed: object, what: str = "seed") -> int:
    """A seed as a Python int: a non-negative integer below $2^{63}$.

    **Raises:**

    - `TypeError`: `seed` is not an integer (a float such as `1.5`, a string, `None`
      or a bool).
    - `ValueError`: `seed` is negative or not below $2^{63}$.
    """
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"{what} must be an integer, got {seed!r}")
    value = int(seed)
    if not 0 <= value < SEED_LIMIT:
        raise ValueError(f"{what} must lie in [0, 2**63), got {value}")
    return value


def check_count(value: object, what: str, minimum: int = 1) -> int:
    """A count as a Python int of at least `minimum`.

    **Raises:**

    - `ValueError`: `value` is not an integer (bools and floats included) or is
      below `minimum`.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        kind = "a positive integer" if minimum == 1 else f"an integer of at least {minimum}"
        raise ValueError(f"{what} must be {kind}, got {value!r}")
    return int(value)


def check_positive(value: object, what: str) -> float:
    """A positive finite number as a float.

    **Raises:**

    - `ValueError`: `value` is not a number (bools included), not finite, or not
      above zero.
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not (math.isfinite(value) and value > 0)
    ):
        raise ValueError(f"{what} must be a positive finite number, got {value!r}")
    return float(value)


def check_in_range(value: object, what: str, low: float, high: float) -> float:
    """A finite number in the closed interval [low, high], as a float.

    **Raises:**

    - `ValueError`: `value` is not a number (bools included), not finite, or
      outside [low, high]. The message names `what` and the interval.
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not (math.isfinite(value) and low <= value <= high)
    ):
        raise ValueError(f"{what} must lie in [{low}, {high}], got {value!r}")
    return float(value)
