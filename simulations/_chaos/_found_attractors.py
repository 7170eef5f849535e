"""Attractors found without theory: each one described from samples on it, and the
result table that both finding methods return."""

from __future__ import annotations

import json
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np
import numpyro.distributions as dist
import xarray as xr
from jaxtyping import Array, Float, Int

from .._basin._attractors import Attractor, _format
from .._basin._basins import _tables
from .._engine._compile import CompiledModel
from .._engine._provenance import provenance
from .._storage._distribution_record import describe_distribution
from ._attractor_kind import FIXED_POINT, attractor_kind
from ._recurrence_settings import RecurrenceSettings

# States kept from the samples on each attractor, to start further work from it.
_KEPT_SAMPLES = 64


def described_attractor(
    compiled: CompiledModel,
    p: Float[Array, " m"],
    states: Float[np.ndarray, "k n"],
    settings: RecurrenceSettings,
    index: int,
    title: str | None = None,
) -> tuple[Attractor, Float[np.ndarray, " n"]]:
    """The attractor that consecutive samples `states` lie on, numbered `index`: its
    kind (by `attractor_kind`), its point or box, the predicates that hold on all the
    samples; and its Lyapunov spectrum. `title` replaces the kind in its name."""
    named = dict(zip(compiled.param_names, np.asarray(p, float).tolist()))
    kind, period, spectrum = attractor_kind(compiled, named, states, settings)
    low, high = states.min(axis=0), states.max(axis=0)
    point = kind == FIXED_POINT
    centre = states[-1] if point else (low + high) / 2
    extent = np.zeros_like(centre) if point else (high - low) / 2
    title = title or (f"{kind} period {period}" if period else kind)
    name = f"A{index}: {title} around {_format(tuple(centre))}"
    if not point:
        name += f", half-width {_format(tuple(extent))}"
    truth = np.asarray(jax.vmap(lambda y: compiled.predicates(y, p))(jnp.asarray(states)))
    holds = dict(zip(compiled.predicate_names, map(bool, truth.all(axis=0))))
    return Attractor(name, kind, centre, extent, holds, period), spectrum


def found_dataset(
    compiled: CompiledModel,
    params: Mapping[str, float] | None,
    settings: RecurrenceSettings,
    p0: dist.Distribution,
    seed: int,
    confidence: float,
    y0s: Float[np.ndarray, "trajectories n"],
    label: Int[np.ndarray, " trajectories"],
    attractors: list[Attractor],
    exponents: list[np.ndarray],
    on_attractors: list[np.ndarray],
    data: Mapping[str, tuple],
    attrs: Mapping[str, object],
) -> xr.Dataset:
    """The result of a finding method: starts, labels, the attractor and outcome
    tables of `basin_fractions` (no theory, so no fixed-point table), the spectra,
    `_KEPT_SAMPLES` states spread over each attractor's samples `on_attractors`, and
    the method's own `data` and `attrs`."""
    dim = len(compiled.state_names)
    tables = _tables(
        compiled.state_names, compiled.predicate_names, label, attractors, [], confidence
    )
    variables = {
        "y0": (("trajectory", "state"), y0s),
        "label": ("trajectory", label),
        **{name: value for name, value in tables.items() if not name.startswith("fixed_point")},
        "attractor_exponents": (
            ("attractor", "exponent"),
            np.array(exponents, float).reshape(len(attractors), dim),
        ),
        "attractor_sample": (
            ("attractor", "sample", "state"),
            np.array(
                [
                    states[np.linspace(0, len(states) - 1, _KEPT_SAMPLES).astype(int)]
                    for states in on_attractors
                ]
            ).reshape(len(attractors), _KEPT_SAMPLES, dim),
        ),
        **data,
    }
    coords = {
        "trajectory": np.arange(len(label)),
        "state": list(compiled.state_names),
        "predicate": list(compiled.predicate_names),
        "exponent": np.arange(1, dim + 1),
    }
    fields = {f: getattr(settings, f) for f in settings.__dataclass_fields__}
    return xr.Dataset(
        variables,
        coords=coords,
        attrs=provenance(compiled, params, fields)
        | {
            "seed": seed,
            "p0": json.dumps(describe_distribution(p0), sort_keys=True),
            "confidence": confidence,
        }
        | dict(attrs),
    )
