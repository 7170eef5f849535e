"""Provenance attrs that every result carries."""

from __future__ import annotations

import importlib.metadata
import json
from collections.abc import Mapping

import sympy as sp

from ..theory import Model

_PACKAGES = ("basinlab", "jax", "diffrax", "equinox", "sympy", "numpy", "xarray")


def versions() -> dict[str, str]:
    """The installed versions of basinlab and the libraries its numbers depend on."""
    found = {}
    for package in _PACKAGES:
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


def provenance(
    model: Model, params: Mapping[sp.Symbol, float], settings: Mapping[str, object]
) -> dict[str, object]:
    """Flat, NetCDF-safe attrs naming the model, its kind (flow or map), parameters,
    solver and versions.

    Nested values are stored as JSON text, so that `save` and `load` round-trip them.
    """
    attrs: dict[str, object] = {
        "model": model.name,
        "model_kind": model.kind,
        "equations": model.equations(),
        "params": json.dumps({str(k): float(v) for k, v in params.items()}),
        "versions": json.dumps(versions()),
    }
    for key, value in settings.items():
        attrs[key] = value if isinstance(value, int | float | str) else str(value)
    return attrs
