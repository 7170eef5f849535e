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

from ...theory import NON_HYPERBOLIC, SADDLE, STABLE_FOCUS, STABLE_NODE, UNSTABLE
from .._engine._solver_settings import CONVERGED, DIVERGED, UNCONVERGED

_MARKERS = {
    STABLE_NODE: dict(marker="o", facecolor="white", edgecolor="black"),
    STABLE_FOCUS: dict(marker="o", facecolor="white", edgecolor="black"),
    SADDLE: dict(marker="X", facecolor="black", edgecolor="white"),
    UNSTABLE: dict(marker="o", facecolor="none", edgecolor="black"),
    NON_HYPERBOLIC: dict(marker="D", facecolor="yellow", edgecolor="black"),
}
PALETTE = [
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


def _slice_points(result: xr.Dataset) -> tuple[np.ndarray, tuple[int, ...]]:
    """The states at the grid points of a map, one per row, and the grid's shape."""
    axes = [result.attrs["x"], *([result.attrs["y"]] if result.attrs["y"] else [])]
    states = [str(s) for s in result["state"].values]
    fixed = json.loads(result.attrs["slice_fixed"])
    ticks = [result[a].values for a in axes]
    grid = np.meshgrid(*ticks[::-1], indexing="ij")[::-1]
    points = np.zeros((grid[0].size, len(states)))
    for k, state in enumerate(states):
        points[:, k] = fixed.get(state, 0.0)
    for axis, values in zip(axes, grid):
        points[:, states.index(axis)] = values.ravel()
    return points, grid[0].shape


def _check_region(result: xr.Dataset, region) -> None:
    """Refuse a region certified for another model, other parameters or other states."""
    if not callable(getattr(region, "contains", None)):
        raise ValueError(f"a region to outline needs a contains(points) method, got {region!r}")
    label = getattr(region, "label", "region")
    model = getattr(region, "model", None)
    if model is not None and model != result.attrs.get("model"):
        raise ValueError(
            f"{label} is a region of model {model!r}, but the map is of "
            f"{result.attrs.get('model')!r}"
        )
    params = getattr(region, "params", None)
    if params is not None and dict(params) != json.loads(result.attrs.get("params", "{}")):
        raise ValueError(
            f"{label} was certified at parameters {dict(params)}, but the map was made at "
            f"{result.attrs.get('params')}"
        )
    state = getattr(region, "state", None)
    if state is not None and list(state) != [str(s) for s in result["state"].values]:
        raise ValueError(f"{label} is over the states {list(state)}, not those of the map")


def _outline(ax, result: xr.Dataset, region, colour: str) -> plt.Line2D:
    """Draw the boundary of `region` on the map's grid; return its legend handle."""
    points, shape = _slice_points(result)
    inside = np.asarray(region.contains(points), dtype=float).reshape(shape)
    x = result.attrs["x"]
    if not result.attrs["y"]:
        # On a line, shade the stretch inside the region.
        xs = result[x].values
        ax.fill_between(xs, 0, 1, where=inside > 0.5, color=colour, alpha=0.3, step="mid")
    elif inside.any():
        ax.contour(
            result[x].values,
            result[result.attrs["y"]].values,
            inside,
            levels=[0.5],
            colors=colour,
            linewidths=2,
            linestyles="--",
        )
    label = str(getattr(region, "label", "region"))
    return plt.Line2D([], [], color=colour, linestyle="--", linewidth=2, label=label)


def _axis_label(result: xr.Dataset, axis: str) -> str:
    name = result.attrs[axis]
    unit = result.attrs.get(f"{axis}_unit", "")
    return f"{name} [{unit}]" if unit else name


BASINS = "basins"
TIME = "time"


def plot_basin_map(
    result: xr.Dataset,
    ax: matplotlib.axes.Axes | None = None,
    *,
    show: str = BASINS,
    show_fixed_points: bool = True,
    title: str | None = None,
    regions: Sequence[object] = (),
    aspect: str | float | None = None,
) -> tuple[matplotlib.figure.Figure, matplotlib.axes.Axes]:
    """Draw a basin map: each basin in its colour, fixed points marked by kind; or,
    with `show="time"`, how long each start took to settle.

    Attractors that satisfy a predicate are tagged with its name in the legend, with
    each basin's area fraction. `DIVERGED` points are black and `UNCONVERGED` points
    light grey. Fixed points are drawn when they lie on the slice: stable ones as
    white discs, saddles as crosses, unstable ones as rings, non-hyperbolic ones as
    yellow diamonds. A map along a line (a 1-D model, or `y=None`) is drawn as a
    strip.

    The time map colours each start by `t_final` (the time, or for a map the
    iterations, until it came to rest) on a logarithmic scale, with the basin
    boundaries drawn over it in white: starts near a boundary or a stable manifold
    linger by a saddle and take longest. Starts that diverged or never settled are
    grey. A line is drawn as a curve of the time against the state.

    **Arguments:**

    - `result`: a dataset from [`basinlab.basin_map`][].
    - `ax`: axes to draw on; a new figure is made if `None`.
    - `show`: `"basins"` or `"time"`.
    - `show_fixed_points`: mark the fixed points.
    - `title`: the title; the model name and parameters by default.
    - `regions`: regions to outline, such as a `basinlab.proofs.CertifiedRegion`: any
      object with `contains(points)` (a boolean per row of an `(n, dim)` array of
      states) and a `label`. Each is drawn as a dashed contour on the slice. A
      region that names its `model`, `params` or `state` must match the map's.
    - `aspect`: `"equal"`, `"auto"` or a number; by default equal when both axes
      have the same unit (see `Model(units=...)`), else auto.

    **Returns:**

    `(fig, ax)`.

    **Raises:**

    - `ValueError`: `result` is not a basin map; `show` is neither `"basins"` nor
      `"time"`; a region lacks `contains`, or belongs to another model, other
      parameters or other states.
    """
    if result.attrs.get("kind") != "basin_map":
        raise ValueError("plot_basin_map needs a result of basinlab.basin_map")
    if show not in (BASINS, TIME):
        raise ValueError(f"show must be 'basins' or 'time', got {show!r}")
    for region in regions:
        _check_region(result, region)
    line = not result.attrs["y"]
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.4, 2.8 if line else 5.2), layout="constrained")
    else:
        fig = ax.figure
    if show == TIME:
        handles = _draw_times(ax, result, aspect)
    else:
        handles = _draw_basins(ax, result, aspect)
    if show_fixed_points and not (line and show == TIME):
        handles += _mark_fixed_points(ax, result)
    for k, region in enumerate(regions):
        handles.append(_outline(ax, result, region, _REGION_STYLES[k % len(_REGION_STYLES)]))
    ax.set_xlabel(_axis_label(result, "x"))
    if line and show == BASINS:
        ax.set_yticks([])
    elif not line:
        ax.set_ylabel(_axis_label(result, "y"))
    if title is None:
        title = f"{result.attrs.get('model', '')}  {result.attrs.get('params', '')}"
    ax.set_title(title, fontsize=10)
    if handles:
        columns = 2 if max(len(h.get_label()) for h in handles) < 40 else 1
        ax.legend(
            handles=handles,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.3 if line else -0.12),
            ncol=columns,
            fontsize=8,
            frameon=False,
        )
    return fig, ax


def _extent(result: xr.Dataset) -> tuple[np.ndarray, np.ndarray, tuple[float, ...]]:
    """The ticks of the map and the extent of its image; a line is a strip around 0.5."""
    x, y = result.attrs["x"], result.attrs["y"]
    xs = result[x].values
    ys = result[y].values if y else np.array([0.5])
    dx = (xs[1] - xs[0]) / 2
    dy = (ys[1] - ys[0]) / 2 if y else 0.5
    return xs, ys, (xs[0] - dx, xs[-1] + dx, ys[0] - dy, ys[-1] + dy)


def _resolve_aspect(result: xr.Dataset, aspect: str | float | None) -> str | float:
    if aspect is not None:
        return aspect
    same_unit = result.attrs.get("x_unit", "") == result.attrs.get("y_unit", "")
    return "equal" if same_unit and result.attrs["y"] else "auto"


def _draw_times(ax, result: xr.Dataset, aspect) -> list:
    """Colour by the time to settle, with the basin boundaries on top."""
    settled = result["status"].values == CONVERGED
    times = np.where(settled, result["t_final"].values, np.nan)
    unit = "iterations" if result.attrs.get("model_kind") == "map" else "time"
    positive = times[np.isfinite(times) & (times > 0)]
    norm = (
        mcolors.LogNorm(positive.min(), max(positive.max(), positive.min() * 1.001))
        if positive.size
        else None
    )
    xs, ys, extent = _extent(result)
    if not result.attrs["y"]:
        ax.plot(xs, times, color=PALETTE[0])
        ax.set_yscale("log" if positive.size else "linear")
        ax.set_ylabel(f"{unit} to settle")
        return []
    cmap = matplotlib.colormaps["viridis"].with_extremes(bad="#bdbdbd")
    image = ax.imshow(
        times,
        origin="lower",
        extent=extent,
        aspect=_resolve_aspect(result, aspect),
        cmap=cmap,
        norm=norm,
        interpolation="nearest",
    )
    ax.figure.colorbar(image, ax=ax, label=f"{unit} to settle")
    labels = result["label"].values
    for level in np.unique(labels)[:-1] + 0.5:
        ax.contour(xs, ys, labels, levels=[level], colors="white", linewidths=0.8)
    return [plt.Line2D([], [], color="white", linewidth=0.8, label="basin boundary")]


def _draw_basins(ax, result: xr.Dataset, aspect) -> list:
    """Each basin in its colour; return the legend handles with the fractions."""
    names = [str(v) for v in result["attractor_name"].values]
    colours = ["black", "#d9d9d9"] + [PALETTE[i % len(PALETTE)] for i in range(len(names))]
    # -2 -> 0, -1 -> 1, attractor i -> i + 2
    shifted = np.atleast_2d(result["label"].values - UNCONVERGED)
    _, _, extent = _extent(result)
    ax.imshow(
        shifted,
        origin="lower",
        extent=extent,
        aspect=_resolve_aspect(result, aspect),
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
    return handles


def _mark_fixed_points(ax, result: xr.Dataset) -> list:
    """Mark the fixed points that lie on the slice; return their legend handles."""
    x, y = result.attrs["x"], result.attrs["y"]
    xs, ys, _ = _extent(result)
    states = [str(s) for s in result["state"].values]
    ix = states.index(x)
    iy = states.index(y) if y else None
    fixed = json.loads(result.attrs["slice_fixed"])
    for location, kind in zip(
        result["fixed_point_location"].values, result["fixed_point_kind"].values
    ):
        off_slice = any(
            abs(location[k] - fixed[s]) > 1e-9 * (1 + abs(fixed[s]))
            for k, s in enumerate(states)
            if s in fixed
        )
        vertical = 0.5 if iy is None else location[iy]
        inside = xs[0] <= location[ix] <= xs[-1] and (iy is None or ys[0] <= vertical <= ys[-1])
        if off_slice or not inside:
            continue
        ax.scatter(location[ix], vertical, s=70, zorder=3, linewidths=1.5, **_MARKERS[str(kind)])
    return [
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
        for kind in dict.fromkeys(str(k) for k in result["fixed_point_kind"].values)
    ]
