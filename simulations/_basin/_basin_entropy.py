"""Basin entropy: how mixed the basins of a map are, box by box."""

from __future__ import annotations

import numpy as np
import xarray as xr
from jaxtyping import Float, Int

from ...theory._checks import check_count


def basin_labels(result: xr.Dataset, what: str) -> Int[np.ndarray, "*axes"]:
    """The labels of a basin map as an array with one axis per slice dimension.

    **Raises:**

    - `ValueError`: `result` is not a basin map.
    """
    if not isinstance(result, xr.Dataset) or result.attrs.get("kind") != "basin_map":
        raise ValueError(f"{what} needs a result of basinlab.basin_map")
    return np.asarray(result["label"].values)


def entropies(groups: Int[np.ndarray, "boxes cells"]) -> Float[np.ndarray, " boxes"]:
    r"""The Gibbs entropy $-\sum_j p_j \log p_j$ of the labels in each row."""
    codes = np.unique(groups)
    counts = (groups[:, :, None] == codes[None, None, :]).sum(axis=1)
    p = counts / groups.shape[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log(p), 0.0)
    return terms.sum(axis=1)


def basin_entropy(result: xr.Dataset, box_size: int = 5) -> tuple[float, float]:
    r"""The basin entropy $S_b$ and the boundary basin entropy $S_{bb}$ of a basin map.

    The map is cut into boxes of `box_size` grid points per side (the last partial
    row and column of boxes are left out). In box $i$, with $p_{ij}$ the fraction
    of its points that end in outcome $j$ (an attractor, `DIVERGED` or
    `UNCONVERGED`), the entropy is $S_i = -\sum_j p_{ij} \log p_{ij}$ (natural
    logarithm). Then $S_b = \frac{1}{N}\sum_i S_i$ over all $N$ boxes and
    $S_{bb} = \frac{1}{N_b}\sum_i S_i$ over the $N_b$ boxes that hold more than one
    outcome. $S_b$ measures how uncertain the final state is over the whole
    map; $S_{bb} > \log 2$ is a sufficient condition for a fractal boundary
    (A. Daza, A. Wagemakers, B. Georgeot, D. Guéry-Odelin and M. A. F. Sanjuán,
    "Basin entropy: a new tool to analyze uncertainty in dynamical systems",
    Sci. Rep. 6, 31416, 2016).

    **Arguments:**

    - `result`: a dataset from [`basinlab.basin_map`][] (a slice or a line).
    - `box_size`: grid points per side of a box, at least 2.

    **Returns:**

    `(S_b, S_bb)`; `S_bb` is 0 when no box holds two outcomes.

    **Raises:**

    - `ValueError`: `result` is not a basin map; `box_size` is not an integer of at
      least 2, or is larger than the map.
    """
    labels = basin_labels(result, "basin_entropy")
    box_size = check_count(box_size, "box_size", minimum=2)
    if box_size > min(labels.shape):
        raise ValueError(f"box_size {box_size} is larger than the map {labels.shape}")
    counts = [extent // box_size for extent in labels.shape]
    trimmed = labels[tuple(slice(0, c * box_size) for c in counts)]
    # (rows, box_size, columns, box_size) -> one row of box_size**d labels per box
    split = trimmed.reshape([x for c in counts for x in (c, box_size)])
    order = [*range(0, 2 * len(counts), 2), *range(1, 2 * len(counts), 2)]
    boxes = split.transpose(order).reshape(int(np.prod(counts)), -1)
    values = entropies(boxes)
    boundary = values[values > 0]
    return float(values.mean()), float(boundary.mean()) if boundary.size else 0.0
