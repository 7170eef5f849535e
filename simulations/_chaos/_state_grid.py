"""A tessellation of state space into boxes, and the box of a state."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

from ...theory._resources import require_memory

OUTSIDE = -1

# Cells are numbered by int32 inside JAX, and each search keeps a byte per cell.
_MOST_CELLS = 2**31 - 1


@dataclasses.dataclass(frozen=True)
class StateGrid:
    """Boxes of equal size covering `[low, high]` along each state, `cells` per axis,
    numbered in C order."""

    low: Float[np.ndarray, " n"]
    high: Float[np.ndarray, " n"]
    cells: Int[np.ndarray, " n"]

    def __post_init__(self):
        assert self.low.shape == self.high.shape == self.cells.shape
        assert np.all(self.low < self.high) and np.all(self.cells >= 1)

    @property
    def size(self) -> int:
        return math.prod(int(c) for c in self.cells)

    @property
    def width(self) -> Float[np.ndarray, " n"]:
        return (self.high - self.low) / self.cells

    def cell_of(self, y: Float[Array, " n"]) -> Int[Array, ""]:
        """The number of the box holding `y`, or `OUTSIDE` (also for a state that is
        not finite)."""
        low, cells = jnp.asarray(self.low, y.dtype), jnp.asarray(self.cells)
        scaled = jnp.floor((y - low) / jnp.asarray(self.width, y.dtype))
        inside = jnp.all(jnp.isfinite(y) & (scaled >= 0) & (scaled < cells))
        index = jnp.where(inside, scaled, 0).astype(jnp.int32)
        strides = np.cumprod([1, *self.cells[::-1][:-1].tolist()])[::-1].astype(np.int32)
        return jnp.where(inside, jnp.sum(index * jnp.asarray(strides)), OUTSIDE)

    def centres(self, cells: Int[np.ndarray, " k"]) -> Float[np.ndarray, "k n"]:
        """The centres of the boxes numbered `cells`."""
        index = np.stack(np.unravel_index(np.asarray(cells), tuple(self.cells)), axis=-1)
        return self.low + (index + 0.5) * self.width


def state_grid(grid: object, names: Sequence[str]) -> StateGrid:
    """Check a grid given as one `(low, high, cells)` per state.

    **Raises:**

    - `ValueError`: not one triple per state, a bound that is not finite, `low >=
      high`, a cell count below 1, or more cells than fit in memory.
    - `TypeError`: an entry is not a triple of numbers.
    """
    try:
        rows = [tuple(row) for row in grid]  # type: ignore[union-attr]
    except TypeError:
        raise TypeError(
            f"grid must give one (low, high, cells) per state {list(names)}, got {grid!r}"
        ) from None
    if len(rows) != len(names) or any(len(row) != 3 for row in rows):
        raise ValueError(
            f"grid must give one (low, high, cells) per state {list(names)}, got {grid!r}"
        )
    low, high, cells = [], [], []
    for name, (a, b, c) in zip(names, rows):
        if not all(isinstance(v, int | float | np.integer | np.floating) for v in (a, b, c)):
            raise TypeError(f"grid entry for {name!r} must be numbers, got {(a, b, c)!r}")
        if not (math.isfinite(a) and math.isfinite(b) and a < b):
            raise ValueError(f"grid entry for {name!r} needs finite low < high, got ({a}, {b})")
        if int(c) != c or c < 1:
            raise ValueError(f"grid entry for {name!r} needs a whole number of cells >= 1, got {c}")
        low.append(float(a))
        high.append(float(b))
        cells.append(int(c))
    result = StateGrid(np.array(low), np.array(high), np.array(cells, dtype=np.int64))
    if result.size > _MOST_CELLS:
        raise ValueError(f"the grid has {result.size} cells; at most {_MOST_CELLS} are supported")
    require_memory(5 * result.size, f"a grid of {result.size} cells", "use fewer cells")
    return result
