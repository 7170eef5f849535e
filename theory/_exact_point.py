"""A state given by the caller as exact SymPy coordinates."""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp

from ._model import Model


def exact_point(model: Model, attractor: Sequence[object]) -> dict[sp.Symbol, sp.Expr]:
    """The attractor's coordinates by state symbol: SymPy values kept, numbers made
    exact (`nsimplify`). A `FixedPoint` gives its exact `location`.

    **Raises:**

    - `ValueError`: the number of coordinates is not the model's dimension.
    """
    values = list(getattr(attractor, "location", attractor))
    if len(values) != model.dim:
        raise ValueError(
            f"the attractor has {len(values)} coordinates but {model.name!r} has {model.dim} states"
        )
    return {
        s: v if isinstance(v, sp.Basic) else sp.nsimplify(v) for s, v in zip(model.state, values)
    }
