r"""A real RL perceptron trained by a proxy teacher's episode rewards (Patel et al. 2023)."""

from __future__ import annotations

import functools
import itertools
import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr
from jaxtyping import Array, Float

from ...theory import models
from ...theory._checks import check_count, check_in_range, check_positive, check_seed
from ...theory._legacy_arguments import legacy_arguments
from .._engine._compile import CompiledModel, compile_model
from .._engine._progress import progress_bar
from .._engine._provenance import versions
from ._experiment import TIGHT, check_experiment
from ._proxy_rounds import proxy_rounds

STATE = ("R", "S", "Q", "I")


def episode_update(
    w: Float[Array, " D"],
    judge: Float[Array, " D"],
    key: Array,
    episode_length: int,
    reward: float | Array,
    penalty: float | Array,
    flip: float | Array,
) -> Float[Array, " D"]:
    r"""One episode of the RL perceptron: $T$ Gaussian inputs drawn with `key`, the
    actions $\operatorname{sign}(w\cdot x_t)$ rewarded when all agree with `judge`
    (the verdict flipped with probability `flip`), and $w \leftarrow w + g\sum_t y_t
    x_t/(T\sqrt D)$ with $g = \eta_1$ if rewarded and $-\eta_2$ if not."""
    d = w.shape[0]
    input_key, flip_key = jax.random.split(key)
    x = jax.random.normal(input_key, (episode_length, d), w.dtype)
    actions = jnp.sign(x @ w)
    judged = jnp.sign(x @ judge)
    rewarded = jnp.all(actions == judged) != jax.random.bernoulli(flip_key, flip)
    scale = jnp.where(rewarded, reward, -penalty) / (episode_length * math.sqrt(d))
    return w + scale * (actions @ x)


@functools.partial(jax.jit, static_argnames=("episode_length",))
def _advance(
    w: Float[Array, " D"],
    teacher: Float[Array, "2 D"],
    key: Array,
    start: Array,
    stop: Array,
    episode_length: int,
    reward: float,
    penalty: float,
    flip: float,
) -> Float[Array, " D"]:
    def episode(index, w):
        episode_key = jax.random.fold_in(key, index)
        return episode_update(w, teacher[1], episode_key, episode_length, reward, penalty, flip)

    return jax.lax.fori_loop(start, stop, episode, w)


@legacy_arguments(
    positional=(
        "dim",
        "episode_length",
        "reward",
        "penalty",
        "proxy_overlap",
        "flip",
        "t1",
        "seed",
    ),
    renamed={"D": "dim", "alpha_max": "t1"},
)
def reward_perceptron_run(
    *,
    dim: int = 400,
    episode_length: int = 2,
    reward: float = 1.0,
    penalty: float = 0.0,
    proxy_overlap: float = 1.0,
    flip: float = 0.0,
    t1: float = 10.0,
    seed: int = 0,
    alphas: Float[np.ndarray, " time"] | None = None,
    init_scale: float = 0.5,
    initial_overlap: float = 0.0,
    rounds: int = 1,
    progress: bool = True,
) -> xr.Dataset:
    r"""Train a perceptron by episode rewards judged by a proxy teacher, logging its
    order parameters.

    Each episode draws $T$ inputs $x_t \sim \mathcal N(0, I_D)$; the student acts
    $y_t = \operatorname{sign}(w\cdot x_t)$; the episode is rewarded when every action
    agrees with the proxy teacher $w_p$, the verdict is flipped with probability $f$,
    and $w \leftarrow w + g\sum_t y_t x_t / (T\sqrt D)$ with $g = \eta_1$ if rewarded
    and $-\eta_2$ if not (Patel et al. 2023, with the proxy of
    [`basinlab.models.reward_perceptron`][]). The true teacher $w^*$ and the proxy
    are $\sqrt D$ times orthonormal combinations, so $|w^*|^2 = |w_p|^2 = D$ and
    $w_p\cdot w^*/D = \rho$ exactly. The student starts from $w_0 =$
    `initial_overlap` $\cdot\,w^* + $ `init_scale` $\cdot\,\xi$, $\xi$ a standard
    Gaussian vector. At each logged $\alpha$ = episodes$/D$ the run records
    $R = w\cdot w^*/D$, $S = w\cdot w_p/D$, $Q = w\cdot w/D$ and $I = w\cdot w_0/D$.

    With `rounds` $= k > 1$ the episodes up to the last logged one are split into $k$
    equal rounds, and each round is judged by a fresh proxy $w_p^{(j)} = \rho\,w^* +
    \sqrt{1-\rho^2}\,e_j$, the $e_j$ orthonormal to $w^*$ and to each other: Gao et
    al.'s iterated optimisation (§4.3) as [`basinlab.models.fresh_proxy`][] states
    it. $S$ is then the overlap with the proxy that judges the next episode.

    Episode $e$ draws from a key folded from the seed and $e$, so the run does not
    depend on which $\alpha$ are logged.

    **Arguments:**

    - `dim`: the input dimension.
    - `episode_length`: $T$.
    - `reward`, `penalty`: $\eta_1 > 0$, $\eta_2 \ge 0$.
    - `proxy_overlap`: $\rho \in [-1, 1]$.
    - `flip`: the chance $f \in [0, 1]$ that an episode's verdict is flipped.
    - `t1`: the length in $\alpha$ (when `alphas` is not given).
    - `seed`: the seed of the teachers, the start and the episodes.
    - `alphas`: increasing times to log from 0; 81 points up to `t1` by
      default. Each is rounded to a whole episode.
    - `init_scale`, `initial_overlap`: the start, as above.
    - `rounds`: the number $k \ge 1$ of proxies, each judging one round.
    - `progress`: show a progress bar.

    **Returns:**

    An `xarray.Dataset` over `time` ($\alpha$, with `episode` alongside) with `y` over
    `(time, state)`, the state `R, S, Q, I` of the model, each as its own variable,
    and `overlap` ($R/\sqrt Q$, the model's observable of that name). The attrs
    record every setting, `S_0` (the start's overlap with the first proxy),
    `round_starts` (each round's first $\alpha$), the seed and the package versions.

    **Raises:**

    - `ValueError`: `dim` or `episode_length` below 1 (or `dim` below 2), a value outside
      the ranges above, more rounds than episodes or than `D - 1`, or `alphas`
      that do not start at 0, are not increasing after rounding to episodes, or are
      not finite.
    - `TypeError`: a seed that is not an integer.
    """
    check_count(dim, "dim", minimum=2)
    check_count(episode_length, "episode_length")
    check_count(rounds, "rounds")
    seed = check_seed(seed)
    check_positive(reward, "reward")
    check_positive(t1, "t1")
    for value, name, low, high in (
        (penalty, "penalty", 0.0, math.inf),
        (proxy_overlap, "proxy_overlap", -1.0, 1.0),
        (flip, "flip", 0.0, 1.0),
        (init_scale, "init_scale", 0.0, math.inf),
        (initial_overlap, "initial_overlap", -math.inf, math.inf),
    ):
        check_in_range(value, name, low, high)
    if init_scale == 0 and initial_overlap == 0:
        raise ValueError("the student must not start at w = 0: give init_scale or initial_overlap")
    times = np.linspace(0.0, t1, 81) if alphas is None else np.asarray(alphas, float)
    if times.ndim != 1 or not np.all(np.isfinite(times)) or times.size < 2:
        raise ValueError("alphas must be a finite 1-D sequence of at least 2 times")
    episodes = np.rint(times * dim).astype(np.int64)
    if episodes[0] != 0 or np.any(np.diff(episodes) <= 0):
        raise ValueError(
            f"alphas must start at 0 and increase by at least one episode (1/dim = {1 / dim:g})"
        )
    if rounds >= dim or rounds > episodes[-1]:
        raise ValueError(
            f"rounds must be fewer than dim = {dim} and at most the {episodes[-1]} episodes, "
            f"got {rounds}"
        )
    round_starts = np.rint(np.arange(rounds) * episodes[-1] / rounds).astype(np.int64)

    teacher_key, start_key, episode_key = jax.random.split(jax.random.PRNGKey(seed), 3)
    basis, _ = jnp.linalg.qr(jax.random.normal(teacher_key, (dim, rounds + 1)))
    true_teacher = math.sqrt(dim) * basis[:, 0]
    proxies = math.sqrt(dim) * (
        proxy_overlap * basis[:, :1] + math.sqrt(1 - proxy_overlap**2) * basis[:, 1:]
    )
    start = initial_overlap * true_teacher + init_scale * jax.random.normal(start_key, (dim,))

    def judged_by(episode: int) -> int:
        return int(np.searchsorted(round_starts, episode, side="right")) - 1

    log = []

    def record(w: Array, episode: int) -> None:
        directions = jnp.stack([true_teacher, proxies[:, judged_by(episode)], start])
        r, s, i = np.asarray(directions @ w) / dim
        log.append((r, s, float(w @ w) / dim, i))

    w = start
    record(w, 0)
    cuts = np.union1d(episodes, round_starts)
    segments = list(itertools.pairwise(cuts))
    sizes = [int(b - a) for a, b in segments]
    logged = set(episodes.tolist())
    for first, last in progress_bar(segments, sizes, "episodes", progress, unit="episode"):
        teachers = jnp.stack([true_teacher, proxies[:, judged_by(first)]])
        w = _advance(w, teachers, episode_key, first, last, episode_length, reward, penalty, flip)
        if last in logged:
            record(w, last)
    values = np.array(log)
    return xr.Dataset(
        {
            "y": (("time", "state"), values),
            **{name: ("time", values[:, k]) for k, name in enumerate(STATE)},
            "overlap": ("time", values[:, 0] / np.sqrt(values[:, 2])),
        },
        coords={"time": episodes / dim, "episode": ("time", episodes), "state": list(STATE)},
        attrs={
            "experiment": "reward_perceptron",
            "D": dim,
            "episode_length": episode_length,
            "reward": float(reward),
            "penalty": float(penalty),
            "proxy_overlap": float(proxy_overlap),
            "flip": float(flip),
            "init_scale": float(init_scale),
            "initial_overlap": float(initial_overlap),
            "S_0": float(values[0, 1]),
            "rounds": rounds,
            "round_starts": round_starts / dim,
            "seed": seed,
            "time_unit": "alpha = episodes / D",
            "versions": json.dumps(versions()),
        },
    )


@functools.lru_cache(maxsize=8)
def reward_perceptron_model(episode_length: int, fluctuations: bool = False) -> CompiledModel:
    """The compiled [`basinlab.models.reward_perceptron`][], one per $T$: the ODE, or
    with `fluctuations` the SDE of finite $D$, whose parameter `D` every call gives
    (the default here is only a placeholder)."""
    return compile_model(models.reward_perceptron(episode_length, dim=2 if fluctuations else None))


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
    check_experiment(run, "reward_perceptron")
    a = run.attrs
    params = {
        "eta_1": a["reward"],
        "eta_2": a["penalty"],
        "rho": a["proxy_overlap"],
        "flip": a["flip"],
        "S_0": a["S_0"],
    }
    compiled = reward_perceptron_model(int(a["episode_length"]))
    times = run["time"].values
    round_starts = np.atleast_1d(a.get("round_starts", times[:1]))
    path = proxy_rounds(compiled, run["y"].values[0], times, round_starts, params=params, **TIGHT)
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
