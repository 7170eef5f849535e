"""Pictures of attractors found without theory: their cells, projected on two states."""

from __future__ import annotations

import matplotlib.pyplot as plt
import xarray as xr

from ._basin_map import PALETTE

_FOUND = ("find_attractors",)


def plot_found_attractors(
    result: xr.Dataset, x: str | None = None, y: str | None = None, ax: plt.Axes | None = None
) -> tuple[plt.Figure, plt.Axes]:
    """Draw the cells of each attractor of [`basinlab.find_attractors`][], projected
    on the states `x` and `y` (the first two by default), one colour per attractor,
    labelled with its name and basin fraction.

    **Arguments:**

    - `result`: the result of `find_attractors`.
    - `x`, `y`: state names; for a model of one state, `y` is left out.
    - `ax`: axes to draw on; a new figure otherwise.

    **Returns:**

    `(fig, ax)`.

    **Raises:**

    - `ValueError`: `result` is not from `find_attractors`, or a state is unknown.
    """
    if not isinstance(result, xr.Dataset) or result.attrs.get("kind") not in _FOUND:
        raise ValueError("plot_found_attractors needs the result of basinlab.find_attractors")
    states = list(result["state"].values)
    x = x or states[0]
    y = y if y is not None else (states[1] if len(states) > 1 else None)
    for name in (x, y):
        if name is not None and name not in states:
            raise ValueError(f"{name!r} is not a state; the states are {states}")
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 5), layout="constrained")
    else:
        fig = ax.figure
    centres = result["cell_centre"]
    owner = result["cell_attractor"].values
    for k, name in enumerate(result["attractor_name"].values):
        mine = owner == k
        along = centres.sel(state=x).values[mine]
        across = centres.sel(state=y).values[mine] if y else 0 * along
        fraction = float(result["fraction"].values[k])
        ax.plot(
            along,
            across,
            ".",
            ms=2,
            color=PALETTE[k % len(PALETTE)],
            label=f"{name} ({fraction:.3f})",
        )
    ax.set_xlabel(x)
    if y:
        ax.set_ylabel(y)
    ax.set_title(f"{result.attrs['model']}: attractors found by recurrences")
    ax.legend(loc="best", fontsize=7, markerscale=4, framealpha=0.9)
    return fig, ax
