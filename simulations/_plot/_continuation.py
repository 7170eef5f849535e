"""Pictures of continuations: stacked basin fractions against a parameter."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

from ...theory import Bifurcation
from ._basin_map import PALETTE


def plot_continuation(
    result: xr.Dataset,
    bifurcations: Sequence[Bifurcation] = (),
    ax: plt.Axes | None = None,
) -> tuple[plt.Figure, plt.Axes]:
    """Draw a [`basinlab.continuation`][] as stacked basin fractions against the
    parameter, one colour per matched attractor (the same colour at every value), with
    the exact bifurcations drawn as labelled vertical lines.

    **Arguments:**

    - `result`: the continuation.
    - `bifurcations`: from [`basinlab.bifurcations`][]; those outside the range are
      left out.
    - `ax`: axes to draw on; a new figure otherwise.

    **Returns:**

    `(fig, ax)`: the figure and the axes drawn on, as from every plot of basinlab.

    **Raises:**

    - `ValueError`: `result` is not a continuation.
    """
    if not isinstance(result, xr.Dataset) or result.attrs.get("kind") != "continuation":
        raise ValueError("plot_continuation needs the result of basinlab.continuation")
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    else:
        fig = ax.figure
    values = result["value"].values
    order = np.argsort(values)
    fractions = result["fraction"].values[order].T
    labels = [
        f"{int(i)}: {name}"
        for i, name in zip(result["attractor"].values, result["attractor_name"].values)
    ]
    colours = [PALETTE[i % len(PALETTE)] for i in range(len(labels))]
    ax.stackplot(values[order], fractions, labels=labels, colors=colours, alpha=0.85)
    failed = (result["diverged"] + result["unconverged"]).values[order]
    if np.any(failed > 0):
        ax.plot(
            values[order], 1 - failed, color="black", lw=0.8, label="diverged or unconverged above"
        )
    low, high = values.min(), values.max()
    for point in bifurcations:
        if low <= point.numeric <= high:
            ax.axvline(point.numeric, color="black", ls="--", lw=1)
            ax.annotate(
                f"{point.kind}\n{point.param} = {point.value}",
                (point.numeric, 1.0),
                xytext=(3, -3),
                textcoords="offset points",
                va="top",
                fontsize=8,
            )
    ax.set_xlim(low, high)
    ax.set_ylim(0, 1)
    ax.set_xlabel(result.attrs["param"])
    ax.set_ylabel("basin fraction")
    ax.set_title(f"{result.attrs['model']}: continuation in {result.attrs['param']}")
    ax.legend(loc="lower left", fontsize=8, framealpha=0.9)
    return fig, ax
