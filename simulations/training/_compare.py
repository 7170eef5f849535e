"""Theory against experiment: the matching theory ODE run at a real run's settings."""

from __future__ import annotations

import functools
import json

import numpy as np
import xarray as xr

from ...theory import models
from .._engine._compile import CompiledModel, compile_model
from .._engine._provenance import versions
from .._engine._trajectories import trajectories
from ._proxy_rounds import proxy_rounds

_TIGHT = dict(rtol=1e-8, atol=1e-10, max_steps=200_000)


@functools.lru_cache(maxsize=8)
def _teacher_student_model(
    k_units: int,
    m_units: int,
    activation: str,
    train_second_layer: bool,
    teacher: tuple[tuple[float, ...], ...] | None,
) -> CompiledModel:
    model = models.teacher_student(
        k_units,
        m_units,
        activation,
        train_second_layer,
        teacher=None if teacher is None else np.array(teacher),
    )
    return compile_model(model)


def teacher_student_model(run: xr.Dataset) -> tuple[CompiledModel, dict[str, float]]:
    r"""The compiled order-parameter ODE matching a teacher–student run, and its
    parameters ($\eta, \eta_v, \sigma, \kappa$) at the run's values.

    The teacher overlaps are $T = I$ for an orthogonal teacher and the run's measured
    $T$ otherwise. Compiled models are cached, so repeated runs reuse one.

    **Raises:**

    - `ValueError`: `run` is not a teacher–student run.
    """
    _check_experiment(run, "teacher_student")
    a = run.attrs
    t = run["T"].values
    exact_identity = bool(a["orthogonal_teacher"]) and np.allclose(t, np.eye(len(t)), atol=1e-9)
    compiled = _teacher_student_model(
        int(a["K"]),
        int(a["M"]),
        str(a["activation"]),
        bool(a["train_second_layer"]),
        None if exact_identity else tuple(map(tuple, t.tolist())),
    )
    return compiled, {name: float(a[name]) for name in ("eta", "eta_v", "sigma", "kappa")}


def teacher_student_theory(run: xr.Dataset) -> xr.Dataset:
    r"""Run the order-parameter ODEs from a real teacher–student run's first overlaps.

    The ODE of [`basinlab.models.teacher_student`][] is integrated at the run's
    $K, M$, activation, $\eta, \eta_v, \sigma, \kappa$ and teacher overlaps $T$, from
    the run's order parameters at $\alpha = 0$, and saved at the run's logged
    $\alpha$. The finite-$N$ run fluctuates around the ODE by $O(N^{-1/2})$, so the
    distance between the curves shrinks as $N$ grows (Saad & Solla 1995; Goldt et
    al. 2019).

    **Arguments:**

    - `run`: the result of
      [`basinlab.simulations.training.teacher_student_run`][].

    **Returns:**

    An `xarray.Dataset` over `time` with `eps_g_run`, `eps_g_theory`, `y_run` and
    `y_theory` over `(time, state)`. Its attrs hold the distances
    `eps_g_max_gap` ($\max_\alpha |\Delta\epsilon_g|$ for the held-out error),
    `eps_g_rms_gap`, `eps_g_overlaps_max_gap` (the same for the error computed from
    the run's order parameters, free of test-set noise) and `overlap_max_gap`
    ($\max |\Delta y|$ over times and order parameters), with `N` and `solved`.

    **Raises:**

    - `ValueError`: `run` is not a teacher–student run.
    """
    compiled, params = teacher_student_model(run)
    times = run["time"].values
    path = trajectories(compiled, run["y"].values[:1], times, params=params, **_TIGHT)
    theory = path["y"].values[0]
    eps_theory = path["eps_g"].values[0]
    gap = run["eps_g"].values - eps_theory
    overlaps_gap = run["eps_g_overlaps"].values - eps_theory
    return xr.Dataset(
        {
            "eps_g_run": ("time", run["eps_g"].values),
            "eps_g_theory": ("time", eps_theory),
            "y_run": (("time", "state"), run["y"].values),
            "y_theory": (("time", "state"), theory),
        },
        coords={"time": times, "state": run["state"].values},
        attrs={
            "experiment": "teacher_student",
            "N": int(run.attrs["N"]),
            "eps_g_max_gap": float(np.max(np.abs(gap))),
            "eps_g_rms_gap": float(np.sqrt(np.mean(gap**2))),
            "eps_g_overlaps_max_gap": float(np.max(np.abs(overlaps_gap))),
            "overlap_max_gap": float(np.max(np.abs(run["y"].values - theory))),
            "solved": int(path["solved"].values[0]),
            "run_attrs": json.dumps({k: v for k, v in run.attrs.items() if k != "versions"}),
            "versions": json.dumps(versions()),
        },
    )


@functools.lru_cache(maxsize=4)
def _chain_model(depth: int) -> CompiledModel:
    return compile_model(models.deep_linear_depth(depth=depth))


def _crossing(u: np.ndarray, times: np.ndarray, level: float) -> float:
    """The first time `u` reaches `level`, linearly interpolated; NaN if never."""
    above = np.flatnonzero(u >= level)
    if above.size == 0:
        return float("nan")
    j = above[0]
    if j == 0:
        return float(times[0])
    fraction = (level - u[j - 1]) / (u[j] - u[j - 1])
    return float(times[j - 1] + fraction * (times[j] - times[j - 1]))


def deep_linear_theory(
    run: xr.Dataset, low: float = 0.1, high: float = 0.9, tie: float = 0.1
) -> xr.Dataset:
    r"""Each mode's measured learning time against the formula, and the learning order.

    For mode $\alpha$ the run's strength $u_\alpha(t)$ crosses $\text{low}\cdot
    s_\alpha$ at $t_{\text{low}}$ and $\text{high}\cdot s_\alpha$ at
    $t_{\text{high}}$. Once aligned, a balanced mode of a network with $L$ weight
    matrices ($N_l = L + 1$) follows $\tau\dot u = L\,u^{2-2/L}(s - u)$ (Saxe et al.
    2014, Eq 15; Eq 10 for $L = 2$) with $\tau = 1/\lambda$, so the transit time
    $t_{\text{high}} - t_{\text{low}}$ is predicted by Eq 11 for two layers and by
    [`basinlab.theory.models.deep_linear.depth_learning_time`][] for more. The theory
    curve of each mode starts from $\text{low}\cdot s_\alpha$ at $t_{\text{low}}$
    (integrated with [`basinlab.models.deep_linear_depth`][]). The predicted order of
    acquisition is by decreasing $s_\alpha$; it is checked on every pair of modes
    whose singular values differ by more than the relative `tie`, since the theory
    does not order near-equal modes.

    **Arguments:**

    - `run`: the result of [`basinlab.simulations.training.deep_linear_run`][].
    - `low`, `high`: the fractions of $s_\alpha$ that bound the transit,
      $0 < \text{low} < \text{high} < 1$.
    - `tie`: singular values closer than this (relative) are not ordered.

    **Returns:**

    An `xarray.Dataset` with `u_run` and `u_theory` over `(time, mode)` (the theory
    is NaN before $t_{\text{low}}$), and over `mode`: `s`, `t_low`, `t_high`,
    `half_time` (the crossing of $s_\alpha/2$), `transit_run`, `transit_theory` and
    `transit_error` (relative). Its attrs hold `max_transit_error` over the modes
    learned in the run, `order_agrees`, `ordered_pairs` and `pairs_checked`.

    **Raises:**

    - `ValueError`: `run` is not a deep linear run, or bad fractions.
    """
    _check_experiment(run, "deep_linear")
    if not 0 < low < high < 1:
        raise ValueError(f"need 0 < low < high < 1, got low={low}, high={high}")
    if not tie >= 0:
        raise ValueError(f"tie must be non-negative, got {tie}")
    depth, tau = int(run.attrs["layers"]) + 1, float(run.attrs["tau"])
    times, u, s = run["time"].values.astype(float), run["u"].values, run["s"].values
    compiled = _chain_model(depth)
    theory = np.full_like(u, np.nan)
    rows = {name: [] for name in ("t_low", "t_high", "half_time", "transit_theory")}
    for a, value in enumerate(s):
        t_low = _crossing(u[:, a], times, low * value)
        rows["t_low"].append(t_low)
        rows["t_high"].append(_crossing(u[:, a], times, high * value))
        rows["half_time"].append(_crossing(u[:, a], times, value / 2))
        rows["transit_theory"].append(
            models.deep_linear.depth_learning_time(value, low * value, high * value, depth, tau)
        )
        if np.isfinite(t_low):
            # One grid length for every mode, so the solver compiles once.
            grid = t_low + (times - times[0])
            start = np.full((1, depth - 1), (low * value) ** (1 / (depth - 1)))
            path = trajectories(compiled, start, grid, params={"s": value, "tau": tau}, **_TIGHT)
            later = times >= t_low
            theory[later, a] = np.interp(times[later], grid, path["u"].values[0])
    transit_run = np.array(rows["t_high"]) - np.array(rows["t_low"])
    transit_theory = np.array(rows["transit_theory"])
    error = transit_run / transit_theory - 1
    half = np.array(rows["half_time"])
    pairs = [
        (a, b)
        for a in range(len(s))
        for b in range(len(s))
        if s[a] > (1 + tie) * s[b] and np.isfinite(half[a])
    ]
    ordered = sum(1 for a, b in pairs if not half[b] <= half[a])
    return xr.Dataset(
        {
            "u_run": (("time", "mode"), u),
            "u_theory": (("time", "mode"), theory),
            "s": ("mode", s),
            **{name: ("mode", np.array(values)) for name, values in rows.items()},
            "transit_run": ("mode", transit_run),
            "transit_error": ("mode", error),
        },
        coords={"time": times, "mode": run["mode"].values},
        attrs={
            "experiment": "deep_linear",
            "layers": int(run.attrs["layers"]),
            "tau": tau,
            "max_transit_error": float(np.nanmax(np.abs(error))),
            "order_agrees": int(ordered == len(pairs)),
            "ordered_pairs": ordered,
            "pairs_checked": len(pairs),
            "versions": json.dumps(versions()),
        },
    )


@functools.lru_cache(maxsize=4)
def _reward_perceptron_model(episode_length: int) -> CompiledModel:
    return compile_model(models.reward_perceptron(episode_length))


def reward_perceptron_theory(run: xr.Dataset) -> xr.Dataset:
    r"""Run the RL perceptron's order-parameter ODEs from a real run's start.

    The ODE of [`basinlab.models.reward_perceptron`][] is integrated at the run's
    $T, \eta_1, \eta_2, \rho, f$ and $S_0$, from the run's $(R, S, Q, I)$ at
    $\alpha = 0$, and saved at its logged $\alpha$; a run in several rounds is
    followed by [`proxy_rounds`][] with a fresh proxy at each of its round starts.
    The run fluctuates around the ODE by $O(D^{-1/2})$.

    **Arguments:**

    - `run`: the result of
      [`basinlab.simulations.training.reward_perceptron_run`][].

    **Returns:**

    An `xarray.Dataset` over `time` with `y_run` and `y_theory` over `(time, state)`
    and `overlap_run`, `overlap_theory` ($R/\sqrt Q$). Its attrs hold
    `overlap_max_gap` ($\max_\alpha |\Delta(R/\sqrt Q)|$), `norm_max_relative_gap`
    ($\max_\alpha |Q_\text{run}/Q_\text{theory} - 1|$), `D` and `solved`.

    **Raises:**

    - `ValueError`: `run` is not a reward-perceptron run.
    """
    _check_experiment(run, "reward_perceptron")
    a = run.attrs
    params = {
        "eta_1": a["reward"],
        "eta_2": a["penalty"],
        "rho": a["proxy_overlap"],
        "flip": a["flip"],
        "S_0": a["S_0"],
    }
    compiled = _reward_perceptron_model(int(a["episode_length"]))
    times = run["time"].values
    round_starts = np.atleast_1d(a.get("round_starts", times[:1]))
    path = proxy_rounds(compiled, run["y"].values[0], times, round_starts, params=params, **_TIGHT)
    theory = path["y"].values
    overlap_run = run["R"].values / np.sqrt(run["Q"].values)
    overlap_theory = path["overlap"].values
    return xr.Dataset(
        {
            "y_run": (("time", "state"), run["y"].values),
            "y_theory": (("time", "state"), theory),
            "overlap_run": ("time", overlap_run),
            "overlap_theory": ("time", overlap_theory),
        },
        coords={"time": times, "state": run["state"].values},
        attrs={
            "experiment": "reward_perceptron",
            "D": int(a["D"]),
            "overlap_max_gap": float(np.max(np.abs(overlap_run - overlap_theory))),
            "norm_max_relative_gap": float(np.max(np.abs(run["Q"].values / theory[:, 2] - 1))),
            "solved": int(path["solved"].values),
            "versions": json.dumps(versions()),
        },
    )


@functools.lru_cache(maxsize=1)
def _linear_attention_model() -> CompiledModel:
    return compile_model(models.linear_attention())


def linear_attention_theory(run: xr.Dataset) -> xr.Dataset:
    r"""The theory of a real linear-attention run.

    An isotropic run (one value scale, a full key–query matrix) is compared with
    [`basinlab.models.linear_attention`][] at the run's $D$, $N$ and $\kappa =
    1/\sqrt D$, from the run's $u$ at $t = 0$: the risk curve. A run of rank-one
    heads is compared with its plateau losses ([`basinlab.models.plateau_losses`][]):
    for each plateau, the closest logged risk.

    **Arguments:**

    - `run`: the result of
      [`basinlab.simulations.training.linear_attention_run`][].

    **Returns:**

    An `xarray.Dataset` over `time` with `risk_run`; for an isotropic run
    `risk_theory` and the attr `risk_max_gap`; for heads, `plateau_loss` and
    `plateau_gap` over `plateau` and the attr `plateaus_reached` (plateaus met
    within 0.01). Attrs also hold `D`, `N` and `solved`.

    **Raises:**

    - `ValueError`: `run` is not a linear-attention run.
    """
    _check_experiment(run, "linear_attention")
    a = run.attrs
    dim, length = int(a["D"]), int(a["N"])
    times = run["time"].values
    risk = run["risk"].values
    variables = {"risk_run": ("time", risk)}
    attrs = {
        "experiment": "linear_attention",
        "D": dim,
        "N": length,
        "solved": 1,
        "versions": json.dumps(versions()),
    }
    if int(a["heads"]) < 0:
        params = {"D": dim, "N": length, "kappa": float(a["kappa"])}
        path = trajectories(
            _linear_attention_model(), run["y"].values[:1], times, params=params, **_TIGHT
        )
        theory = path["risk"].values[0]
        variables["risk_theory"] = ("time", theory)
        attrs["risk_max_gap"] = float(np.max(np.abs(risk - theory)))
        attrs["solved"] = int(path["solved"].values[0])
    else:
        plateaus = models.plateau_losses(np.atleast_1d(a["spectrum"]), length)
        gaps = np.min(np.abs(risk[None, :] - plateaus[:, None]), axis=1)
        variables["plateau_loss"] = ("plateau", plateaus)
        variables["plateau_gap"] = ("plateau", gaps)
        attrs["plateaus_reached"] = int(np.sum(gaps < 0.01))
    return xr.Dataset(variables, coords={"time": times}, attrs=attrs)


def compare_with_theory(run: xr.Dataset, **options) -> xr.Dataset:
    """Run the theory matching a real run and return both, with their distance.

    Dispatches on the run's `experiment` attr to [`teacher_student_theory`][],
    [`deep_linear_theory`][], [`reward_perceptron_theory`][] or
    [`linear_attention_theory`][], passing `options` on.

    **Raises:**

    - `ValueError`: a dataset that is not a run of a known experiment.
    """
    experiment = run.attrs.get("experiment") if isinstance(run, xr.Dataset) else None
    if experiment == "teacher_student":
        return teacher_student_theory(run, **options)
    if experiment == "deep_linear":
        return deep_linear_theory(run, **options)
    if experiment == "reward_perceptron":
        return reward_perceptron_theory(run, **options)
    if experiment == "linear_attention":
        return linear_attention_theory(run, **options)
    raise ValueError(f"not a training run of a known experiment: {experiment!r}")


def _check_experiment(run: xr.Dataset, experiment: str) -> None:
    if not isinstance(run, xr.Dataset) or run.attrs.get("experiment") != experiment:
        found = run.attrs.get("experiment") if isinstance(run, xr.Dataset) else type(run)
        raise ValueError(f"expected a {experiment} run, got {found!r}")
