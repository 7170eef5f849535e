"""Pictures of two-parameter continuations: one basin's fraction over the plane, the
lines where attractors appear and vanish, and the exact bifurcation curves."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

from ._basin_map import PALETTE


def plot_continuation_map(
    result: xr.Dataset,
    attractor: int = 0,
    curves: Mapping[str, Sequence[tuple[float, float]]] | None = None,
    ax: plt.Axes | None = None,
) -> tuple[plt.Figure, plt.Axes]:
    """Draw a [`basinlab.continuation_map`][]: the basin fraction of `attractor` as
    colour over the two parameters, each attractor's appearance and disappearance
    line (where `present` changes) in its colour, and the exact `curves` from
    [`basinlab.bifurcation_curves`][] as black marks.

    **Arguments:**

    - `result`: the continuation map.
    - `attractor`: the ID whose fraction is drawn.
    - `curves`: bifurcation points by kind, `(x, y)` each.
    - `ax`: axes to draw on; a new figure otherwise.

    **Returns:**

    `(fig, ax)`.

    **Raises:**

    - `ValueError`: `result` is not a continuation map, or `attractor` not one of its IDs.
    """
    if not isinstance(result, xr.Dataset) or result.attrs.get("kind") != "continuation_map":
        raise ValueError("plot_continuation_map needs the result of basinlab.continuation_map")
    ids = result["attractor"].values.tolist()
    if attractor not in ids:
        raise ValueError(f"attractor must be one of the IDs {ids}, got {attractor!r}")
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 5), layout="constrained")
    else:
        fig = ax.figure
    x, y = result.attrs["x"], result.attrs["y"]
    xs, ys = result[x].values, result[y].values
    shown = ax.pcolormesh(
        xs, ys, result["fraction"].sel(attractor=attractor).values, vmin=0, vmax=1, cmap="viridis"
    )
    fig.colorbar(
        shown,
        ax=ax,
        label=f"fraction of {attractor}: {result['attractor_name'].values[ids.index(attractor)]}",
    )
    if len(xs) > 1 and len(ys) > 1:
        for k in ids:
            present = result["present"].sel(attractor=k).values.astype(float)
            if 0 < present.mean() < 1:
                ax.contour(
                    xs, ys, present, levels=[0.5], colors=[PALETTE[k % len(PALETTE)]], linewidths=2
                )
                ax.plot(
                    [], [], color=PALETTE[k % len(PALETTE)], lw=2, label=f"{k} appears / vanishes"
                )
    markers = iter("o^sDvP*")
    for kind, points in (curves or {}).items():
        if points:
            px, py = np.asarray(points, float).T
            ax.plot(
                px, py, next(markers, "x"), color="black", ms=4, ls="none", label=f"exact {kind}"
            )
    ax.set_xlim(xs.min(), xs.max())
    ax.set_ylim(ys.min(), ys.max())
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(f"{result.attrs['model']}: continuation over {x} and {y}")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="best", fontsize=8, framealpha=0.9)
    return fig, ax
