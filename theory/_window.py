"""The default window of state space in which to look at a model."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from jaxtyping import Float

from ._fixed_points import FixedPoint
from ._model import Model


def default_window(
    model: Model,
    points: list[FixedPoint],
    boxes: Iterable[tuple[Float[np.ndarray, " n"], Float[np.ndarray, " n"]]] = (),
) -> np.ndarray:
    """The model's own search box, else a box around everything known to attract or
    repel there, with a margin.

    The box spans the fixed points and the `boxes` (the bounding boxes of other
    attractors, such as limit cycles, from a simulation), padded on each side by a
    quarter of its width and at least 1.

    **Arguments:**

    - `model`: the model.
    - `points`: its fixed points, as from [`basinlab.fixed_points`][].
    - `boxes`: `(low, high)` corners of further sets to include.

    **Returns:**

    An array of shape `(dim, 2)`: `(low, high)` per state.
    """
    if model.search_box is not None:
        return np.array(model.search_box)
    corners = [np.asarray(p.numeric, dtype=float) for p in points]
    for low, high in boxes:
        corners += [np.asarray(low, dtype=float), np.asarray(high, dtype=float)]
    corners = [c for c in corners if np.all(np.isfinite(c))]
    if not corners:
        return np.tile([-2.0, 2.0], (model.dim, 1))
    stacked = np.array(corners)
    low, high = stacked.min(axis=0), stacked.max(axis=0)
    pad = np.maximum(0.25 * (high - low), 1.0)
    return np.stack([low - pad, high + pad], axis=1)
