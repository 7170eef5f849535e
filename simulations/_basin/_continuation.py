"""Basin fractions across a parameter, with attractors matched from value to value."""

from __future__ import annotations

import json
import pathlib
from collections.abc import Mapping, Sequence

import numpy as np
import numpyro.distributions as dist
import xarray as xr
from jaxtyping import ArrayLike

from ...theory import Model
from ...theory._checks import check_count, check_positive, check_seed
from ...theory._legacy_arguments import legacy_arguments
from ...theory._resources import require_continuation_memory
from .._engine._compile import CompiledModel
from .._engine._integrate import as_compiled
from .._engine._progress import Progress
from .._engine._provenance import provenance
from .._engine._settings_argument import settings_argument
from .._engine._solver_settings import DIVERGED, UNCONVERGED, SolverSettings
from .._storage._distribution_record import describe_distribution
from ._attractors import Attractor
from ._basins import labelled_ensemble
from ._label_settings import LabelSettings
from ._matching import (
    DISTANCE,
    ENCLOSURE,
    MATCHERS,
    OVERLAP,
    match_attractors,
    match_by_enclosure,
    match_by_overlap,
)
from ._sampling import sample_states
from ._wilson import wilson_interval

# Extra starts placed around each attractor of the previous value, and their spread
# relative to the attractor's size.
_SEEDS_PER_ATTRACTOR = 8
_SEED_SPREAD = 1e-2
# States of each attractor run at the previous value to find the basin holding it, and
# the distance within which the attractors found there are the previous value's own.
_PROBES = 4
_SAME_VALUE = 0.05


def check_parameter_values(values: ArrayLike, what: str = "values") -> np.ndarray:
    """Parameter values as a finite 1-D float array with at least one entry.

    **Raises:**

    - `ValueError`: the list is empty, not 1-D, or holds a value that is not finite.
    """
    array = np.asarray(values, dtype=float)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{what} must be a non-empty list of numbers, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{what} must be finite, got {array[~np.isfinite(array)][:3].tolist()}")
    return array


def check_continuation(
    compiled: CompiledModel,
    varied: Sequence[str],
    params: Mapping[str, float] | None,
    threshold: float,
    match: str,
    confidence: float,
    n: int,
    seed: int,
    points: int,
    p0: dist.Distribution,
) -> tuple[np.ndarray, float, int, int]:
    """Check what every continuation is asked; return the samples from `p0`, and the
    threshold, `n` and `seed` as checked.

    **Raises:**

    - `ValueError`: a varied name that is not a parameter, varied twice, or also
      fixed in `params`; `threshold`, `match`, `confidence`, `n` or `seed` out of
      range; more points and samples than fit in memory; `p0` of the wrong shape.
    """
    for name in varied:
        if name not in compiled.param_names:
            raise ValueError(
                f"{name!r} is not a parameter of {compiled.name!r}: {compiled.param_names}"
            )
        if name in (params or {}):
            raise ValueError(f"{name!r} is a parameter being varied; do not also fix it in params")
    if len(set(varied)) != len(varied):
        raise ValueError(f"the varied parameters must be different, got {list(varied)}")
    threshold = check_positive(threshold, "threshold")
    if match not in MATCHERS:
        raise ValueError(f"match must be one of {list(MATCHERS)}, got {match!r}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    n, seed = check_count(n, "n"), check_seed(seed)
    dim = len(compiled.state_names)
    require_continuation_memory(points, n, dim)
    return sample_states(p0, n, seed, dim), threshold, n, seed


def _seeds(attractors: Sequence[Attractor], rng: np.random.Generator) -> np.ndarray:
    rows = []
    for a in attractors:
        spread = _SEED_SPREAD * (1 + np.max(np.abs(a.location))) + a.extent
        rows.append(
            a.location + spread * rng.uniform(-1, 1, (_SEEDS_PER_ATTRACTOR, len(a.location)))
        )
    return np.concatenate(rows) if rows else np.zeros((0, 0))


@legacy_arguments(positional=("n", "seed", "params"))
def continuation(
    model: Model | CompiledModel,
    param: str,
    values: ArrayLike,
    p0: dist.Distribution,
    *,
    n: int = 2000,
    seed: int = 0,
    params: Mapping[str, float] | None = None,
    threshold: float = 0.25,
    match: str = DISTANCE,
    settings: SolverSettings | None = None,
    labels: LabelSettings | None = None,
    confidence: float = 0.95,
    progress: bool = True,
    checkpoint_dir: str | None = None,
) -> xr.Dataset:
    r"""Basin fractions along a parameter, with each attractor followed by one ID.

    At each value of `param`, the same `n` starts drawn from $p_0$ (common random
    numbers, so differences between values are not sampling noise), plus a few
    starts placed around each attractor found at the previous value, are integrated
    and labelled. The seeded starts find an attractor that continues even when its
    basin has become too small for the samples to hit; fractions count the samples
    alone. Attractors are matched to those of the previous value one to one by
    distance, greedily from the closest pair. One that matches none of them is then
    matched, in the same way, to the attractors that vanished earlier, at their last
    locations, so an attractor that returns (a parameter swept 0 -> 0.6 -> 0 across a
    fold and back) keeps its ID; one farther than `threshold` (relative sup-distance)
    from all of those is new. A vanished attractor has fraction 0 while it is absent
    (global continuation after G. Datseris,
    K. L. Rossi and A. Wagemakers, "Framework for global stability analysis of
    dynamical systems", Chaos 33, 073151, 2023).

    **Arguments:**

    - `model`: a [`basinlab.Model`][] or a compiled one.
    - `param`: the name of the parameter to vary.
    - `values`: its values, in the order to visit them.
    - `p0`: the distribution of starts, as for [`basinlab.basin_fractions`][].
    - `n`, `seed`: the number of samples and their seed.
    - `params`: overrides of the other parameters.
    - `threshold`: the largest relative distance at which two attractors match by
      distance.
    - `match`: `"distance"`, `"overlap"` or `"enclosure"`.
    - `settings`, `labels`, `confidence`, `progress`: as for
      [`basinlab.basin_fractions`][].
    - `checkpoint_dir`: a folder for the finished chunks of each value; a repeated
      call reads them back, so interrupted work resumes.

    **Returns:**

    An `xarray.Dataset` over `value` and `attractor` (the matched IDs) with
    `fraction`, `fraction_low`, `fraction_high`, `present` (whether the attractor
    exists at that value), `location` (over `state` too; NaN where absent) and
    `convergence_time` (the mean time to come to rest of the samples that end
    there); over `value`, the `diverged` and `unconverged` fractions; and over
    `attractor`, `attractor_name` and `attractor_kind` where each was first seen.

    **Raises:**

    - `ValueError`: `param` is not a parameter, or is also in `params`; `values` is
      empty or not finite; `threshold`, `n`, `seed` or `confidence` is out of range;
      `match` is not a matcher; `p0` has the wrong shape.
    """
    compiled = as_compiled(model)
    grid = check_parameter_values(values)
    samples, threshold, n, seed = check_continuation(
        compiled, [param], params, threshold, match, confidence, n, seed, len(grid), p0
    )
    rng = np.random.default_rng(seed)
    settings = settings_argument(settings, SolverSettings)
    labels = settings_argument(labels, LabelSettings, "labels")

    path = [{**(params or {}), param: float(value)} for value in grid]
    rows, first_seen, failed = follow_attractors(
        compiled,
        path,
        samples,
        rng,
        settings,
        labels,
        threshold,
        match,
        checkpoint_dir,
        Progress(len(grid), f"continuation in {param}", progress, unit="value"),
    )
    attrs = continuation_attrs(
        compiled, path[0], settings, p0, n, seed, confidence, threshold, match
    ) | {"kind": "continuation", "param": param}
    return continuation_dataset(
        compiled.state_names, grid, rows, first_seen, failed, n, confidence, attrs
    )


def continuation_attrs(
    compiled: CompiledModel,
    first: Mapping[str, float],
    settings: SolverSettings,
    p0: dist.Distribution,
    n: int,
    seed: int,
    confidence: float,
    threshold: float,
    match: str,
) -> dict[str, object]:
    """The attrs every continuation records: provenance at its first parameter point
    `first`, and how the samples were drawn and the attractors matched."""
    return provenance(compiled, first, settings.describe(compiled.kind)) | {
        "n": n,
        "seed": seed,
        "p0": json.dumps(describe_distribution(p0), sort_keys=True),
        "confidence": confidence,
        "threshold": threshold,
        "match": match,
    }


def follow_attractors(
    compiled: CompiledModel,
    path: Sequence[Mapping[str, float]],
    samples: np.ndarray,
    rng: np.random.Generator,
    settings: SolverSettings,
    labels: LabelSettings,
    threshold: float,
    match: str,
    checkpoint_dir: str | None,
    bar: Progress,
) -> tuple[list[dict[int, tuple[int, Attractor, float]]], dict[int, Attractor], np.ndarray]:
    """Label the same samples (plus starts seeded at the last attractors) at each
    parameter point of `path` in turn, matching the attractors from point to point.

    **Returns:**

    For each point, `{id: (count, attractor, mean convergence time)}`; each ID's
    attractor where first seen; and the diverged and unconverged counts per point.
    """
    previous: list[tuple[int, Attractor]] = []
    previous_labels, before = np.zeros(0, np.int32), None
    first_seen: dict[int, Attractor] = {}
    last_seen: dict[int, Attractor] = {}
    rows: list[dict[int, tuple[int, Attractor, float]]] = []
    failed = np.zeros((len(path), 2), dtype=np.int64)
    with bar:
        for k, point_params in enumerate(path):
            seeds = _seeds([a for _, a in previous], rng)
            starts = samples if len(seeds) == 0 else np.concatenate([samples, seeds])
            folder = (
                None
                if checkpoint_dir is None
                else str(pathlib.Path(checkpoint_dir) / f"value_{k:04d}")
            )
            final, label, attractors, points = labelled_ensemble(
                compiled, starts, point_params, settings, labels, None, False, folder, {}
            )
            if match == OVERLAP:
                ids = match_by_overlap(previous, previous_labels, attractors, label[: len(samples)])
            elif match == ENCLOSURE:
                ids = match_by_enclosure(
                    previous,
                    attractors,
                    _enclosing(
                        compiled, final, label, len(attractors), previous, before, settings, labels
                    ),
                )
            else:
                ids = match_attractors(previous, attractors, threshold)
                present = {i for i, _ in previous}
                vanished = [(i, a) for i, a in last_seen.items() if i not in present]
                unmatched = [j for j, i in enumerate(ids) if i is None]
                returned = match_attractors(vanished, [attractors[j] for j in unmatched], threshold)
                for j, i in zip(unmatched, returned):
                    ids[j] = i
            ids = [
                i if i is not None else _new_id(first_seen, attractors[j])
                for j, i in enumerate(ids)
            ]
            last_seen |= dict(zip(ids, attractors))
            sampled = label[: len(samples)]
            times = final["t_final"].values[: len(samples)]
            row = {}
            for j, (identity, attractor) in enumerate(zip(ids, attractors)):
                mask = sampled == j
                mean_time = float(times[mask].mean()) if np.any(mask) else np.nan
                row[identity] = (int(mask.sum()), attractor, mean_time)
            rows.append(row)
            failed[k] = (np.sum(sampled == DIVERGED), np.sum(sampled == UNCONVERGED))
            previous = list(zip(ids, attractors))
            previous_labels, before = sampled, (point_params, points)
            bar.advance(1)
    return rows, first_seen, failed


def _enclosing(
    compiled: CompiledModel,
    final: xr.Dataset,
    label: np.ndarray,
    count: int,
    previous: list[tuple[int, Attractor]],
    before: tuple | None,
    settings: SolverSettings,
    labels: LabelSettings,
) -> list[list[int]]:
    """For each of `count` attractors, the previous attractors (as indices into
    `previous`) that a few of its end states go to when run at the previous value."""
    if before is None or not previous:
        return [[] for _ in range(count)]
    members = [np.flatnonzero(label == j)[:_PROBES] for j in range(count)]
    probes = final["y_final"].values[np.concatenate(members)]
    params, points = before
    _, probe_label, found, _ = labelled_ensemble(
        compiled, probes, params, settings, labels, points, False, None, {}
    )
    # At the same value the attractors are the same sets: match them tightly.
    same = match_attractors(list(enumerate(a for _, a in previous)), found, _SAME_VALUE)
    index = [-1 if k < 0 or same[k] is None else same[k] for k in probe_label]
    cuts = np.cumsum([len(m) for m in members])[:-1]
    return [part.tolist() for part in np.split(np.array(index, dtype=int), cuts)]


def _new_id(first_seen: dict[int, Attractor], attractor: Attractor) -> int:
    identity = len(first_seen)
    first_seen[identity] = attractor
    return identity


def continuation_dataset(
    state_names: Sequence[str],
    grid: np.ndarray,
    rows: list[dict[int, tuple[int, Attractor, float]]],
    first_seen: dict[int, Attractor],
    failed: np.ndarray,
    n: int,
    confidence: float,
    attrs: dict[str, object],
) -> xr.Dataset:
    """The per-value rows `{id: (count, attractor, mean time)}` as arrays over
    (value, attractor), with NaN and `present=False` where an attractor is absent."""
    count = len(first_seen)
    dim = len(state_names)
    counts = np.zeros((len(grid), count), dtype=np.int64)
    present = np.zeros((len(grid), count), dtype=bool)
    location = np.full((len(grid), count, dim), np.nan)
    convergence = np.full((len(grid), count), np.nan)
    for k, row in enumerate(rows):
        for identity, (c, attractor, mean_time) in row.items():
            counts[k, identity] = c
            present[k, identity] = True
            location[k, identity] = attractor.location
            convergence[k, identity] = mean_time
    low, high = wilson_interval(counts, n, confidence)
    names = [first_seen[i].name.split(": ", 1)[-1] for i in range(count)]
    return xr.Dataset(
        {
            "fraction": (("value", "attractor"), counts / n),
            "fraction_low": (("value", "attractor"), low),
            "fraction_high": (("value", "attractor"), high),
            "count": (("value", "attractor"), counts),
            "present": (("value", "attractor"), present),
            "location": (("value", "attractor", "state"), location),
            "convergence_time": (("value", "attractor"), convergence),
            "diverged": ("value", failed[:, 0] / n),
            "unconverged": ("value", failed[:, 1] / n),
            "attractor_name": ("attractor", np.array(names, dtype=object)),
            "attractor_kind": (
                "attractor",
                np.array([first_seen[i].kind for i in range(count)], dtype=object),
            ),
        },
        coords={"value": grid, "attractor": np.arange(count), "state": list(state_names)},
        attrs=attrs,
    )
