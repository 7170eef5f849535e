"""The grid method of the Wada test: boundary boxes of a basin map refined until they
show every basin (Daza, Wagemakers, Sanjuán & Yorke 2015)."""

from __future__ import annotations

import json

import numpy as np
import xarray as xr
from jaxtyping import Float, Int

from ...theory import Model
from .._engine._compile import CompiledModel
from .._engine._integrate import as_compiled
from .._engine._solver_settings import UNCONVERGED, SolverSettings
from ._basins import labelled_ensemble
from ._label_settings import LabelSettings

# Attractors found again at the same parameters lie at the map's locations to this
# relative distance.
_SAME_ATTRACTOR = 1e-3


def _map_labels(result: xr.Dataset, attractors: list, label: np.ndarray) -> np.ndarray:
    """Labels of a new labelling, renumbered as the map numbers its attractors."""
    locations = result["attractor_location"].values
    renumbered = label.copy()
    for k, attractor in enumerate(attractors):
        gaps = np.max(np.abs(locations - attractor.location), axis=1)
        scale = 1 + np.max(np.abs(attractor.location))
        if len(gaps) and gaps.min() < _SAME_ATTRACTOR * scale:
            renumbered[label == k] = int(np.argmin(gaps))
        else:
            renumbered[label == k] = UNCONVERGED  # not one of the map's basins
    return renumbered


def wada_grid_shares(
    model: Model | CompiledModel,
    result: xr.Dataset,
    outcomes: Int[np.ndarray, " k"],
    refinements: int,
    settings: SolverSettings | None,
    labels: LabelSettings | None,
) -> Float[np.ndarray, " k"]:
    r"""$W_m$, the share of the map's boundary boxes that show $m = 1, \dots, N$ of its
    $N$ basins after refinement.

    A box is the square between four neighbouring grid points; it is on the boundary
    when they do not all end alike. Each boundary box that shows fewer than $N$
    basins is refined: at step $q$ its $(2^q + 1)^2$ lattice points are labelled (all
    boxes' new points in one ensemble), until it shows all $N$ or $q$ reaches
    `refinements`. A Wada map has $W_N \to 1$.
    """
    compiled = as_compiled(model)
    params = json.loads(result.attrs["params"])
    grid = result["label"].values
    x, y = result.attrs["x"], result.attrs["y"]
    xs, ys = result[x].values, result[y].values
    names = list(compiled.state_names)
    base = np.zeros(len(names))
    for name, value in json.loads(result.attrs["slice_fixed"]).items():
        base[names.index(name)] = value
    wanted = set(outcomes.tolist())
    rows, columns = np.meshgrid(np.arange(len(ys) - 1), np.arange(len(xs) - 1), indexing="ij")
    corners = np.stack(
        [grid[:-1, :-1], grid[1:, :-1], grid[:-1, 1:], grid[1:, 1:]], axis=-1
    ).reshape(-1, 4)
    seen = [set(c.tolist()) & wanted for c in corners]
    boxes = [b for b, s in enumerate(seen) if len(s) >= 2]
    if not boxes:
        return np.zeros(len(outcomes))
    row, column = rows.ravel()[boxes], columns.ravel()[boxes]
    colours = [seen[b] for b in boxes]
    for q in range(1, refinements + 1):
        open_boxes = [i for i, c in enumerate(colours) if len(c) < len(wanted)]
        if not open_boxes:
            break
        side = 2**q + 1
        fine = np.linspace(0, 1, side)
        # Points of this lattice not on the last one.
        new = [(a, b) for a in range(side) for b in range(side) if a % 2 or b % 2]
        u = np.array([fine[a] for a, _ in new])
        v = np.array([fine[b] for _, b in new])
        i = np.array(open_boxes)
        left, bottom = xs[column[i]], ys[row[i]]
        width, height = xs[column[i] + 1] - left, ys[row[i] + 1] - bottom
        px = (left[:, None] + width[:, None] * u[None]).ravel()
        py = (bottom[:, None] + height[:, None] * v[None]).ravel()
        states = np.repeat(base[None], len(px), axis=0)
        states[:, names.index(x)], states[:, names.index(y)] = px, py
        _, label, attractors, _ = labelled_ensemble(
            compiled, states, params, settings, labels, None, False, None, {}
        )
        label = _map_labels(result, attractors, label).reshape(len(i), len(new))
        for k, box in enumerate(open_boxes):
            colours[box] |= set(label[k].tolist()) & wanted
    counts = np.array([len(c) for c in colours])
    return np.array([np.mean(counts == m) for m in range(1, len(outcomes) + 1)])
