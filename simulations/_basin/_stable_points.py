"""The stable fixed point of a theory that a caller names by its location."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ...theory import FixedPoint


def stable_point_near(
    points: list[FixedPoint], location: FixedPoint | Sequence[float], what: str
) -> int:
    """The index in `points` of the stable fixed point at `location`.

    **Raises:**

    - `ValueError`: no stable fixed point of the theory lies there.
    """
    where = np.asarray(location.numeric if isinstance(location, FixedPoint) else location, float)
    stable = [i for i, q in enumerate(points) if q.stable]
    if not points or where.shape != (len(points[0].numeric),):
        raise ValueError(f"{what} must be a state, got {location!r}")
    for i in stable:
        if np.max(np.abs(np.asarray(points[i].numeric) - where)) < 1e-6 * (1 + np.max(abs(where))):
            return i
    listed = [tuple(round(c, 4) for c in points[i].numeric) for i in stable]
    raise ValueError(f"{what} {where.tolist()} is not a stable fixed point; those are {listed}")
