"""A grid on a slice through state space: checked before anything is computed."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence

import numpy as np

from ._checks import check_count
from ._model import Model
from ._resources import ensemble_bytes, require_memory


@dataclasses.dataclass(frozen=True)
class SliceGrid:
    """A regular grid over one or two states, the others held fixed.

    **Fields:**

    - `axes`: the names of the states that vary (x, then y).
    - `indices`: their positions in the state.
    - `box`: `(low, high)` per axis, shape `(len(axes), 2)`.
    - `counts`: grid points per axis.
    - `base`: the state at which every other coordinate is held.
    """

    axes: tuple[str, ...]
    indices: tuple[int, ...]
    box: np.ndarray
    counts: tuple[int, ...]
    base: np.ndarray

    def __post_init__(self):
        assert len(self.axes) == len(self.indices) == len(self.counts) == len(self.box)
        assert np.all(self.box[:, 0] < self.box[:, 1]) and min(self.counts) >= 2

    @property
    def ticks(self) -> list[np.ndarray]:
        """The grid's coordinates along each axis."""
        return [np.linspace(low, high, n) for (low, high), n in zip(self.box, self.counts)]

    def points(self) -> np.ndarray:
        """Every grid point as a full state, one per row, the x axis varying fastest
        (so rows reshape to `counts[::-1]`, an image with y along its rows)."""
        grid = np.meshgrid(*self.ticks[::-1], indexing="ij")[::-1]
        states = np.tile(self.base, (grid[0].size, 1))
        for index, values in zip(self.indices, grid):
            states[:, index] = values.ravel()
        return states


def _axes(model: Model, axes: Sequence[str]) -> tuple[int, ...]:
    indices = tuple(model.state_index(name) for name in axes)
    if len(set(indices)) < len(indices):
        raise ValueError(f"the slice needs two different states, got {axes[0]!r} twice")
    return indices


def _counts(resolution: int | Sequence[int], dimensions: int) -> tuple[int, ...]:
    counts = [resolution] * dimensions if np.ndim(resolution) == 0 else list(np.ravel(resolution))
    if len(counts) != dimensions:
        raise ValueError(
            f"resolution must be one integer or one per axis ({dimensions}), got {resolution!r}"
        )
    return tuple(
        check_count(c.item() if isinstance(c, np.generic) else c, "resolution", 2) for c in counts
    )


def check_box(bounds: Sequence[Sequence[float]], axes: Sequence[str]) -> np.ndarray:
    """`(low, high)` per axis as an array of shape `(len(axes), 2)`.

    **Raises:**

    - `ValueError`: the wrong shape, or bounds that are not finite, empty or
      inverted.
    """
    shape = {1: "((x_low, x_high),)", 2: "((x_low, x_high), (y_low, y_high))"}.get(
        len(axes), "one (low, high) per axis"
    )
    try:
        box = np.asarray(bounds, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"bounds must be {shape}, got {bounds!r}") from None
    if box.shape == (2,) and len(axes) == 1:
        box = box[None, :]
    if box.shape != (len(axes), 2):
        raise ValueError(f"bounds must be {shape}, got {bounds!r}")
    for axis, (low, high) in zip(axes, box):
        if not (math.isfinite(low) and math.isfinite(high)):
            raise ValueError(f"bounds must be finite, got ({low}, {high}) for {axis!r}")
        if not low < high:
            raise ValueError(f"bounds for {axis!r} are empty or inverted: ({low}, {high})")
    return box


def check_slice(
    model: Model,
    axes: Sequence[str],
    bounds: Sequence[Sequence[float]] | None,
    resolution: int | Sequence[int],
    fixed: Mapping[str, float] | None = None,
) -> SliceGrid | None:
    """Check a grid on a slice of `model` in full, memory included, before any work.

    **Arguments:**

    - `model`: the model.
    - `axes`: one or two state names.
    - `bounds`: `(low, high)` per axis; `None` when the window is still to be chosen,
      in which case everything else is checked and `None` is returned.
    - `resolution`: grid points per axis, one integer or one per axis.
    - `fixed`: values of states off the slice.

    **Returns:**

    The [`SliceGrid`][], or `None` without `bounds`.

    **Raises:**

    - `ValueError`: an axis is not a state or is given twice; a resolution below 2
      or a grid too large for memory; bounds of the wrong shape, not finite, empty
      or inverted; a fixed state that is on the slice, is not a state, or has a value
      that is not finite.
    """
    indices = _axes(model, axes)
    counts = _counts(resolution, len(axes))
    require_memory(
        ensemble_bytes(math.prod(counts), model.dim), f"a {'x'.join(map(str, counts))} map"
    )
    base = np.zeros(model.dim)
    for name, value in (fixed or {}).items():
        index = model.state_index(name)
        if index in indices:
            raise ValueError(f"state {name!r} spans the slice and cannot also be fixed")
        if not math.isfinite(float(value)):
            raise ValueError(f"fixed value of {name!r} must be finite, got {value}")
        base[index] = float(value)
    if bounds is None:
        return None
    return SliceGrid(tuple(axes), indices, check_box(bounds, axes), counts, base)
