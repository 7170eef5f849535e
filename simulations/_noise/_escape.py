"""First-passage times out of an attractor under noise, with their mean and survival."""

from __future__ import annotations

import dataclasses
import json
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import xarray as xr

from ...theory import FixedPoint, Model, fixed_points
from ...theory._checks import check_count, check_positive
from ...theory._legacy_arguments import legacy_arguments
from ...theory._resources import ensemble_bytes, require_memory
from .._basin._stable_points import stable_point_near
from .._engine._compile import CompiledModel
from .._engine._integrate import as_compiled, integrate
from .._engine._provenance import provenance
from .._engine._settings_argument import settings_argument
from .._engine._solver_settings import CONVERGED, DIVERGED
from ._sde import NoiseSettings, require_noise, run_until_arrival

# Directions probed on the surface of an arrival ball to check it lies in its basin.
_PROBES = 64


def _arrival_radius(points: list[FixedPoint], index: int) -> float:
    """A quarter of the distance to the nearest other fixed point."""
    here = np.asarray(points[index].numeric)
    others = [
        np.linalg.norm(np.asarray(q.numeric) - here) for j, q in enumerate(points) if j != index
    ]
    return 0.25 * min(others)


def check_ball_in_basin(
    compiled: CompiledModel,
    params: Mapping[str, float] | None,
    centre: np.ndarray,
    radius: float,
    seed: int,
) -> None:
    """Check, by integrating the deterministic flow from points on its surface, that
    every point of the ball flows to its centre.

    **Raises:**

    - `ValueError`: a probe ends elsewhere.
    """
    dim = len(centre)
    rng = np.random.default_rng(seed)
    directions = np.concatenate([np.eye(dim), -np.eye(dim), rng.normal(size=(_PROBES, dim))])
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    probes = centre + radius * directions
    final = integrate(compiled, probes, params=params, progress=False)
    scale = 1e-3 * (1 + np.max(np.abs(centre)))
    arrived = (final["status"].values == CONVERGED) & np.all(
        np.abs(final["y_final"].values - centre) < scale, axis=1
    )
    if not np.all(arrived):
        raise ValueError(
            f"the arrival ball of radius {radius:.3g} around {np.round(centre, 4).tolist()} "
            "is not inside that point's basin; give a smaller radius"
        )


@dataclasses.dataclass(frozen=True)
class MeanTime:
    """The mean first-passage time, estimated from censored times.

    **Fields:**

    - `estimate`: the maximum-likelihood mean of an exponential law, total time
      observed over number of escapes (infinite without escapes).
    - `low`, `high`: its confidence interval, from $2\\,\\text{total}/T \\sim
      \\chi^2_{2k}$ (exact for exponential times).
    - `escaped`: $k$, the runs that escaped.
    """

    estimate: float
    low: float
    high: float
    escaped: int

    def __post_init__(self):
        assert 0 <= self.low <= self.estimate <= self.high


def exponential_mean(times: np.ndarray, escaped: np.ndarray, confidence: float) -> MeanTime:
    r"""The mean of exponential first-passage times observed up to a censoring time.

    With $k$ escapes and total time at risk $S = \sum_i t_i$ (escape times and
    censoring times alike), the maximum-likelihood mean is $\hat T = S / k$, and
    $2S/T \sim \chi^2_{2k}$ gives the interval (exact for type-II censoring, and
    for exponential times the standard interval under type-I censoring; W. Nelson,
    *Applied Life Data Analysis*, 1982, ch. 7). Escapes from a deep well are
    exponential to leading order (A. Bovier, V. Gayrard and M. Klein, "Metastability
    in reversible diffusion processes II", J. Eur. Math. Soc. 7, 69, 2005); without
    censoring, $\hat T$ is the sample mean.
    """
    import scipy.stats  # on use: it slows every `import basinlab` by about a second

    k = int(np.sum(escaped))
    total = float(np.sum(times))
    alpha = 1 - confidence
    if k == 0:
        return MeanTime(np.inf, 2 * total / scipy.stats.chi2.ppf(confidence, 2), np.inf, 0)
    low = 2 * total / scipy.stats.chi2.ppf(1 - alpha / 2, 2 * k)
    high = 2 * total / scipy.stats.chi2.ppf(alpha / 2, 2 * k)
    return MeanTime(total / k, low, high, k)


def kaplan_meier(times: np.ndarray, escaped: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The Kaplan–Meier survival curve: the distinct escape times and the estimated
    probability of still being inside just after each (E. L. Kaplan and P. Meier,
    J. Am. Stat. Assoc. 53, 457, 1958), by `scipy.stats.ecdf` on right-censored data.
    """
    import scipy.stats

    data = scipy.stats.CensoredData(uncensored=times[escaped], right=times[~escaped])
    curve = scipy.stats.ecdf(data).sf
    # SciPy also lists the censoring times, where the curve does not step.
    steps = np.isin(curve.quantiles, times[escaped])
    return curve.quantiles[steps], curve.probabilities[steps]


@legacy_arguments(positional=("n", "t1", "seed", "params"), renamed={"t_max": "t1"})
def escape_times(
    model: Model | CompiledModel,
    attractor: FixedPoint | Sequence[float],
    *,
    n: int = 1000,
    t1: float = 1000.0,
    seed: int = 0,
    params: Mapping[str, float] | None = None,
    target: FixedPoint | Sequence[float] | None = None,
    radius: float | None = None,
    settings: NoiseSettings | None = None,
    confidence: float = 0.95,
    progress: bool = True,
) -> xr.Dataset:
    r"""First-passage times out of a stable fixed point's basin under noise.

    `n` runs of the SDE $dx = f\,dt + g\,dW$ start at the attractor. A run has
    escaped when it first comes within `radius` (Euclidean) of another stable fixed
    point; each such ball is checked to lie inside that point's deterministic basin,
    so a run that reached it has gone there in the sense of the deterministic
    dynamics. This is the transition time of the Eyring–Kramers law (see
    [`basinlab.eyring_kramers`][]), which it should match for a gradient flow at
    large $\Delta L / D$. Runs still out of every ball at `t1` are censored there.

    The mean first-passage time is the exponential maximum-likelihood estimate with a
    $\chi^2$ interval ([`exponential_mean`][]); the survival curve is the Kaplan–Meier
    estimate.

    **Arguments:**

    - `model`: a flow with noise ([`basinlab.Model.with_noise`][]).
    - `attractor`: the stable fixed point the runs start at.
    - `n`: the number of runs.
    - `t1`: the censoring time.
    - `seed`: the seed of the Brownian motions.
    - `params`: parameter overrides.
    - `target`: one stable fixed point to wait for; every other one by default.
    - `radius`: of the arrival balls; a quarter of the distance from each target to
      its nearest other fixed point by default.
    - `settings`: [`basinlab.simulations.NoiseSettings`][].
    - `confidence`: of the interval.
    - `progress`: show a progress bar.

    **Returns:**

    An `xarray.Dataset` over `run` with each run's `time` (of escape, or `t1`),
    `escaped` and `destination` (the index of the target reached; `UNCONVERGED` if
    none was reached by `t1`; `DIVERGED` if the run left the box or blew up, which
    is censored at that time, never counted as an escape); the targets'
    `target_location` and `target_radius`;
    the survival curve `survival` over `survival_time`; and attrs `mean_time`,
    `mean_time_low`, `mean_time_high`, `escaped`, `diverged`, `estimator`, the start,
    the noise and the settings.

    **Raises:**

    - `ValueError`: the model has no noise or is a map; `attractor` or `target` is
      not a stable fixed point, or `target` is the attractor; there is no other
      stable fixed point; an arrival ball is not inside its basin; `n`, `t1`,
      `radius` or `confidence` is out of range.
    """
    compiled = as_compiled(model)
    require_noise(compiled, "escape_times")
    n = check_count(n, "n")
    require_memory(ensemble_bytes(n, len(compiled.state_names)), f"{n} runs")
    t1 = check_positive(t1, "t1")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    settings = settings_argument(settings, NoiseSettings)
    points = fixed_points(compiled.model, params=params)
    start = stable_point_near(points, attractor, "attractor")
    if target is None:
        targets = [i for i, q in enumerate(points) if q.stable and i != start]
        if not targets:
            raise ValueError(
                f"there is no other stable fixed point for a run from {attractor} to reach"
            )
    else:
        targets = [stable_point_near(points, target, "target")]
        if targets[0] == start:
            raise ValueError("the target is the attractor the runs start at")
    radii = np.array(
        [
            check_positive(radius, "radius") if radius is not None else _arrival_radius(points, i)
            for i in targets
        ]
    )
    centres = np.array([points[i].numeric for i in targets], dtype=float)
    for centre, r in zip(centres, radii):
        check_ball_in_basin(compiled, params, centre, r, seed)
    origin = np.asarray(points[start].numeric, float)
    p = compiled.param_vector(params)
    _, times, outcome = run_until_arrival(
        compiled,
        settings,
        np.repeat(origin[None, :], n, axis=0),
        p,
        seed,
        t1,
        centres,
        radii,
        progress,
        "escaping",
    )
    # A run that blew up (a step too large for the drift) did not escape: it is
    # censored at the time it was lost, like a run still inside at t_max.
    escaped = outcome >= 0
    diverged = int(np.sum(outcome == DIVERGED))
    if diverged:
        warnings.warn(
            f"{diverged} of {n} runs diverged (left the box or stopped being finite) and "
            f"are censored, not counted as escapes; a smaller dt than {settings.dt} may "
            "avoid it",
            stacklevel=2,
        )
    mean = exponential_mean(times, escaped, confidence)
    survival_time, survival = kaplan_meier(times, escaped)
    attrs = provenance(compiled, params, settings.describe(compiled))
    attrs |= {
        "kind": "escape_times",
        "attractor": json.dumps(origin.tolist()),
        "noise": compiled.model.equations().splitlines()[-1],
        "seed": seed,
        "t_max": t1,
        "confidence": confidence,
        "mean_time": mean.estimate,
        "mean_time_low": mean.low,
        "mean_time_high": mean.high,
        "escaped": mean.escaped,
        "diverged": diverged,
        "estimator": "exponential maximum likelihood with a chi-square interval; survival "
        "by Kaplan-Meier",
    }
    return xr.Dataset(
        {
            "time": ("run", times),
            "escaped": ("run", escaped),
            "destination": ("run", outcome),
            "target_location": (("target", "state"), centres),
            "target_radius": ("target", radii),
            "survival": ("survival_time", survival),
        },
        coords={
            "run": np.arange(n),
            "target": np.arange(len(targets)),
            "state": list(compiled.state_names),
            "survival_time": survival_time,
        },
        attrs=attrs,
    )
