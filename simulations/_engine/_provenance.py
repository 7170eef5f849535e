"""Provenance attrs that every result carries."""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import pathlib
import re
from collections.abc import Mapping

import numpy as np

from ... import theory
from ...theory._model import ParamKey
from ._compile import CompiledModel

_PACKAGES = ("basinlab", "jax", "diffrax", "equinox", "sympy", "numpy", "xarray")


def versions() -> dict[str, str]:
    """The installed versions of basinlab and the libraries its numbers depend on."""
    return dict(_installed_versions())


# Reading package metadata takes about 30 ms, and every result carries it: a search
# that integrates dozens of times would spend seconds on it.
@functools.cache
def _installed_versions() -> tuple[tuple[str, str], ...]:
    found = {}
    for package in _PACKAGES:
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            found[package] = "not installed"
    return tuple(found.items())


@functools.cache
def source_fingerprint() -> str:
    """The first 16 hex digits of a SHA-256 over the source of basinlab's numerical
    code (`basinlab.theory` and `basinlab.simulations`).

    The package version stays the same while the code changes under development, so
    results and cached chunks also record this.
    """
    digest = hashlib.sha256()
    for package in (theory.__file__, __file__):
        folder = pathlib.Path(package).parent
        for path in sorted(folder.rglob("*.py")):
            digest.update(path.relative_to(folder).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def solver_description(solver: object) -> str:
    """A solver's repr with memory addresses removed, so that every process of a run
    describes one solver alike."""
    return re.sub(r" at 0x[0-9a-fA-F]+", "", repr(solver))


def provenance(
    compiled: CompiledModel,
    params: Mapping[ParamKey, float] | None,
    settings: Mapping[str, object],
) -> dict[str, object]:
    """Flat, NetCDF-safe attrs naming the model, its kind (flow or map), parameters,
    floating-point type, solver settings, versions and source fingerprint.

    Nested values are stored as JSON text, so that `save` and `load` round-trip them.

    **Arguments:**

    - `compiled`: the compiled model.
    - `params`: the parameter overrides; the defaults fill in the rest.
    - `settings`: the solver settings, as their `describe()` gives them.
    """
    model = compiled.model
    resolved = model.resolve_params(params)
    attrs: dict[str, object] = {
        "model": model.name,
        "model_kind": model.kind,
        "equations": model.equations(),
        "params": json.dumps({str(k): float(v) for k, v in resolved.items()}),
        "dtype": np.dtype(compiled.dtype).name,
        "versions": json.dumps(versions()),
        "source": source_fingerprint(),
    }
    for key, value in settings.items():
        attrs[key] = value if isinstance(value, int | float | str) else str(value)
    return attrs
