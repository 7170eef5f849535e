"""What a command asks for, checked in full before any work starts.

Everything here needs SymPy at most, never JAX, so a bad argument is refused in a
fraction of a second and before any result is computed.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence

from . import _text
from .theory import Model, models
from .theory._checks import check_count, check_seed
from .theory._resources import (
    ensemble_bytes,
    require_continuation_memory,
    require_memory,
    require_training_memory,
)
from .theory._slice import check_box, check_slice


def _model(model: Model | str) -> Model:
    if isinstance(model, Model):
        return model
    return models.build(model)


def _positive_finite(value: float, what: str) -> float:
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{what} must be a positive finite number, got {value}")
    return float(value)


def _pairs(bounds: Sequence[float] | None, axes: Sequence[str]) -> list[tuple[float, float]] | None:
    """Flat `low high` numbers from the command line as one pair per axis."""
    if bounds is None:
        return None
    names = " ".join(f"{a.upper()}_LOW {a.upper()}_HIGH" for a in axes)
    if len(bounds) != 2 * len(axes):
        raise ValueError(
            f"--bounds needs a low and a high for each of the {len(axes)} axes "
            f"({', '.join(axes)}): {names}; got {len(bounds)} numbers"
        )
    values = [float(b) for b in bounds]
    return list(zip(values[::2], values[1::2]))


def _flat_box(model: Model, bounds: Sequence[float] | None) -> tuple[float, ...] | None:
    """Check `low high` per state of a box of initial conditions; return it flat."""
    pairs = _pairs(bounds, model.state_names)
    if pairs is None:
        return None
    return tuple(check_box(pairs, model.state_names).ravel().tolist())


def _resolved(model: Model, params: Mapping[str, float]) -> dict[str, float]:
    return {str(k): v for k, v in model.resolve_params(params).items()}


@dataclasses.dataclass(frozen=True)
class MapRequest:
    """A basin map to compute: model, parameters, slice, grid and solve time.

    **Fields:**

    - `model`: the model.
    - `params`: parameter overrides by name.
    - `x`, `y`: the states of the slice; `y` is `None` for a line.
    - `bounds`: `(x_low, x_high[, y_low, y_high])`, or `None` for the default window.
    - `fixed`: values of the states off the slice.
    - `resolution`: grid points per axis.
    - `t1`: the final time of each solve.
    """

    model: Model
    params: dict[str, float]
    x: str
    y: str | None
    bounds: tuple[float, ...] | None
    fixed: dict[str, float]
    resolution: int
    t1: float

    def __post_init__(self):
        assert self.resolution >= 2 and self.t1 > 0
        assert self.bounds is None or len(self.bounds) == (2 if self.y is None else 4)

    @property
    def file_name(self) -> str:
        return f"{self.model.name}_map.nc"

    def record(self) -> dict[str, object]:
        """What was asked, with defaults filled in, as stored in the result file."""
        return {
            "kind": "map",
            "model": self.model.name,
            "params": _resolved(self.model, self.params),
            "x": self.x,
            "y": self.y,
            "bounds": None if self.bounds is None else list(self.bounds),
            "fixed": dict(self.fixed),
            "resolution": self.resolution,
            "t1": self.t1,
        }


def map_request(
    model: Model | str,
    params: Mapping[str, float] | None = None,
    *,
    x: str | None = None,
    y: str | None = None,
    bounds: Sequence[float] | None = None,
    fixed: Mapping[str, float] | None = None,
    resolution: int = 256,
    t1: float = 200.0,
) -> MapRequest:
    """Check a map request in full; fill in the model's default slice.

    **Arguments:**

    - `model`: a catalogue name or a [`basinlab.Model`][].
    - `params`, `x`, `y`, `bounds`, `fixed`, `resolution`, `t1`: as for
      `basinlab map`; `bounds` is flat, `(x_low, x_high[, y_low, y_high])`.

    **Returns:**

    A `MapRequest`.

    **Raises:**

    - `ValueError`: an unknown model, parameter or state; the same state twice; a
      second axis for a 1-D model; bounds of the wrong count, not finite or
      inverted; a fixed state on the slice; a resolution below 2 or too large for
      memory; `t1` not positive.
    """
    model = _model(model)
    params = dict(params or {})
    model.resolve_params(params)
    fixed = dict(fixed or {})
    preset = model.default_slice if (x, y, bounds) == (None, None, None) else None
    if preset is not None:
        x, y = preset["x"], preset["y"]
        if "bounds" in preset:
            bounds = (*preset["bounds"][0], *preset["bounds"][1])
        fixed = {**preset.get("fixed", {}), **fixed}
    x = x or model.state_names[0]
    if y is None and model.dim > 1:
        y = model.state_names[1] if x != model.state_names[1] else model.state_names[0]
    if y is not None and model.dim == 1:
        raise ValueError(f"model {model.name!r} has one state, so its map is a line: drop --y")
    axes = [x] if y is None else [x, y]
    pairs = _pairs(bounds, axes)
    check_slice(model, axes, pairs, resolution, fixed)
    flat = None if pairs is None else tuple(v for pair in pairs for v in pair)
    return MapRequest(model, params, x, y, flat, fixed, resolution, _positive_finite(t1, "t1"))


@dataclasses.dataclass(frozen=True)
class FractionsRequest:
    """Basin fractions to compute under uniform initial conditions.

    **Fields:**

    - `model`, `params`: the model and parameter overrides.
    - `n`: samples.
    - `seed`: their seed.
    - `bounds`: `low, high` per state, or `None` for the default window.
    - `t1`: the final time of each solve.
    """

    model: Model
    params: dict[str, float]
    n: int
    seed: int
    bounds: tuple[float, ...] | None
    t1: float

    def __post_init__(self):
        assert self.n >= 1 and self.seed >= 0 and self.t1 > 0
        assert self.bounds is None or len(self.bounds) == 2 * self.model.dim

    @property
    def file_name(self) -> str:
        return f"{self.model.name}_fractions.nc"

    def record(self) -> dict[str, object]:
        """What was asked, with defaults filled in, as stored in the result file."""
        return {
            "kind": "fractions",
            "model": self.model.name,
            "params": _resolved(self.model, self.params),
            "n": self.n,
            "seed": self.seed,
            "bounds": None if self.bounds is None else list(self.bounds),
            "t1": self.t1,
        }


def fractions_request(
    model: Model | str,
    params: Mapping[str, float] | None = None,
    *,
    n: int = 20_000,
    seed: int = 0,
    bounds: Sequence[float] | None = None,
    t1: float = 200.0,
) -> FractionsRequest:
    """Check a fractions request in full.

    **Raises:**

    - `ValueError`: an unknown model or parameter; `n` not a positive integer or too
      large for memory; a seed outside $[0, 2^{63})$; bounds of the wrong count, not
      finite or inverted; `t1` not positive.
    - `TypeError`: a seed that is not an integer.
    """
    model = _model(model)
    params = dict(params or {})
    model.resolve_params(params)
    n = check_count(n, "n")
    require_memory(ensemble_bytes(n, model.dim), f"{n} samples")
    return FractionsRequest(
        model,
        params,
        n,
        check_seed(seed),
        _flat_box(model, bounds),
        _positive_finite(t1, "t1"),
    )


@dataclasses.dataclass(frozen=True)
class ContinuationRequest:
    """A continuation to compute: model, the varied parameter and its values, samples.

    **Fields:**

    - `model`, `params`, `n`, `seed`, `bounds`, `t1`: as for [`FractionsRequest`][];
      `params` holds the other parameters.
    - `param`: the parameter varied.
    - `start`, `stop`, `count`: its values, `count` evenly spaced from `start` to
      `stop`.
    """

    model: Model
    params: dict[str, float]
    param: str
    start: float
    stop: float
    count: int
    n: int
    seed: int
    bounds: tuple[float, ...] | None
    t1: float

    def __post_init__(self):
        assert self.count >= 2 and self.start < self.stop and self.n >= 1 and self.t1 > 0

    @property
    def file_name(self) -> str:
        return f"{self.model.name}_continuation.nc"

    def record(self) -> dict[str, object]:
        """What was asked, with defaults filled in, as stored in the result file."""
        return {
            "kind": "continuation",
            "model": self.model.name,
            "params": _resolved(self.model, self.params),
            "param": self.param,
            "range": [self.start, self.stop, self.count],
            "n": self.n,
            "seed": self.seed,
            "bounds": None if self.bounds is None else list(self.bounds),
            "t1": self.t1,
        }


def parse_range(text: str) -> tuple[str, float, float, int]:
    """`NAME=START:STOP:COUNT` as its parts.

    **Raises:**

    - `ValueError`: the text is malformed, a number is not finite, the range is empty
      or inverted, or the count is below 2.
    """
    name, equals, values = text.partition("=")
    parts = values.split(":")
    if not equals or not name.strip() or len(parts) != 3:
        raise ValueError(
            f"--param takes NAME=START:STOP:COUNT, such as bias=0:1.2:25; got {text!r}"
        )
    start, stop, count = _text.decimal(parts[0]), _text.decimal(parts[1]), _text.integer(parts[2])
    if start is None or stop is None or count is None:
        raise ValueError(
            f"--param takes NAME=START:STOP:COUNT with plain decimal START and STOP and an "
            f"integer COUNT (not 1_0 or 0x10); got {text!r}"
        )
    if not (math.isfinite(start) and math.isfinite(stop)):
        raise ValueError(f"the range of {name.strip()!r} must be finite, got {text!r}")
    if not start < stop:
        raise ValueError(f"the range of {name.strip()!r} is empty or inverted: {start} to {stop}")
    if count < 2:
        raise ValueError(f"the range of {name.strip()!r} needs at least 2 values, got {count}")
    return name.strip(), start, stop, count


def continuation_request(
    model: Model | str,
    varied: str,
    params: Mapping[str, float] | None = None,
    *,
    n: int = 2000,
    seed: int = 0,
    bounds: Sequence[float] | None = None,
    t1: float = 200.0,
) -> ContinuationRequest:
    """Check a continuation request in full; `varied` is `NAME=START:STOP:COUNT`.

    **Raises:**

    - `ValueError`: as for [`fractions_request`][], and a malformed range, a name
      that is not a parameter, or one that is also fixed in `params`.
    """
    model = _model(model)
    params = dict(params or {})
    model.resolve_params(params)
    name, start, stop, count = parse_range(varied)
    if name not in model.param_names:
        raise ValueError(f"{name!r} is not a parameter of {model.name!r}: {model.param_names}")
    if name in params:
        raise ValueError(f"{name!r} is varied; do not also set it with --set")
    n = check_count(n, "n")
    require_continuation_memory(count, n, model.dim)
    return ContinuationRequest(
        model,
        params,
        name,
        start,
        stop,
        count,
        n,
        check_seed(seed),
        _flat_box(model, bounds),
        _positive_finite(t1, "t1"),
    )


# The number of nonzero weights of the testbed's sparse_linear class, as the command
# line draws it (a test holds it equal to SparseLinear's default).
SPARSE_NONZEROS = 3
# The testbed's model in --fast mode, and its held-out prompts in each mode.
FAST_TESTBED = {"width": 16, "depth": 1, "heads": 2, "batch": 16}
EVAL_BATCH = {True: 64, False: 1024}


def check_testbed(record: Mapping[str, object]) -> None:
    """Check a `basinlab testbed` request before JAX loads: the heads must divide the
    width, the sparse class needs room for its nonzero weights, and the training must
    fit in memory.

    **Raises:**

    - `ValueError`: the message names the option to change.
    """
    sizes = {k: record[k] for k in ("width", "depth", "heads", "batch")}
    if record["fast"]:
        sizes |= FAST_TESTBED
    if sizes["width"] % sizes["heads"]:
        raise ValueError(f"--heads {sizes['heads']} must divide --width {sizes['width']}")
    dim = int(record["dim"])
    if record["function_class"] == "sparse_linear" and dim < SPARSE_NONZEROS:
        raise ValueError(
            f"sparse_linear draws {SPARSE_NONZEROS} nonzero weights, so it needs --dim of "
            f"at least {SPARSE_NONZEROS}, got {dim}"
        )
    points = record["points"] or 2 * dim + 1
    require_training_memory(
        dim,
        points,
        sizes["width"],
        sizes["depth"],
        sizes["heads"],
        sizes["batch"],
        EVAL_BATCH[bool(record["fast"])],
    )


def attractors_record(
    command: str,
    model: Model | str,
    params: Mapping[str, float] | None,
    *,
    bounds: Sequence[float] | None,
    cells: int,
    n: int,
    seed: int,
    interval: float,
    max_steps: int,
    edge_ends: tuple[Sequence[float], Sequence[float]] | None = None,
    steps: int = 20,
) -> dict[str, object]:
    """Check an `attractors` or `edge` request in full; return its record.

    **Raises:**

    - `ValueError`: an unknown model or parameter; bounds of the wrong count, not
      finite or inverted, or none for a model without a search box; ends of an edge
      of the wrong length or not finite.
    """
    model = _model(model)
    params = dict(params or {})
    box = _flat_box(model, bounds)
    if box is None:
        if model.search_box is None:
            raise ValueError(
                f"{model.name} has no search box: give --bounds, a low and high per state"
            )
        box = tuple(v for pair in model.search_box for v in pair)
    record: dict[str, object] = {
        "kind": command,
        "model": model.name,
        "params": _resolved(model, params),
        "bounds": list(box),
        "cells": check_count(cells, "cells"),
        "n": check_count(n, "n"),
        "seed": check_seed(seed),
        "interval": _positive_finite(interval, "interval"),
        "max_steps": check_count(max_steps, "max_steps"),
    }
    if edge_ends is not None:
        for name, end in zip(("--from", "--to"), edge_ends):
            values = [float(v) for v in end]
            if len(values) != model.dim or not all(math.isfinite(v) for v in values):
                raise ValueError(
                    f"{name} needs {model.dim} finite numbers, one per state "
                    f"{list(model.state_names)}"
                )
        record |= {
            "from": [float(v) for v in edge_ends[0]],
            "to": [float(v) for v in edge_ends[1]],
            "steps": check_count(steps, "steps"),
        }
    return record
