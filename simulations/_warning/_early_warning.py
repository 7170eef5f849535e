"""Early-warning signals before a fold or transcritical point: predicted by the Lyapunov
equation, measured in runs, and their warning horizon."""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Mapping, Sequence

import numpy as np
import sympy as sp
import xarray as xr

from ...theory import (
    Bifurcation,
    Model,
    bifurcations,
    fixed_points,
    jacobian,
    stationary_autocorrelation,
    stationary_covariance,
)
from ...theory._bifurcations import FOLD, PITCHFORK, TRANSCRITICAL
from ...theory._checks import check_count, check_in_range, check_positive
from .._engine._compile import CompiledModel, cached_compile
from .._engine._provenance import provenance
from .._engine._random_key import random_key
from .._engine._settings_argument import settings_argument
from .._noise._sde import NoiseSettings, require_noise
from ._roc import auc, detection_rate, horizon
from ._stationary_paths import stationary_paths
from ._warning_signals import warning_signals

_TIPPING = (FOLD, TRANSCRITICAL, PITCHFORK)
# Relaxation times of the slowest mode discarded before recording, by default.
_SETTLE = 5.0


@dataclasses.dataclass(frozen=True)
class _BranchPoint:
    """A fixed point followed along the parameter, to 30 digits."""

    location: tuple[sp.Float, ...]
    numeric: np.ndarray
    eigenvalues: np.ndarray


# Newton steps between consecutive values, so that each starts near its own root.
_SUBSTEPS = 8


def _polished(model: Model, where: Mapping[str, float], guess: np.ndarray) -> _BranchPoint | None:
    """The rest point that Newton's method (SymPy's `nsolve`, 30 digits) reaches from
    `guess`, or `None` when it fails."""
    field = list(model.rest_field(where, exact=True))
    try:
        root = sp.nsolve(field, model.state, [float(g) for g in guess], prec=30, verify=True)
    except (ValueError, ZeroDivisionError, TypeError):
        return None
    location = tuple(sp.Float(r, 30) for r in root)
    point = dict(zip(model.state, location))
    jac = np.array(
        jacobian(model).xreplace(model.param_substitution(where)).xreplace(point).evalf(),
        dtype=float,
    )
    return _BranchPoint(location, np.array(location, dtype=float), np.linalg.eigvals(jac))


def _followed(
    model: Model, param: str, params: Mapping[str, float], start: float, end: float, guess
) -> _BranchPoint | None:
    """The rest point continued from `guess` at `start` to `end` in small steps."""
    point = None
    for fraction in np.linspace(0, 1, _SUBSTEPS + 1)[1:]:
        value = start + fraction * (end - start)
        point = _polished(model, {**params, param: value}, guess)
        if point is None:
            return None
        guess = point.numeric
    return point


def _branch(
    model: Model,
    param: str,
    values: list[float],
    attractor: Sequence[float],
    params: Mapping[str, float],
) -> tuple[list[_BranchPoint], list[np.ndarray]]:
    """The stable point continued from `attractor` (at the first value) through the
    values in order, by Newton's method in small steps; and at each value the offsets
    from it to every other fixed point (saddles on its basin's boundary, typically),
    rows of `(k, n)`, found exactly by SymPy at the first value and continued alike."""
    first = {**params, param: values[0]}
    start = _polished(model, first, np.asarray(getattr(attractor, "numeric", attractor), float))
    if start is None or np.max(start.eigenvalues.real) >= 0:
        raise ValueError(
            f"the attractor {np.asarray(getattr(attractor, 'numeric', attractor)).tolist()} is "
            f"not near a stable point of {model.name!r} at {param} = {values[0]:g}"
        )
    others = [
        np.asarray(q.numeric)
        for q in fixed_points(model, params=first)
        if np.linalg.norm(np.asarray(q.numeric) - start.numeric) > 1e-8
    ]
    branch, offsets = [start], [np.reshape(others, (-1, model.dim)) - start.numeric]
    for previous, value in itertools.pairwise(values):
        point = _followed(model, param, params, previous, value, branch[-1].numeric)
        jump = np.inf if point is None else np.linalg.norm(point.numeric - branch[-1].numeric)
        if point is None or jump > 0.5 * (1 + np.linalg.norm(branch[-1].numeric)):
            raise ValueError(
                f"the attractor is gone at {param} = {value:g}: Newton's method loses it "
                f"from {np.round(branch[-1].numeric, 4).tolist()}; is {param} = {value:g} "
                "past the tipping point?"
            )
        if np.max(point.eigenvalues.real) >= 0:
            raise ValueError(
                f"the attractor is no longer stable at {param} = {value:g}: is it past the "
                "tipping point?"
            )
        continued = [_followed(model, param, params, previous, value, q) for q in others]
        others = [
            q.numeric
            for q in continued
            if q is not None and np.linalg.norm(q.numeric - point.numeric) > 1e-8
        ]
        branch.append(point)
        offsets.append(np.reshape(others, (-1, model.dim)) - point.numeric)
    return branch, offsets


def _tipped(paths: np.ndarray, centre: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Runs that went over another fixed point: at some sample their offset from the
    attractor, projected on the direction to that point, reached its distance."""
    if not len(others):
        return np.zeros(len(paths), bool)
    distances = np.linalg.norm(others, axis=1)
    projections = (paths - centre) @ (others / distances[:, None]).T
    return np.any(projections >= distances, axis=(1, 2))


def _pooled_covariance(states: np.ndarray) -> np.ndarray:
    """The covariance of every run's states about that run's own mean, pooled."""
    if not len(states):
        return np.full((states.shape[-1],) * 2, np.nan)
    centred = states - states.mean(axis=1, keepdims=True)
    flat = centred.reshape(-1, states.shape[-1])
    return flat.T @ flat / (len(flat) - len(states))


def _tipping_point(
    model: Model,
    param: str,
    reference: float,
    values: list[float],
    params: Mapping[str, float],
    end: np.ndarray,
) -> Bifurcation:
    """The nearest fold, transcritical or pitchfork point beyond the values that lies on
    the attractor's branch: at its parameter value, the fixed point nearest the
    branch's last state `end` is the bifurcation's own location."""
    last = values[-1]
    direction = np.sign(last - reference)
    ahead = sorted(
        (
            b
            for b in bifurcations(model, param, params=params)
            if b.kind in _TIPPING and (b.numeric - last) * direction > 0
        ),
        key=lambda b: abs(b.numeric - last),
    )
    for candidate in ahead:
        location = np.array(candidate.location, dtype=float)
        points = fixed_points(model, params={**params, param: candidate.numeric})
        nearest = min(points, key=lambda q: np.linalg.norm(np.asarray(q.numeric) - end))
        if np.linalg.norm(np.asarray(nearest.numeric) - location) < 1e-4 * (
            1 + np.linalg.norm(location)
        ):
            return candidate
    raise ValueError(
        f"no fold, transcritical or pitchfork point of {model.name!r} lies beyond "
        f"{param} = {last:g} (going from {reference:g}) on this attractor's branch; "
        "early warnings are of those"
    )


def _simulated_series(
    compiled: CompiledModel,
    settings: NoiseSettings,
    branch: list[_BranchPoint],
    others: list[np.ndarray],
    values: list[float],
    param: str,
    params: Mapping[str, float],
    index: int,
    n: int,
    seed: int,
    burn_in: float,
    t1: float,
    interval: float,
    progress: bool,
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """`n` SDE runs at each value from its stable point: the observable's series (NaN
    for runs that tipped), the share that tipped, and the pooled state covariance."""
    starts = np.repeat(np.array([q.numeric for q in branch]), n, axis=0)
    p = np.stack([np.asarray(compiled.param_vector({**params, param: v})) for v in values])
    sampled = stationary_paths(
        compiled,
        settings,
        starts,
        np.repeat(p, n, axis=0),
        random_key(seed),
        burn_in,
        t1,
        interval,
        progress,
    ).reshape(len(branch), n, -1, compiled.model.dim)
    # A run that went over another fixed point has tipped (or is tipping): its series
    # is no longer about this attractor.
    far = np.array(
        [
            _tipped(states, np.asarray(point.numeric), away)
            for states, point, away in zip(sampled, branch, others)
        ]
    )
    series = list(np.where(far[:, :, None], np.nan, sampled[..., index]))
    covariance = np.array([_pooled_covariance(states[~gone]) for states, gone in zip(sampled, far)])
    return series, far.mean(axis=1), covariance


def _given_series(
    paths: Mapping[float, np.ndarray], values: list[float], param: str, dim: int
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """The caller's series at each value, the share of runs with a NaN, and no
    covariance (only the observable was logged)."""
    series = []
    for value in values:
        found = [v for v in paths if np.isclose(float(v), value)]
        if not found:
            raise ValueError(f"paths has no series at {param} = {value:g}")
        series.append(np.asarray(paths[found[0]], float))
    if len({s.shape[0] for s in series}) != 1:
        raise ValueError("paths must hold the same number of runs at every value")
    tipped = np.array([np.mean(~np.all(np.isfinite(s), axis=1)) for s in series])
    return series, tipped, np.full((len(series), dim, dim), np.nan)


def early_warning(
    model: Model,
    param: str,
    values: Sequence[float],
    *,
    attractor: Sequence[float],
    reference: float,
    observable: str | None = None,
    params: Mapping[str, float] | None = None,
    t1: float = 100.0,
    interval: float = 1.0,
    burn_in: float | None = None,
    n: int = 100,
    seed: int = 0,
    auc_level: float = 0.9,
    false_alarm: float = 0.05,
    paths: Mapping[float, np.ndarray] | None = None,
    settings: NoiseSettings | None = None,
    progress: bool = False,
) -> xr.Dataset:
    r"""Early-warning signals of a stable point as a parameter nears a fold or
    transcritical point: predicted, measured, and how early they can be told apart.

    As the parameter $p$ nears the bifurcation $p_c$ (exact, from
    [`basinlab.bifurcations`][]), the slowest eigenvalue of the Jacobian tends to 0.
    Under small noise the state then fluctuates more and remembers longer: the
    stationary variance grows as $1/|\lambda|$ and the lag-$\Delta t$
    autocorrelation tends to 1 as $e^{\lambda\Delta t}$ (critical slowing down; M.
    Scheffer et al., *Nature* 461, 2009; C. Kuehn, "A mathematical framework for
    critical transitions", *Physica D* 240, 2011). Both are predicted exactly by
    [`basinlab.stationary_covariance`][] and
    [`basinlab.stationary_autocorrelation`][].

    They are measured in `n` runs per value of $p$, each started on the stable point,
    settled for `burn_in`, then sampled every `interval` for `t1`: each run's
    variance and lag-1 autocorrelation of `observable`. Runs at `reference`, far from
    $p_c$, are the negatives of a receiver-operating curve: at each value the area
    under it (AUC) is the probability that a run there shows a larger signal than a
    run at the reference. The **warning horizon** is the largest distance
    $|p_c - p|$ at which the AUC reaches `auc_level` there and at every value
    closer: with runs of length `t1`, the signal is detectable that far ahead.

    **Arguments:**

    - `model`: a flow with noise (an SDE), polynomial in the state and `param`.
    - `param`: the parameter that moves.
    - `values`: values of `param` on the way to the bifurcation, before it.
    - `attractor`: the stable point at `reference`, followed through the values.
    - `reference`: a value far from the bifurcation, the baseline of the curve.
    - `observable`: the state whose signals are measured; by default the one that
      weighs most in the slowest eigenvector at the value closest to $p_c$ (required
      with `paths`).
    - `params`: the other parameters.
    - `t1`: the length of each recorded series, in the model's time.
    - `interval`: the sampling interval, the lag of the autocorrelation.
    - `burn_in`: time discarded first; by default 5 relaxation times of the slowest
      value.
    - `n`: runs per value.
    - `seed`: the seed of the noise.
    - `auc_level`: the AUC at which a signal counts as detected.
    - `false_alarm`: the false-alarm rate at which `detection_*` is given.
    - `paths`: measured series instead of runs, `{value: array (runs, samples)}` of
      `observable` sampled every `interval`, with the reference among the values
      (real SGD runs' logged order parameters, say). The model then gives only the
      prediction, and its noise must describe theirs.
    - `settings`: a [`basinlab.NoiseSettings`][] for the runs.
    - `progress`: show a progress bar.

    **Returns:**

    An `xarray.Dataset` over `value` (sorted towards $p_c$) and `run`:
    `variance`, `autocorrelation` (value, run), the `reference_variance` and
    `reference_autocorrelation` (run), `predicted_variance`,
    `predicted_autocorrelation`, `auc_variance`, `auc_autocorrelation`,
    `detection_variance`, `detection_autocorrelation`, `eigenvalue` (the slowest
    real part), `tipped` (the share of runs left out: they went over another fixed
    point, a saddle, in its direction, or, for `paths`, hold NaN) and
    `distance` ($|p_c - p|$) over `value`; the followed `attractor_state`
    (value, state); and the full state covariance, `predicted_covariance` and (for
    runs) `measured_covariance` pooled over the runs that did not tip (value,
    state, state_). Its attrs hold the bifurcation (`bifurcation`,
    `bifurcation_kind`), `horizon_variance` and `horizon_autocorrelation`, the
    length of each series (`t1`, `samples`), and the settings.

    **Raises:**

    - `ValueError`: the model has no noise or is a map; no fold, transcritical or
      pitchfork point lies beyond the values; the attractor is gone at a value; an
      unknown `observable`; bad numbers (`t1`, `interval`, `n`, levels); `paths`
      missing a value or of the wrong shape.
    """
    settings = settings_argument(settings, NoiseSettings, "settings")
    params = dict(params or {})
    check_positive(t1, "t1")
    check_positive(interval, "interval")
    check_count(n, "n", minimum=2)
    check_in_range(auc_level, "auc_level", 0.5, 1.0)
    check_in_range(false_alarm, "false_alarm", 0.0, 0.5)
    if t1 < 3 * interval:
        raise ValueError(f"t1 ({t1}) must hold at least 3 samples of interval {interval}")
    if model.noise is None:
        raise ValueError(
            f"early warnings need noise, and model {model.name!r} has none: give it one "
            "with model.with_noise(basinlab.Noise....)"
        )
    reference = float(reference)
    values = sorted({float(v) for v in values}, key=lambda v: abs(v - reference))
    if not values or reference in values:
        raise ValueError("values must be non-empty and must not contain the reference")
    branch, others = _branch(model, param, [reference, *values], attractor, params)
    tipping = _tipping_point(
        model, param, reference, values, params, np.asarray(branch[-1].numeric)
    )
    slowest = [max(np.real(q.eigenvalues)) for q in branch]
    compiled = cached_compile(model)
    if observable is None and paths is not None:
        raise ValueError("with paths, name the observable they hold (a state's name)")
    if observable is None:
        p_closest = compiled.param_vector({**params, param: values[-1]})
        jac = np.asarray(compiled.jacobian(0.0, np.asarray(branch[-1].numeric), p_closest))
        eigenvalues, eigenvectors = np.linalg.eig(jac)
        slow = eigenvectors[:, np.argmax(eigenvalues.real)]
        index = int(np.argmax(np.abs(slow)))
    else:
        index = model.state_index(observable)
    name = model.state_names[index]
    predicted_covariance, predicted_autocorrelation = [], []
    for value, point in zip([reference, *values], branch):
        where = {**params, param: value}
        covariance = stationary_covariance(model, point.location, params=where)
        predicted_covariance.append(np.array(covariance.evalf(), dtype=float))
        predicted_autocorrelation.append(
            stationary_autocorrelation(model, point.location, interval, params=where)[index]
        )
    if burn_in is None:
        burn_in = _SETTLE / -max(slowest)
    if paths is None:
        require_noise(compiled, "early_warning")
        series, tipped, measured_covariance = _simulated_series(
            compiled,
            settings,
            branch,
            others,
            [reference, *values],
            param,
            params,
            index,
            n,
            seed,
            burn_in,
            t1,
            interval,
            progress,
        )
    else:
        series, tipped, measured_covariance = _given_series(
            paths, [reference, *values], param, model.dim
        )
    runs_per = series[0].shape[0]
    predicted_variance = [float(c[index, index]) for c in predicted_covariance]
    signals = [warning_signals(s) for s in series]
    (reference_variance, reference_autocorrelation), measured = signals[0], signals[1:]
    variance = np.array([m[0] for m in measured])
    autocorrelation = np.array([m[1] for m in measured])
    distance = np.abs(tipping.numeric - np.array(values))
    aucs = {
        "variance": np.array([auc(v, reference_variance) for v in variance]),
        "autocorrelation": np.array([auc(a, reference_autocorrelation) for a in autocorrelation]),
    }
    detections = {
        "variance": [detection_rate(v, reference_variance, false_alarm) for v in variance],
        "autocorrelation": [
            detection_rate(a, reference_autocorrelation, false_alarm) for a in autocorrelation
        ],
    }
    attrs = {
        "kind": "early_warning",
        "param": param,
        "reference": reference,
        "bifurcation": tipping.numeric,
        "bifurcation_exact": str(tipping.value),
        "bifurcation_kind": tipping.kind,
        "horizon_variance": horizon(distance, aucs["variance"], auc_level),
        "horizon_autocorrelation": horizon(distance, aucs["autocorrelation"], auc_level),
        "observable": name,
        "t1": t1 if paths is None else series[0].shape[1] * interval,
        "samples": series[0].shape[1],
        "interval": interval,
        "burn_in": burn_in,
        "n": runs_per,
        "seed": seed,
        "auc_level": auc_level,
        "false_alarm": false_alarm,
        "measured": "given paths" if paths is not None else "SDE runs",
        "reference_tipped": float(tipped[0]),
        "reference_predicted_variance": predicted_variance[0],
        "reference_predicted_autocorrelation": predicted_autocorrelation[0],
    }
    attrs = {**provenance(compiled, params, settings.describe(compiled)), **attrs}
    attrs["params"] = json.dumps(
        {str(k): float(v) for k, v in model.resolve_params(params).items()}
    )
    return xr.Dataset(
        {
            "variance": (("value", "run"), variance),
            "autocorrelation": (("value", "run"), autocorrelation),
            "reference_variance": ("run", reference_variance),
            "reference_autocorrelation": ("run", reference_autocorrelation),
            "predicted_variance": ("value", predicted_variance[1:]),
            "predicted_autocorrelation": ("value", predicted_autocorrelation[1:]),
            "auc_variance": ("value", aucs["variance"]),
            "auc_autocorrelation": ("value", aucs["autocorrelation"]),
            "detection_variance": ("value", detections["variance"]),
            "detection_autocorrelation": ("value", detections["autocorrelation"]),
            "eigenvalue": ("value", slowest[1:]),
            "tipped": ("value", tipped[1:]),
            "distance": ("value", distance),
            "predicted_covariance": (("value", "state", "state_"), predicted_covariance[1:]),
            "measured_covariance": (("value", "state", "state_"), measured_covariance[1:]),
            "attractor_state": (("value", "state"), np.array([q.numeric for q in branch[1:]])),
        },
        coords={
            "value": values,
            "run": np.arange(runs_per),
            "state": model.state_names,
            "state_": model.state_names,
        },
        attrs=attrs,
    )
