"""What the command line's `attractors` and `edge` do: find the attractors of a model
with no prior knowledge, track an edge state, print and write the results."""

from __future__ import annotations

import json
import pathlib

import numpy as np
import numpyro.distributions as dist

from ._output_folder import REQUEST_ATTRIBUTE
from ._printing import table
from ._report import _print_fractions
from .simulations import (
    RecurrenceSettings,
    edge_state,
    find_attractors,
    load,
    plot_found_attractors,
    save,
)
from .simulations._storage._atomic import save_figure
from .theory import models


def _print_attractors(found) -> None:
    rows = [
        (str(name), str(kind), ", ".join(f"{e:.4f}" for e in exponents))
        for name, kind, exponents in zip(
            found["attractor_name"].values,
            found["attractor_kind"].values,
            found["attractor_exponents"].values,
        )
    ]
    print(table(("attractor", "kind", "Lyapunov exponents"), rows))
    _print_fractions(found)


def run(record: dict, path: pathlib.Path, progress: bool) -> None:
    """Find the attractors `record` asks for (or read them back from `path` when it
    holds them already), then track the edge when asked; print and write."""
    model = models.build(record["model"])
    params = record["params"]
    settings = RecurrenceSettings(interval=record["interval"], max_steps=record["max_steps"])
    if path.exists():
        found = load(path)
        print(f"read {path}, computed before with these settings")
    else:
        box = np.reshape(np.asarray(record["bounds"], float), (model.dim, 2))
        found = find_attractors(
            model,
            dist.Uniform(box[:, 0], box[:, 1]).to_event(1),
            grid=[(lo, hi, record["cells"]) for lo, hi in box],
            n=record["n"],
            seed=record["seed"],
            params=params,
            settings=settings,
            progress=progress,
        )
        found.attrs[REQUEST_ATTRIBUTE] = json.dumps(record)
        save(found, path)
        fig, _ = plot_found_attractors(found)
        save_figure(fig, path.with_suffix(".png"))
        print(f"wrote {path} and {path.with_suffix('.png')}")
    cells = record["cells"]
    print(f"attractors of {model.name} found by recurrences on a grid of {cells} cells per state")
    _print_attractors(found)
    if record["kind"] != "edge":
        return
    edge = edge_state(
        model,
        found,
        record["from"],
        record["to"],
        params=params,
        settings=settings,
        steps=record["steps"],
    )
    state = ", ".join(
        f"{name} = {value:.6g}" for name, value in zip(model.state_names, edge["edge_state"].values)
    )
    print(f"edge state between attractors {edge['attractor'].values.tolist()}: {state}")
    edge_path = path.with_name(f"{model.name}_edge_state.nc")
    edge.attrs[REQUEST_ATTRIBUTE] = json.dumps(record)
    save(edge, edge_path)
    print(f"wrote {edge_path}")
