"""A NumPyro distribution written down as data, for the provenance of a result."""

from __future__ import annotations

import numpy as np
import numpyro.distributions as dist

# Attributes through which NumPyro's wrappers hold the distributions they wrap.
_INNER = ("base_dist", "base_distribution", "mixing_distribution", "component_distribution")


def _value(value: object) -> object:
    if isinstance(value, dist.Distribution):
        return describe_distribution(value)
    if isinstance(value, int | float | bool | str) or value is None:
        return value
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):
        return type(value).__name__
    if array.dtype.kind in "biuf":
        return array.tolist()
    return type(value).__name__


def describe_distribution(distribution: dist.Distribution) -> dict[str, object]:
    """The class, shapes and parameters of a distribution, as JSON-ready data.

    `Normal(np.zeros(2), 1.0)` becomes `{"class": "Normal", "batch_shape": [2],
    "event_shape": [], "params": {"loc": [0.0, 0.0], "scale": [1.0, 1.0]}}`.
    Wrappers (`Independent`, `ExpandedDistribution`, `TransformedDistribution`,
    mixtures) record the distributions they wrap, and `Independent` its
    `reinterpreted_batch_ndims`, so that the same distribution always gives the same
    record (unlike `repr`, which holds a memory address) and another one gives
    another.

    **Arguments:**

    - `distribution`: a NumPyro distribution.

    **Returns:**

    A dict of strings, numbers, lists and dicts.
    """
    params = {
        name: _value(getattr(distribution, name))
        for name in sorted(distribution.arg_constraints)
        if name in vars(distribution) or hasattr(type(distribution), name)
    }
    record: dict[str, object] = {
        "class": type(distribution).__name__,
        "batch_shape": list(distribution.batch_shape),
        "event_shape": list(distribution.event_shape),
        "params": params,
    }
    for name in _INNER:
        inner = getattr(distribution, name, None)
        if isinstance(inner, dist.Distribution):
            record[name] = describe_distribution(inner)
    if isinstance(distribution, dist.Independent):
        record["reinterpreted_batch_ndims"] = int(distribution.reinterpreted_batch_ndims)
    transforms = getattr(distribution, "transforms", None)
    if transforms:
        record["transforms"] = [type(t).__name__ for t in transforms]
    return record
