"""The default window of state space in which to look at a model."""

from __future__ import annotations

import numpy as np

from ._fixed_points import FixedPoint
from ._model import Model


def default_window(model: Model, points: list[FixedPoint]) -> np.ndarray:
    """The model's own search box, else a box around the fixed points, padded by half
    its width and at least 1.

    **Arguments:**

    - `model`: the model.
    - `points`: its fixed points, as from [`basinlab.fixed_points`][].

    **Returns:**

    An array of shape `(dim, 2)`: `(low, high)` per state.
    """
    if model.search_box is not None:
        return np.array(model.search_box)
    if not points:
        return np.tile([-2.0, 2.0], (model.dim, 1))
    locations = np.array([p.numeric for p in points])
    low, high = locations.min(axis=0), locations.max(axis=0)
    pad = np.maximum(0.5 * (high - low), 1.0)
    return np.stack([low - pad, high + pad], axis=1)
