"""Pictures of basin maps."""

from __future__ import annotations

import json
from collections.abc import Sequence

import matplotlib
import matplotlib.colors as mcolors
import matplotlib.patches as mpatches
import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

from ..theory import NON_HYPERBOLIC, SADDLE, STABLE_FOCUS, STABLE_NODE, UNSTABLE
from ._integrate import DIVERGED, UNCONVERGED

_MARKERS = {
    STABLE_NODE: dict(marker="o", facecolor="white", edgecolor="black"),
    STABLE_FOCUS: dict(marker="o", facecolor="white", edgecolor="black"),
    SADDLE: dict(marker="X", facecolor="black", edgecolor="white"),
    UNSTABLE: dict(marker="o", facecolor="none", edgecolor="black"),
    NON_HYPERBOLIC: dict(marker="D", facecolor="yellow", edgecolor="black"),
}
_PALETTE = [
    "#4c72b0",
    "#dd8452",
    "#55a868",
    "#c44e52",
    "#8172b3",
    "#937860",
    "#da8bc3",
    "#8c8c8c",
    "#ccb974",
    "#64b5cd",
]


def _percent(fraction: float) -> str:
    if 0 < fraction < 0.001:
        return "<0.1%"
    return f"{100 * fraction:.1f}%"


_REGION_STYLES = ["black", "magenta", "yellow", "cyan"]


def _outline(ax, result: xr.Dataset, region, colour: str) -> plt.Line2D:
    """Draw the boundary of `region` on the map's grid; return its legend handle."""
    if not callable(getattr(region, "contains", None)):
        raise ValueError(f"a region to outline needs a contains(points) method, got {region!r}")
    x, y = result.attrs["x"], result.attrs["y"]
    states = [str(s) for s in result["state"].values]
    fixed = json.loads(result.attrs["slice_fixed"])
    xs, ys = result[x].values, result[y].values
    grid_x, grid_y = np.meshgrid(xs, ys)
    points = np.zeros((grid_x.size, len(states)))
    for k, state in enumerate(states):
        points[:, k] = fixed.get(state, 0.0)
    points[:, states.index(x)] = grid_x.ravel()
    points[:, states.index(y)] = grid_y.ravel()
    inside = np.asarray(region.contains(points), dtype=float).reshape(grid_x.shape)
    if inside.any():
        ax.contour(xs, ys, inside, levels=[0.5], colors=colour, linewidths=2, linestyles="--")
    label = str(getattr(region, "label", "region"))
    return plt.Line2D([], [], color=colour, linestyle="--", linewidth=2, label=label)


def plot_basin_map(
    result: xr.Dataset,
    ax: matplotlib.axes.Axes | None = None,
    *,
    show_fixed_points: bool = True,
    title: str | None = None,
    regions: Sequence[object] = (),
) -> tuple[matplotlib.figure.Figure, matplotlib.axes.Axes]:
    """Draw a basin map: each basin in its colour, fixed points marked by kind.

    Attractors that satisfy a predicate are tagged with its name in the legend, with
    each basin's area fraction. `DIVERGED` points are black and `UNCONVERGED` points
    light grey. Fixed points are drawn when they lie on the slice: stable ones as
    white discs, saddles as crosses, unstable ones as rings, non-hyperbolic ones as
    yellow diamonds.

    **Arguments:**

    - `result`: a dataset from [`basinlab.basin_map`][].
    - `ax`: axes to draw on; a new figure is made if `None`.
    - `show_fixed_points`: mark the fixed points.
    - `title`: the title; the model name and parameters by default.
    - `regions`: regions to outline, such as a `basinlab.proofs.CertifiedRegion`: any
      object with `contains(points)` (a boolean per row of an `(n, dim)` array of
      states) and a `label`. Each is drawn as a dashed contour on the slice.

    **Returns:**

    `(fig, ax)`.

    **Raises:**

    - `ValueError`: `result` is not a basin map, or a region lacks `contains`.
    """
    if result.attrs.get("kind") != "basin_map":
        raise ValueError("plot_basin_map needs a result of basinlab.basin_map")
    x, y = result.attrs["x"], result.attrs["y"]
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.4, 5.2), layout="constrained")
    else:
        fig = ax.figure
    names = [str(v) for v in result["attractor_name"].values]
    colours = ["black", "#d9d9d9"] + [_PALETTE[i % len(_PALETTE)] for i in range(len(names))]
    shifted = result["label"].values - UNCONVERGED  # -2 -> 0, -1 -> 1, attractor i -> i + 2
    xs, ys = result[x].values, result[y].values
    dx, dy = (xs[1] - xs[0]) / 2, (ys[1] - ys[0]) / 2
    ax.imshow(
        shifted,
        origin="lower",
        extent=(xs[0] - dx, xs[-1] + dx, ys[0] - dy, ys[-1] + dy),
        aspect="auto",
        cmap=mcolors.ListedColormap(colours),
        vmin=-0.5,
        vmax=len(colours) - 0.5,
        interpolation="nearest",
    )
    fraction = dict(zip(result["outcome_label"].values.tolist(), result["fraction"].values))
    predicates = [str(p) for p in result["predicate"].values]
    handles = []
    for i, name in enumerate(names):
        holds = [p for j, p in enumerate(predicates) if result["attractor_holds"].values[i, j]]
        tag = f" [{', '.join(holds)}]" if holds else ""
        label = f"{name}{tag}: {_percent(fraction[i])}"
        handles.append(mpatches.Patch(color=colours[i + 2], label=label))
    for code, name, colour in (
        (DIVERGED, "diverged", "black"),
        (UNCONVERGED, "unconverged", "#d9d9d9"),
    ):
        if fraction.get(code, 0) > 0:
            handles.append(
                mpatches.Patch(color=colour, label=f"{name}: {_percent(fraction[code])}")
            )
    if show_fixed_points:
        states = [str(s) for s in result["state"].values]
        ix, iy = states.index(x), states.index(y)
        fixed = json.loads(result.attrs["slice_fixed"])
        for location, kind in zip(
            result["fixed_point_location"].values, result["fixed_point_kind"].values
        ):
            off_slice = any(
                abs(location[k] - fixed[s]) > 1e-9 * (1 + abs(fixed[s]))
                for k, s in enumerate(states)
                if s in fixed
            )
            inside = xs[0] <= location[ix] <= xs[-1] and ys[0] <= location[iy] <= ys[-1]
            if off_slice or not inside:
                continue
            ax.scatter(
                location[ix], location[iy], s=70, zorder=3, linewidths=1.5, **_MARKERS[str(kind)]
            )
        for kind in dict.fromkeys(str(k) for k in result["fixed_point_kind"].values):
            handles.append(
                plt.Line2D(
                    [],
                    [],
                    linestyle="none",
                    markersize=8,
                    label=kind,
                    markeredgewidth=1.5,
                    marker=_MARKERS[kind]["marker"],
                    markerfacecolor=_MARKERS[kind]["facecolor"],
                    markeredgecolor=_MARKERS[kind]["edgecolor"],
                )
            )
    for k, region in enumerate(regions):
        handles.append(_outline(ax, result, region, _REGION_STYLES[k % len(_REGION_STYLES)]))
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    if title is None:
        title = f"{result.attrs.get('model', '')}  {result.attrs.get('params', '')}"
    ax.set_title(title, fontsize=10)
    columns = 2 if max(len(h.get_label()) for h in handles) < 40 else 1
    ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.12),
        ncol=columns,
        fontsize=8,
        frameon=False,
    )
    return fig, ax
