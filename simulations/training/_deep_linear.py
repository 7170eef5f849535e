r"""A real deep linear network trained by full-batch gradient descent, logging its modes.

A. M. Saxe, J. L. McClelland and S. Ganguli, "Exact solutions to the nonlinear dynamics
of learning in deep linear neural networks", ICLR 2014, arXiv:1312.6120.
"""

from __future__ import annotations

import functools
import itertools
import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import xarray as xr
from jaxtyping import Array, Float

from ...theory import models
from ...theory._checks import check_count, check_seed
from ...theory._legacy_arguments import legacy_arguments
from ...theory.models import hierarchical_data, mode_spectrum
from .._engine._compile import CompiledModel, compile_model
from .._engine._progress import progress_bar
from .._engine._provenance import versions
from .._engine._trajectories import trajectories
from ._experiment import TIGHT, check_experiment


def _product(layers: list[Array]) -> Array:
    return functools.reduce(lambda total, layer: layer @ total, layers)


def _initial_weights(widths: list[int], scale: float, balanced: bool, key: Array) -> list[Array]:
    keys = jax.random.split(key, len(widths))
    if not balanced:
        return [
            scale * jax.random.normal(k, (fan_out, fan_in))
            for k, fan_in, fan_out in zip(keys, widths[:-1], widths[1:])
        ]
    rank = min(widths)
    frames = [
        jnp.linalg.qr(jax.random.normal(k, (width, rank)))[0] for k, width in zip(keys, widths)
    ]
    return [scale * after @ before.T for before, after in itertools.pairwise(frames)]


def _loss(layers: list[Array], inputs: Array, outputs: Array) -> Array:
    residual = outputs - inputs @ _product(layers).T
    return jnp.sum(residual**2) / (2 * inputs.shape[0])


# `_descend` is compiled once per optimiser object: one per rate, not one per run.
@functools.cache
def _sgd(learning_rate: float) -> optax.GradientTransformation:
    return optax.sgd(learning_rate)


@functools.partial(jax.jit, static_argnames=("optimiser", "steps"))
def _descend(
    layers: list[Array],
    state: optax.OptState,
    inputs: Array,
    outputs: Array,
    optimiser: optax.GradientTransformation,
    steps: int,
):
    def step(carry, _):
        layers, state = carry
        updates, state = optimiser.update(jax.grad(_loss)(layers, inputs, outputs), state)
        return (optax.apply_updates(layers, updates), state), None

    return jax.lax.scan(step, (layers, state), None, length=steps)[0]


@legacy_arguments(positional=("layers", "hidden", "learning_rate", "steps", "seed"))
def deep_linear_run(
    *,
    layers: int = 2,
    hidden: int = 16,
    learning_rate: float = 0.001,
    steps: int = 8000,
    seed: int = 0,
    data: tuple[Float[np.ndarray, "P N1"], Float[np.ndarray, "P N3"]] | None = None,
    init_scale: float = 0.2,
    balanced: bool = True,
    log_every: int = 20,
    progress: bool = True,
) -> xr.Dataset:
    r"""Train a deep linear network by full-batch gradient descent, logging each mode.

    The network $y = W_L\cdots W_1 x$ is trained on the loss
    $\frac{1}{2P}\sum_\mu \|y^\mu - W_L\cdots W_1 x^\mu\|^2$ by gradient descent with
    learning rate $\lambda$. For whitened inputs ($\Sigma^{11} = I$) and small
    $\lambda$, this follows the gradient flow of Saxe et al. (2014) in the time
    $t$ = steps with $\tau = 1/\lambda$. In the SVD
    $\Sigma^{31} = \sum_\alpha s_\alpha u_\alpha v_\alpha^T$ of the data, the run logs
    each mode's strength $u_\alpha(t) = u_\alpha^T W_L\cdots W_1 v_\alpha$. From small
    random weights, modes are learned in order of decreasing $s_\alpha$, each along
    the sigmoid of [`basinlab.models.deep_linear_mode`][] (two layers, Eq 12) or the
    reduced dynamics of Eq 15 (more layers).

    The inputs are rescaled by one number so that $\Sigma^{11} = I$; data whose input
    correlation is not a multiple of the identity are refused, since the theory
    assumes whitened inputs.

    **Arguments:**

    - `layers`: the number of weight matrices $L \ge 2$ (the theory's $N_l = L + 1$).
    - `hidden`: the width of every hidden layer.
    - `learning_rate`: $\lambda$.
    - `steps`: the number of gradient-descent steps.
    - `seed`: the seed of the initial weights.
    - `data`: `(inputs, outputs)` with examples as rows; by default the hierarchical
      data of [`basinlab.models.hierarchical_data`][] (a depth-3 tree, 8 items, 64
      features, seed 0).
    - `init_scale`: the standard deviation of every initial weight.
    - `log_every`: steps between logged points.
    - `progress`: show a progress bar.

    **Returns:**

    An `xarray.Dataset` over `time` (steps) and `mode`: `u` over `(time, mode)`,
    `loss` over `time`, and `s` (the singular values) over `mode`. Its attrs record
    $\tau = 1/\lambda$, every setting, the seed and the package versions.

    **Raises:**

    - `ValueError`: `layers < 2`, `hidden`, `steps` or `log_every` below 1, a learning
      rate or scale that is not positive, malformed data, or inputs whose correlation
      is not a multiple of the identity.
    - `TypeError`: a seed that is not an integer (one outside $[0, 2^{63})$ is a
      `ValueError`).
    """
    if not isinstance(layers, int) or layers < 2:
        raise ValueError(f"layers must be an integer of at least 2, got {layers!r}")
    for name, value in (("hidden", hidden), ("steps", steps), ("log_every", log_every)):
        check_count(value, name)
    seed = check_seed(seed)
    for name, value in (("learning_rate", learning_rate), ("init_scale", init_scale)):
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a positive number, got {value!r}")
    inputs, outputs = hierarchical_data(3, 64) if data is None else data
    spectrum = mode_spectrum(inputs, outputs)
    if spectrum.whitening_error > 1e-8:
        raise ValueError(
            "the theory assumes whitened inputs: the input correlation is "
            f"{spectrum.whitening_error:.3g} from a multiple of the identity"
        )
    x, y = np.asarray(inputs, float), np.asarray(outputs, float)
    x = x / math.sqrt(np.trace(x.T @ x / len(x)) / x.shape[1])
    spectrum = mode_spectrum(x, y)
    widths = [x.shape[1], *[hidden] * (layers - 1), y.shape[1]]
    weights = _initial_weights(widths, init_scale, balanced, jax.random.PRNGKey(seed))
    left, right = spectrum.output_modes, spectrum.input_modes
    data_x, data_y = jnp.asarray(x), jnp.asarray(y)

    strengths, losses = [], []

    def record(weights):
        total = np.asarray(_product(weights))
        strengths.append(np.einsum("oa,oi,ia->a", left, total, right))
        losses.append(float(_loss(weights, data_x, data_y)))

    record(weights)
    times = np.arange(0, steps + 1, log_every)
    if times[-1] != steps:
        times = np.append(times, steps)
    sizes = np.diff(times).tolist()
    optimiser = _sgd(float(learning_rate))
    state = optimiser.init(weights)
    for size in progress_bar(sizes, sizes, "gradient descent", progress, unit="step"):
        weights, state = _descend(weights, state, data_x, data_y, optimiser, int(size))
        record(weights)

    return xr.Dataset(
        {
            "u": (("time", "mode"), np.array(strengths)),
            "loss": ("time", np.array(losses)),
            "s": ("mode", spectrum.singular_values),
        },
        coords={"time": times, "mode": np.arange(1, len(spectrum.singular_values) + 1)},
        attrs={
            "experiment": "deep_linear",
            "layers": layers,
            "hidden": hidden,
            "learning_rate": float(learning_rate),
            "tau": 1.0 / learning_rate,
            "steps": steps,
            "init_scale": float(init_scale),
            "seed": seed,
            "time_unit": "gradient-descent steps",
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
    check_experiment(run, "deep_linear")
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
            path = trajectories(compiled, start, grid, params={"s": value, "tau": tau}, **TIGHT)
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
