r"""A real linear self-attention layer trained online on in-context linear regression
(Zhang, Frei & Bartlett 2024; Zhang, Singh, Latham & Saxe 2025)."""

from __future__ import annotations

import functools
import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr
from jaxtyping import Array, Float, PRNGKeyArray

from ...theory import models
from ...theory._checks import check_count, check_positive, check_seed
from ...theory._legacy_arguments import legacy_arguments
from .._engine._compile import CompiledModel, compile_model
from .._engine._progress import progress_bar
from .._engine._provenance import versions
from .._engine._trajectories import trajectories
from ._experiment import TIGHT, check_experiment


def _merged(params: dict[str, Array]) -> Float[Array, "D D"]:
    """$\\Gamma$: a scalar value times the key-query matrix, or the sum of rank-one
    heads $\\sum_h v_h q_h k_h^\\top$."""
    if "W" in params:
        return params["v"] * params["W"]
    return jnp.einsum("h,hi,hj->ij", params["v"], params["q"], params["k"])


def exact_risk(
    gamma: Float[Array, "D D"], spectrum: Float[Array, " D"], prompt_length: int
) -> Float[Array, ""]:
    r"""The population risk $\operatorname{tr}\Lambda - 2\operatorname{tr}(\Lambda\Gamma
    \Lambda) + \operatorname{tr}(\Gamma^\top\Lambda\Gamma M)$ of a merged weight $\Gamma$
    (see [`basinlab.models.linear_attention`][]), for $\Lambda = \mathrm{diag}$
    (`spectrum`)."""
    second_moment = (1 + 1 / prompt_length) * spectrum**2 + spectrum.sum() * spectrum / (
        prompt_length
    )
    return (
        spectrum.sum()
        - 2 * jnp.sum(jnp.diag(gamma) * spectrum**2)
        + jnp.sum(gamma**2 * spectrum[:, None] * second_moment[None, :])
    )


def _batch_loss(params, key: PRNGKeyArray, batch: int, prompt_length: int, root: Array):
    task_key, input_key, query_key = jax.random.split(key, 3)
    dim = root.shape[0]
    w = jax.random.normal(task_key, (batch, dim))
    xs = jax.random.normal(input_key, (batch, prompt_length, dim)) * root
    query = jax.random.normal(query_key, (batch, dim)) * root
    summary = jnp.einsum("bnd,bn->bd", xs, jnp.einsum("bnd,bd->bn", xs, w)) / prompt_length
    predicted = jnp.einsum("bi,ij,bj->b", query, _merged(params), summary)
    return jnp.mean((predicted - jnp.einsum("bd,bd->b", query, w)) ** 2)


@functools.partial(jax.jit, static_argnames=("steps", "batch", "prompt_length"))
def _advance(params, key, first, steps, batch, prompt_length, root, learning_rate):
    def step(carry, index):
        params = carry
        loss, grads = jax.value_and_grad(_batch_loss)(
            params, jax.random.fold_in(key, index), batch, prompt_length, root
        )
        return jax.tree.map(lambda p, g: p - learning_rate * g, params, grads), loss

    params, losses = jax.lax.scan(step, params, first + jnp.arange(steps))
    return params, jnp.mean(losses)


@legacy_arguments(
    positional=("dim", "prompt_length", "t1"),
    renamed={"D": "dim", "N": "prompt_length", "time_max": "t1"},
)
def linear_attention_run(
    *,
    dim: int = 5,
    prompt_length: int = 20,
    t1: float = 60.0,
    spectrum: Float[np.ndarray, " D"] | None = None,
    heads: int | None = None,
    initial_u: float = 0.01,
    init_scale: float = 0.05,
    learning_rate: float = 0.05,
    batch: int = 256,
    log_points: int = 81,
    seed: int = 0,
    progress: bool = True,
) -> xr.Dataset:
    r"""Train one linear self-attention layer by online SGD on fresh prompts of
    in-context linear regression, logging its exact population risk.

    Each step draws `batch` prompts of $N$ pairs, $x_i \sim \mathcal N(0, \Lambda)$,
    $w \sim \mathcal N(0, I_D)$, and takes a gradient step of the squared error of the
    query's prediction $x^\top\Gamma\frac1N\sum_i y_i x_i$. Time is
    $t$ = `learning_rate` $\times$ steps, the gradient-flow time of the theory.

    Two parametrisations of $\Gamma$:

    - `heads=None`: a scalar value $v$ times a full key–query matrix $W$, started
      balanced on the isotropic line, $W = w_0 I$ and $v_0 = \sqrt D\,w_0$ with $v_0 w_0$
      = `initial_u`; the theory is [`basinlab.models.linear_attention`][] at $\kappa
      = 1/\sqrt D$.
    - `heads=H`: $H$ rank-one heads $\Gamma = \sum_h v_h q_h k_h^\top$, every entry
      drawn from $\mathcal N(0, $ `init_scale`$^2)$; from a small start the risk steps
      down the plateaus of [`basinlab.models.plateau_losses`][].

    **Arguments:**

    - `dim`, `prompt_length`: the input dimension and the prompt length.
    - `t1`: the length of the run in $t$.
    - `spectrum`: the eigenvalues of the diagonal $\Lambda$; $I/D$ by default.
    - `heads`: `None` or the number of rank-one heads.
    - `initial_u`: the start of the isotropic parametrisation, positive.
    - `init_scale`: the start of the heads.
    - `learning_rate`, `batch`: of SGD.
    - `log_points`: logged times, evenly spaced from 0 to `t1`.
    - `seed`: of the start and of every prompt.
    - `progress`: show a progress bar.

    **Returns:**

    An `xarray.Dataset` over `time` with `risk` (the exact population risk of the
    current weights), `loss` (the mean SGD batch loss since the last log; NaN at 0),
    `u` ($\operatorname{tr}\Gamma/D$) and `y` over `(time, state)` with state `a, b`
    $= (\sqrt u, \sqrt u)$, the balanced representative the theory model integrates.
    Attrs: `experiment` (`"linear_attention"`), every setting, `kappa` ($1/\sqrt D$)
    and the package versions.

    **Raises:**

    - `ValueError`: a size below 1, a non-positive rate, scale or time, a spectrum of
      the wrong length or not positive, or fewer than one step between logs.
    - `TypeError`: a seed that is not an integer.
    """
    for value, name in (
        (dim, "dim"),
        (prompt_length, "prompt_length"),
        (batch, "batch"),
        (log_points, "log_points"),
    ):
        check_count(value, name)
    if heads is not None:
        check_count(heads, "heads")
    for value, name in (
        (t1, "t1"),
        (initial_u, "initial_u"),
        (init_scale, "init_scale"),
        (learning_rate, "learning_rate"),
    ):
        check_positive(value, name)
    seed = check_seed(seed)
    eigenvalues = np.full(dim, 1.0 / dim) if spectrum is None else np.asarray(spectrum, float)
    if eigenvalues.shape != (dim,) or not np.all(eigenvalues > 0):
        raise ValueError(f"spectrum must hold dim = {dim} positive eigenvalues")
    total_steps = round(t1 / learning_rate)
    per_log = total_steps // max(log_points - 1, 1)
    if log_points < 2 or per_log < 1:
        raise ValueError(
            f"log_points must be at least 2 and at most {total_steps + 1} "
            f"(time_max / learning_rate steps)"
        )
    init_key, data_key = jax.random.split(jax.random.PRNGKey(seed))
    if heads is None:
        w0 = math.sqrt(initial_u / math.sqrt(dim))
        params = {"v": jnp.asarray(math.sqrt(dim) * w0), "W": w0 * jnp.eye(dim)}
    else:
        v, q, k = init_scale * jax.random.normal(init_key, (3, heads, dim))
        params = {"v": v[:, 0], "q": q, "k": k}
    root = jnp.sqrt(jnp.asarray(eigenvalues))
    spectrum_array = jnp.asarray(eigenvalues)

    def log(params, loss):
        gamma = _merged(params)
        records.append(
            (
                float(exact_risk(gamma, spectrum_array, prompt_length)),
                loss,
                float(jnp.trace(gamma)) / dim,
            )
        )

    records: list[tuple[float, float, float]] = []
    log(params, math.nan)
    chunks = range(log_points - 1)
    for index in progress_bar(chunks, [per_log] * len(chunks), "SGD", progress, unit="step"):
        params, loss = _advance(
            params, data_key, index * per_log, per_log, batch, prompt_length, root, learning_rate
        )
        log(params, float(loss))
    risk, loss, u = np.array(records).T
    times = np.arange(log_points) * per_log * learning_rate
    representative = np.sqrt(np.abs(u))
    return xr.Dataset(
        {
            "risk": ("time", risk),
            "loss": ("time", loss),
            "u": ("time", u),
            "y": (("time", "state"), np.stack([representative, np.sign(u) * representative], 1)),
        },
        coords={"time": times, "state": ["a", "b"]},
        attrs={
            "experiment": "linear_attention",
            "D": dim,
            "N": prompt_length,
            "spectrum": eigenvalues,
            "heads": -1 if heads is None else heads,
            "initial_u": float(initial_u),
            "init_scale": float(init_scale),
            "learning_rate": float(learning_rate),
            "batch": batch,
            "steps_per_log": per_log,
            "kappa": 1 / math.sqrt(dim),
            "seed": seed,
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
    check_experiment(run, "linear_attention")
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
            _linear_attention_model(), run["y"].values[:1], times, params=params, **TIGHT
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
