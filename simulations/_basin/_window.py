"""A window that shows every attractor a model has near its fixed points."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpyro.distributions as dist

from ...theory import FixedPoint, Model, default_window, fixed_points
from ...theory._legacy_arguments import legacy_arguments
from .._engine._compile import CompiledModel
from .._engine._integrate import as_compiled
from ._basins import basin_fractions


@legacy_arguments(positional=("params", "points"), renamed={"samples": "n"})
def attractor_window(
    model: Model | CompiledModel,
    *,
    params: Mapping[str, float] | None = None,
    points: list[FixedPoint] | None = None,
    n: int = 1024,
    seed: int = 0,
    **setting_overrides,
) -> np.ndarray:
    """The default window of a map: the fixed points and every attractor reached
    from around them, with a margin.

    A model with a `search_box` (its domain) gets that. Otherwise the window around
    the fixed points ([`basinlab.theory.default_window`][]) is surveyed: `n`
    uniform starts in it are integrated, and the window grows to hold the bounding box
    of each attractor they reach, so that a limit cycle outside the fixed points (or a
    continuum of rest points) is in view.

    **Arguments:**

    - `model`: the model.
    - `params`: parameter overrides by name.
    - `points`: its fixed points, if already computed.
    - `n`: the starts of the survey.
    - `seed`: their seed.
    - `**setting_overrides`: solver settings for the survey.

    **Returns:**

    An array of shape `(dim, 2)`: `(low, high)` per state.
    """
    compiled = as_compiled(model)
    if points is None:
        points = fixed_points(compiled.model, params=params)
    window = default_window(compiled.model, points)
    if compiled.model.search_box is not None:
        return window
    survey = basin_fractions(
        compiled,
        dist.Uniform(window[:, 0], window[:, 1]).to_event(1),
        n=n,
        seed=seed,
        params=params,
        points=points,
        progress=False,
        **setting_overrides,
    )
    reached = survey["count"].values[: survey.sizes["attractor"]] > 0
    location = survey["attractor_location"].values[reached]
    extent = survey["attractor_extent"].values[reached]
    boxes = list(zip(location - extent, location + extent))
    grown = default_window(compiled.model, points, boxes)
    return np.stack(
        [np.minimum(window[:, 0], grown[:, 0]), np.maximum(window[:, 1], grown[:, 1])], 1
    )
