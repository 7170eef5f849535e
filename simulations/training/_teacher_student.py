r"""A real soft committee machine trained by online SGD, logging its order parameters.

D. Saad and S. A. Solla, Phys. Rev. E 52, 4225 (1995); S. Goldt, M. S. Advani,
A. M. Saxe, F. Krzakala and L. Zdeborová, NeurIPS 2019.
"""

from __future__ import annotations

import functools
import itertools
import json
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import xarray as xr
from jaxtyping import Array, Float

from ...theory import models
from ...theory._checks import check_count, check_seed
from ...theory._legacy_arguments import legacy_arguments
from ...theory.models.teacher_student import ACTIVATIONS
from .._engine._compile import CompiledModel, compile_model
from .._engine._progress import progress_bar
from .._engine._provenance import versions
from .._engine._trajectories import trajectories
from ._experiment import TIGHT, check_experiment


def _g(activation: str, x: Array) -> Array:
    return jax.scipy.special.erf(x / math.sqrt(2)) if activation == "erf" else x


def _i2(activation: str, c_ab: Array, c_aa: Array, c_bb: Array) -> Array:
    if activation == "linear":
        return c_ab
    return 2 / math.pi * jnp.arcsin(c_ab / jnp.sqrt((1 + c_aa) * (1 + c_bb)))


def error_from_overlaps(
    activation: str,
    q: Float[Array, "K K"],
    r: Float[Array, "K M"],
    t: Float[Array, "M M"],
    v: Float[Array, " K"],
    v_star: Float[Array, " M"],
    sigma: float,
) -> Float[Array, ""]:
    r"""$\epsilon_g$ of a committee machine from its order parameters (Saad & Solla 1995).

    $$\epsilon_g = \tfrac12\sum_{ik} v_i v_k I_2(i,k) - \sum_{in} v_i v^*_n I_2(i,n)
      + \tfrac12\sum_{nm} v^*_n v^*_m I_2(n,m) + \sigma^2/2,$$

    with $I_2(a,b) = \frac{2}{\pi}\arcsin\bigl(C_{ab}/\sqrt{(1+C_{aa})(1+C_{bb})}\bigr)$
    for $g(x) = \operatorname{erf}(x/\sqrt2)$ and $I_2 = C_{ab}$ for linear $g$.
    """
    dq, dt = jnp.diag(q), jnp.diag(t)
    student = _i2(activation, q, dq[:, None], dq[None, :])
    cross = _i2(activation, r, dq[:, None], dt[None, :])
    teacher = _i2(activation, t, dt[:, None], dt[None, :])
    return v @ student @ v / 2 - v @ cross @ v_star + v_star @ teacher @ v_star / 2 + sigma**2 / 2


def state_names(k_units: int, m_units: int, train_second_layer: bool) -> list[str]:
    """The order parameters in the order of `basinlab.models.teacher_student`'s state."""
    names = [f"Q_{i}_{k}" for i in range(1, k_units + 1) for k in range(i, k_units + 1)]
    names += [f"R_{i}_{n}" for i in range(1, k_units + 1) for n in range(1, m_units + 1)]
    if train_second_layer:
        names += [f"v_{i}" for i in range(1, k_units + 1)]
    return names


def _flatten(q: np.ndarray, r: np.ndarray, v: np.ndarray, train_second_layer: bool) -> np.ndarray:
    upper = np.triu_indices(q.shape[-1])
    parts = [q[..., upper[0], upper[1]], r.reshape(*r.shape[:-2], -1)]
    if train_second_layer:
        parts.append(v)
    return np.concatenate(parts, axis=-1)


@jax.jit
def _measure(
    student: CommitteeMachine,
    teacher: Float[Array, "M N"],
    test_inputs: Float[Array, "P N"],
    test_targets: Float[Array, " P"],
    sigma: float,
):
    n = student.w.shape[1]
    # The label noise is independent of the inputs, so its share of the test error is
    # exactly sigma^2 / 2; adding it instead of sampling it lowers the variance.
    squared = (jax.vmap(student)(test_inputs) - test_targets) ** 2
    held_out = jnp.mean(squared) / 2 + sigma**2 / 2
    return student.w @ student.w.T / n, student.w @ teacher.T / n, held_out


class CommitteeMachine(eqx.Module):
    r"""$\phi(x) = \sum_i v_i\, g(w_i\cdot x/\sqrt N)$, student or teacher."""

    w: Float[Array, "K N"]
    v: Float[Array, " K"]
    activation: str = eqx.field(static=True)

    def __check_init__(self):
        assert self.activation in ACTIVATIONS
        assert self.w.ndim == 2 and self.v.shape == self.w.shape[:1]

    def __call__(self, x: Float[Array, " N"]) -> Float[Array, ""]:
        local = self.w @ x / math.sqrt(self.w.shape[1])
        return self.v @ _g(self.activation, local)


@functools.cache
def _optimiser(
    n: int, eta: float, eta_v: float, kappa: float, train_second_layer: bool
) -> optax.GradientTransformation:
    """Rate eta on w and eta_v / N on v, with decay kappa / N per step on both.

    One object per setting: the training step is compiled once per optimiser object,
    so a new one per run would compile every seed again."""
    first = optax.chain(optax.add_decayed_weights(kappa / (n * eta)), optax.sgd(eta))
    if train_second_layer:
        second = optax.chain(optax.add_decayed_weights(kappa / eta_v), optax.sgd(eta_v / n))
    else:
        second = optax.set_to_zero()

    def labels(student: CommitteeMachine) -> CommitteeMachine:
        return eqx.tree_at(lambda m: (m.w, m.v), student, ("first", "second"))

    return optax.multi_transform({"first": first, "second": second}, labels)


@functools.partial(jax.jit, static_argnames=("optimiser",))
def _advance(
    student: CommitteeMachine,
    state: optax.OptState,
    teacher: CommitteeMachine,
    optimiser: optax.GradientTransformation,
    key: Array,
    start: Array,
    stop: Array,
    sigma: float,
):
    n = student.w.shape[1]

    def step(index, carry):
        student, state = carry
        input_key, noise_key = jax.random.split(jax.random.fold_in(key, index))
        x = jax.random.normal(input_key, (n,), student.w.dtype)
        label = teacher(x) + sigma * jax.random.normal(noise_key, (), student.w.dtype)
        grads = jax.grad(lambda network: (network(x) - label) ** 2 / 2)(student)
        updates, state = optimiser.update(grads, state, student)
        return optax.apply_updates(student, updates), state

    return jax.lax.fori_loop(start, stop, step, (student, state))


@legacy_arguments(
    positional=("K", "M", "dim", "eta", "t1", "seed"), renamed={"N": "dim", "alpha_max": "t1"}
)
def teacher_student_run(
    *,
    K: int = 2,
    M: int = 2,
    dim: int = 1000,
    eta: float = 1.0,
    t1: float = 40.0,
    seed: int = 0,
    alphas: Float[np.ndarray, " time"] | None = None,
    train_second_layer: bool = False,
    eta_v: float | None = None,
    sigma: float = 0.0,
    kappa: float = 0.0,
    activation: str = "erf",
    init_scale: float = 0.1,
    initial_overlap: float = 0.0,
    orthogonal_teacher: bool = True,
    test_samples: int = 10_000,
    progress: bool = True,
) -> xr.Dataset:
    r"""Train a two-layer student on a random teacher by online SGD, logging overlaps.

    The student $\phi(x) = \sum_{i=1}^K v_i\, g(w_i\cdot x/\sqrt N)$ with
    $g(x) = \operatorname{erf}(x/\sqrt2)$ (or linear $g$) sees one fresh sample
    $x \sim \mathcal N(0, I_N)$ per step, labelled by the teacher
    $y = \sum_{n=1}^M v^*_n g(w^*_n\cdot x/\sqrt N) + \sigma\zeta$, $v^* = 1$, and
    takes the SGD step of the loss $\Delta^2/2$, $\Delta = \phi(x) - y$
    (Goldt et al. 2019, Eqs 4–5):

    $$w_i \leftarrow w_i - \frac{\eta}{\sqrt N}\,v_i\,\Delta\, g'(\lambda_i)\,x
        - \frac{\kappa}{N} w_i, \qquad
      v_i \leftarrow v_i - \frac{\eta_v}{N}\,\Delta\, g(\lambda_i) - \frac{\kappa}{N} v_i ,$$

    the second only with `train_second_layer`. In the standard parametrisation
    $\lambda = \hat w\cdot x$, $\hat w = w/\sqrt N$, the first update is SGD with rate
    $\eta/N$. At each logged $\alpha$ = steps$/N$ the run records
    $Q = w w^T/N$, $R = w (w^*)^T/N$, $v$, the held-out error
    $\epsilon_g = \tfrac12 E[(\phi - \phi^*)^2] + \sigma^2/2$ over `test_samples` fixed
    test inputs, and the same error computed from the order parameters
    ([`error_from_overlaps`][]). As $N \to \infty$ the overlaps follow the ODEs of
    [`basinlab.models.teacher_student`][] (Saad & Solla 1995).

    The student starts from $w_i \sim \mathcal N(0, \text{init\_scale}^2 I_N)$ and
    $v = 1$, so $Q(0) \approx \text{init\_scale}^2 I$ and $R(0) = O(\text{init\_scale}
    /\sqrt N)$. With `orthogonal_teacher` the teacher's weights are $\sqrt N$ times
    orthonormal rows, so $T = I$ exactly; otherwise they are Gaussian and $T \approx I$.

    Sample $s$ of the run is drawn from a key folded from the seed and $s$, so the
    run does not depend on which $\alpha$ are logged.

    **Arguments:**

    - `K`, `M`: student and teacher widths.
    - `dim`: the input dimension.
    - `eta`: the first-layer learning rate $\eta$.
    - `t1`: the length of the run in $\alpha$ (when `alphas` is not given).
    - `seed`: the seed of the teacher, the student, the samples and the test set.
    - `alphas`: increasing times to log, from 0; 81 points up to `t1` by
      default. Each is rounded to a whole step.
    - `train_second_layer`: also train $v$, with rate `eta_v` (default `eta`).
    - `sigma`: the output-noise level $\sigma$.
    - `kappa`: weight decay $\kappa$.
    - `activation`: `"erf"` or `"linear"`.
    - `init_scale`: the standard deviation of the student's first-layer weights.
    - `orthogonal_teacher`: make $T = I$ exactly.
    - `test_samples`: the size of the held-out set.
    - `progress`: show a progress bar.

    **Returns:**

    An `xarray.Dataset` over `time` ($\alpha$, with the SGD `step` alongside): `Q`
    over `(time, student, student_)`, `R` over `(time, student, teacher)`, `v` over
    `(time, student)`, `T` over `(teacher, teacher_)`, `eps_g` (held out),
    `eps_g_overlaps` (from the order parameters), and `y` over `(time, state)`: the
    order parameters named and ordered as the state of
    `basinlab.models.teacher_student(K, M, activation, train_second_layer)`. The attrs
    record every setting, the seed and the package versions.

    **Raises:**

    - `ValueError`: a width, `dim` or `test_samples` below 1, an unknown activation, a
      learning rate or `t1` that is not positive, a negative `sigma`, `kappa`
      or `init_scale`, `K > N` or `M > N`, or `alphas` that do not start at 0, are not
      increasing after rounding to steps, or are not finite.
    - `TypeError`: a seed that is not an integer (one outside $[0, 2^{63})$ is a
      `ValueError`).
    """
    for name, value in (("K", K), ("M", M), ("dim", dim), ("test_samples", test_samples)):
        check_count(value, name)
    seed = check_seed(seed)
    if max(K, M) > dim:
        raise ValueError(f"the widths K={K} and M={M} must not exceed N={dim}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
    eta_v = eta if eta_v is None else eta_v
    for name, value in (("eta", eta), ("eta_v", eta_v), ("t1", t1)):
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a positive number, got {value!r}")
    for name, value in (
        ("sigma", sigma),
        ("kappa", kappa),
        ("init_scale", init_scale),
        ("initial_overlap", initial_overlap),
    ):
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a non-negative number, got {value!r}")
    times = np.linspace(0.0, t1, 81) if alphas is None else np.asarray(alphas, float)
    steps = np.rint(times * dim).astype(np.int64)
    if times.ndim != 1 or not np.all(np.isfinite(times)) or times.size < 2:
        raise ValueError("alphas must be a finite 1-D sequence of at least 2 times")
    if steps[0] != 0 or np.any(np.diff(steps) <= 0):
        raise ValueError(
            f"alphas must start at 0 and increase by at least one step (1/N = {1 / dim:g})"
        )

    key = jax.random.PRNGKey(seed)
    teacher_key, student_key, sample_key, test_key = jax.random.split(key, 4)
    if orthogonal_teacher:
        basis, _ = jnp.linalg.qr(jax.random.normal(teacher_key, (dim, M)))
        teacher = math.sqrt(dim) * basis.T
    else:
        teacher = jax.random.normal(teacher_key, (M, dim))
    w = init_scale * jax.random.normal(student_key, (K, dim))
    w += initial_overlap * teacher[jnp.arange(K) % M]
    v_star = jnp.ones(M)
    student = CommitteeMachine(w, jnp.ones(K), activation)
    teacher_network = CommitteeMachine(teacher, v_star, activation)
    optimiser = _optimiser(dim, eta, eta_v, kappa, train_second_layer)
    state = optimiser.init(student)
    test_inputs = jax.random.normal(test_key, (test_samples, dim))
    test_targets = jax.vmap(teacher_network)(test_inputs)
    t = np.asarray(teacher @ teacher.T / dim)

    log_q, log_r, log_v, held_out = [], [], [], []

    def record(network: CommitteeMachine):
        q, r, error = _measure(network, teacher, test_inputs, test_targets, sigma)
        log_q.append(np.asarray(q))
        log_r.append(np.asarray(r))
        log_v.append(np.asarray(network.v))
        held_out.append(float(error))

    record(student)
    segments = list(itertools.pairwise(steps))
    sizes = [int(stop - start) for start, stop in segments]
    for start, stop in progress_bar(segments, sizes, "SGD", progress, unit="step"):
        student, state = _advance(
            student, state, teacher_network, optimiser, sample_key, start, stop, sigma
        )
        record(student)

    q, r, v_log = np.stack(log_q), np.stack(log_r), np.stack(log_v)
    overlaps_error = jax.vmap(
        lambda q_, r_, v_: error_from_overlaps(
            activation, q_, r_, jnp.asarray(t), v_, v_star, sigma
        )
    )(q, r, v_log)
    return xr.Dataset(
        {
            "Q": (("time", "student", "student_"), q),
            "R": (("time", "student", "teacher"), r),
            "v": (("time", "student"), v_log),
            "T": (("teacher", "teacher_"), t),
            "eps_g": ("time", np.array(held_out)),
            "eps_g_overlaps": ("time", np.asarray(overlaps_error)),
            "y": (("time", "state"), _flatten(q, r, v_log, train_second_layer)),
        },
        coords={
            "time": steps / dim,
            "step": ("time", steps),
            "state": state_names(K, M, train_second_layer),
        },
        attrs={
            "experiment": "teacher_student",
            "K": K,
            "M": M,
            "N": dim,
            "eta": float(eta),
            "eta_v": float(eta_v),
            "sigma": float(sigma),
            "kappa": float(kappa),
            "activation": activation,
            "train_second_layer": int(train_second_layer),
            "init_scale": float(init_scale),
            "initial_overlap": float(initial_overlap),
            "orthogonal_teacher": int(orthogonal_teacher),
            "test_samples": test_samples,
            "seed": seed,
            "time_unit": "alpha = SGD steps / N",
            "versions": json.dumps(versions()),
        },
    )


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


def teacher_student_ode(k_units: int, m_units: int, activation: str = "erf") -> CompiledModel:
    """The compiled ODE of [`basinlab.models.teacher_student`][] for an orthogonal
    teacher ($T = I$) and a trained first layer only; cached."""
    return _teacher_student_model(k_units, m_units, activation, False, None)


def teacher_student_model(run: xr.Dataset) -> tuple[CompiledModel, dict[str, float]]:
    r"""The compiled order-parameter ODE matching a teacher–student run, and its
    parameters ($\eta, \eta_v, \sigma, \kappa$) at the run's values.

    The teacher overlaps are $T = I$ for an orthogonal teacher and the run's measured
    $T$ otherwise. Compiled models are cached, so repeated runs reuse one.

    **Raises:**

    - `ValueError`: `run` is not a teacher–student run.
    """
    check_experiment(run, "teacher_student")
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
    path = trajectories(compiled, run["y"].values[:1], times, params=params, **TIGHT)
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
