r"""The RL perceptron with a proxy teacher (Patel et al. 2023) as a task to train many
times: one run per initialisation and episode stream, the teachers shared."""

from __future__ import annotations

import math
from collections.abc import Mapping

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr
from jaxtyping import Array, Float, Int, PRNGKeyArray
from numpy.typing import ArrayLike

from ...theory._checks import check_count, check_in_range, check_positive
from .._engine._trajectories import trajectories
from .._noise._sde import INCREMENTS, NoiseSettings, run_until_arrival
from ._experiment import TIGHT
from ._reward_perceptron import episode_update, reward_perceptron_model
from ._training_task import TrainingTask

# The settings a sweep varies are array fields, so one compiled program serves a sweep.
_DYNAMIC = (
    "reward",
    "penalty",
    "flip",
    "init_scale",
    "initial_overlap",
    "aligned_cosine",
    "pretrain_steps",
)


class RewardPerceptronTask(TrainingTask):
    r"""The RL perceptron of [`reward_perceptron_run`][], one episode per step, after
    an optional pre-training on the intended labels.

    **Fine-tuning** (every step from `pretrain_steps` on): an episode of $T$ Gaussian
    inputs, actions $y_t = \operatorname{sign}(w\cdot x_t)$, rewarded when all agree
    with the proxy teacher $w_p$ (the verdict flipped with probability $f$), and
    $w \leftarrow w + g\sum_t y_t x_t / (T\sqrt D)$, $g = \eta_1$ if rewarded and
    $-\eta_2$ if not.

    **Pre-training** (the first $P$ = `pretrain_steps` steps): Hebbian learning on
    the true teacher's labels, $w \leftarrow w + \eta_1 \operatorname{sign}(w^*\cdot
    x)\,x/\sqrt D$ for one input $x$ per step. This is the same rule with $T = 1$,
    $\eta_2 = \eta_1$, judged by $w^*$ without flips, so the same ODE describes it.

    The teachers are drawn once from `teacher_seed`, built as `reward_perceptron_run`
    builds them (not the same draws): $|w^*|^2 = |w_p|^2 = D$ and
    $w_p\cdot w^*/D = \rho$. Each run starts from `initial_overlap` $\cdot\,w^* +$
    `init_scale` $\cdot\,\xi$ with its own $\xi \sim \mathcal N(0, I_D)$, so at
    finite $D$ its start has $R_0 \sim \mathcal N(\text{initial\_overlap},
    \text{init\_scale}^2/D)$. Logged: $R = w\cdot w^*/D$, $S = w\cdot w_p/D$,
    $Q = w\cdot w/D$ and the cosine `overlap` $= R/\sqrt Q$. The predicate and end
    state `aligned`: the cosine is above `aligned_cosine`; the other end state is
    `unaligned`.

    With a penalty and long episodes the ODE is bistable (Patel et al. 2023, §4):
    from a small initial cosine the student is stuck at a low cosine, from a large
    one it learns; [`predict_end_states`][] says which side each run's start is on.
    """

    dim: int = eqx.field(static=True)
    episode_length: int = eqx.field(static=True)
    proxy_overlap: float = eqx.field(static=True)
    teacher_seed: int = eqx.field(static=True)
    reward: Float[Array, ""]
    penalty: Float[Array, ""]
    flip: Float[Array, ""]
    init_scale: Float[Array, ""]
    initial_overlap: Float[Array, ""]
    aligned_cosine: Float[Array, ""]
    pretrain_steps: Int[Array, ""]
    teachers: Float[Array, "2 dim"]
    plane: Float[Array, "2 dim"]

    def __init__(
        self,
        *,
        dim: int = 400,
        episode_length: int = 2,
        reward: float = 1.0,
        penalty: float = 0.0,
        proxy_overlap: float = 1.0,
        flip: float = 0.0,
        init_scale: float = 0.5,
        initial_overlap: float = 0.0,
        aligned_cosine: float = 0.5,
        pretrain_steps: int = 0,
        teacher_seed: int = 0,
    ):
        check_count(dim, "dim", minimum=2)
        check_count(episode_length, "episode_length")
        check_count(pretrain_steps, "pretrain_steps", minimum=0)
        check_count(teacher_seed, "teacher_seed", minimum=0)
        check_positive(reward, "reward")
        for value, name, low, high in (
            (penalty, "penalty", 0.0, math.inf),
            (proxy_overlap, "proxy_overlap", -1.0, 1.0),
            (flip, "flip", 0.0, 1.0),
            (init_scale, "init_scale", 0.0, math.inf),
            (initial_overlap, "initial_overlap", -math.inf, math.inf),
            (aligned_cosine, "aligned_cosine", -1.0, 1.0),
        ):
            check_in_range(value, name, low, high)
        if init_scale == 0 and initial_overlap == 0:
            raise ValueError(
                "the student must not start at w = 0: give init_scale or initial_overlap"
            )
        self.dim, self.episode_length = dim, episode_length
        self.proxy_overlap, self.teacher_seed = float(proxy_overlap), teacher_seed
        self.reward, self.penalty, self.flip = (
            jnp.asarray(float(v)) for v in (reward, penalty, flip)
        )
        self.init_scale = jnp.asarray(float(init_scale))
        self.initial_overlap = jnp.asarray(float(initial_overlap))
        self.aligned_cosine = jnp.asarray(float(aligned_cosine))
        self.pretrain_steps = jnp.asarray(pretrain_steps)
        basis, _ = jnp.linalg.qr(jax.random.normal(jax.random.PRNGKey(teacher_seed), (dim, 2)))
        true = math.sqrt(dim) * basis[:, 0]
        proxy = math.sqrt(dim) * (
            proxy_overlap * basis[:, 0] + math.sqrt(1 - proxy_overlap**2) * basis[:, 1]
        )
        self.teachers = jnp.stack([true, proxy])
        self.plane = jnp.stack([true, math.sqrt(dim) * basis[:, 1]])

    @property
    def name(self) -> str:
        return "reward_perceptron"

    @property
    def headline(self) -> str:
        return "overlap"

    @property
    def end_state_names(self) -> tuple[str, ...]:
        return ("aligned", "unaligned")

    def settings(self) -> dict[str, object]:
        fixed = ("dim", "episode_length", "proxy_overlap", "teacher_seed")
        return {
            **{field: getattr(self, field) for field in fixed},
            **{field: getattr(self, field).item() for field in _DYNAMIC},
        }

    def init(self, key: PRNGKeyArray) -> Float[Array, " dim"]:
        noise = jax.random.normal(key, (self.dim,), self.teachers.dtype)
        return self.initial_overlap * self.teachers[0] + self.init_scale * noise

    def _pretrain(self, w: Float[Array, " dim"], key: PRNGKeyArray) -> Float[Array, " dim"]:
        x = jax.random.normal(key, (self.dim,), w.dtype)
        label = jnp.sign(x @ self.teachers[0])
        return w + self.reward * label * x / math.sqrt(self.dim)

    def _fine_tune(self, w: Float[Array, " dim"], key: PRNGKeyArray) -> Float[Array, " dim"]:
        return episode_update(
            w, self.teachers[1], key, self.episode_length, self.reward, self.penalty, self.flip
        )

    def step(self, w: Float[Array, " dim"], key: PRNGKeyArray, index: Array):
        # The step index is shared by every run of a batch, so this stays a branch.
        return jax.lax.cond(
            index < self.pretrain_steps,
            lambda w, key: self._pretrain(w, key),
            lambda w, key: self._fine_tune(w, key),
            w,
            key,
        )

    def observe(self, w: Float[Array, " dim"]):
        r, s = self.teachers @ w / self.dim
        q = w @ w / self.dim
        return {"R": r, "S": s, "Q": q, "overlap": r / jnp.sqrt(q)}

    def plane_starts(
        self, a: Float[ArrayLike, " point"], b: Float[ArrayLike, " point"]
    ) -> Float[np.ndarray, "point dim"]:
        r"""Weights $w_0 = a\,w^* + b\,e$ on the plane of the two teachers: $e$ is the
        proxy's error direction, $|e|^2 = D$, $e \perp w^*$ and $w_p = \rho\,w^* +
        \sqrt{1 - \rho^2}\,e$. So $R = a$, $S = \rho a + \sqrt{1-\rho^2}\,b$ and
        $Q = a^2 + b^2$.

        **Arguments:**

        - `a`, `b`: the coordinates of each point, arrays of one shape.

        **Returns:**

        The weights, one row per point.
        """
        a, b = np.broadcast_arrays(np.asarray(a, float).ravel(), np.asarray(b, float).ravel())
        return a[:, None] * np.asarray(self.plane[0]) + b[:, None] * np.asarray(self.plane[1])

    def toward_misalignment(self, w: Float[ArrayLike, " dim"]) -> Float[np.ndarray, " dim"]:
        r"""The unit direction in which the cosine $R/\sqrt Q$ with the true teacher
        falls fastest at $w$: $-(\hat w^* - \cos\angle\,\hat w)$, normalised.

        **Raises:**

        - `ValueError`: $w$ is parallel to $w^*$, where no direction lowers the cosine
          to first order more than another.
        """
        w = np.asarray(w, float)
        true = np.asarray(self.teachers[0]) / math.sqrt(self.dim)
        unit = w / np.linalg.norm(w)
        direction = -(true - (unit @ true) * unit)
        norm = np.linalg.norm(direction)
        if norm < 1e-12:
            raise ValueError("w is parallel to the true teacher: no steepest direction")
        return direction / norm

    def predicates(self, observed):
        return {"aligned": observed["overlap"] > self.aligned_cosine}

    def end_state(self, observed):
        return jnp.where(observed["overlap"] > self.aligned_cosine, 0, 1)

    def _phases(self, steps: int) -> list[tuple[dict[str, float], float, bool]]:
        """The theory's phases up to `steps`: parameters, length in alpha, and whether
        the phase is the pre-training (judged by w*)."""
        pretrain = min(int(self.pretrain_steps), steps)
        reward = float(self.reward)
        phases = []
        if pretrain:
            # Judged by w* (so the model's S is R); I is the overlap with w_p, a
            # vector with Q_0 = 1 and overlap rho with both w* and the judge.
            rho = self.proxy_overlap
            phases.append(
                (
                    {"T": 1, "eta_1": reward, "eta_2": reward, "rho": 1.0, "flip": 0.0}
                    | {"S_0": rho, "R_0": rho, "Q_0": 1.0},
                    pretrain / self.dim,
                    True,
                )
            )
        if steps > pretrain:
            # I is the overlap with w* itself, which R already gives.
            fine_tune = {
                "T": self.episode_length,
                "eta_1": reward,
                "eta_2": float(self.penalty),
                "rho": self.proxy_overlap,
                "flip": float(self.flip),
            }
            phases.append(
                (
                    fine_tune | {"S_0": self.proxy_overlap, "R_0": 1.0, "Q_0": 1.0},
                    (steps - pretrain) / self.dim,
                    False,
                )
            )
        return phases

    def predict_order_parameters(
        self,
        start: Mapping[str, Float[ArrayLike, " run"]],
        steps: int,
        *,
        paths: int | None = None,
        seed: int = 0,
        progress: bool = False,
    ) -> dict[str, Float[np.ndarray, "run ..."]]:
        r"""The order parameters $R$, $S$ and $Q$ after `steps` steps by the theory of
        [`basinlab.models.reward_perceptron`][], from each start $(R, S, Q)$, in
        $\alpha$ = steps$/D$: first the pre-training ($T = 1$, $\eta_2 = \eta_1$,
        judged by $w^*$, so the model's $S$ is $R$ and its $I$ carries the overlap
        with $w_p$), then the fine-tuning from where it ended.

        With `paths`, each start is followed along that many paths of the model's SDE
        at this task's $D$ (`reward_perceptron(dim=D)`: the episodes' fluctuations,
        $\Sigma/D$), by Euler–Maruyama with step $\Delta\alpha = 0.01$; without,
        by the ODE ($D \to \infty$).

        **Arguments:**

        - `start`: `R`, `S` and `Q` at step 0, each an array (one value per run).
        - `steps`: the number of steps.
        - `paths`: `None` for the ODE, or the number of SDE paths per start.
        - `seed`: of the SDE's noise.
        - `progress`: show a progress bar for the SDE.

        **Returns:**

        `R`, `S` and `Q` after `steps`, by name: one value per run, or with `paths`
        an array over (run, path).

        **Raises:**

        - `ValueError`: `paths` below 1.
        """
        r, s, q = (np.atleast_1d(np.asarray(start[name], float)) for name in ("R", "S", "Q"))
        # A start on the teacher's own ray has R = sqrt(Q) up to rounding, which must
        # not put arccos(R / sqrt(Q)) outside its domain.
        r, s = (np.clip(v, -np.sqrt(q), np.sqrt(q)) for v in (r, s))
        runs = r.size
        if paths is not None:
            check_count(paths, "paths")
            r, s, q = (np.repeat(v, paths) for v in (r, s, q))
        compiled = reward_perceptron_model(self.episode_length, fluctuations=paths is not None)
        for number, (params, length, pretraining) in enumerate(self._phases(steps)):
            y0 = np.stack([r, r, q, s] if pretraining else [r, s, q, r], axis=1)
            if paths is None:
                params = {k: v for k, v in params.items() if k in compiled.param_names}
                path = trajectories(compiled, y0, [0.0, length], params=params, **TIGHT)
                y = path["y"].values[:, -1]
            else:
                y, _, _ = run_until_arrival(
                    compiled,
                    NoiseSettings(dt=0.01, brownian=INCREMENTS, window=length),
                    y0,
                    compiled.param_vector(params | {"D": self.dim}),
                    seed + number,
                    length,
                    np.full((1, 4), np.nan),  # no target: every path runs to the end
                    np.ones(1),
                    progress,
                    "theory paths",
                )
            r, s, q = (y[:, 0], y[:, 3], y[:, 2]) if pretraining else y[:, :3].T
        shape = (runs,) if paths is None else (runs, paths)
        return {"R": r.reshape(shape), "S": s.reshape(shape), "Q": q.reshape(shape)}

    def _predicted_aligned(self, final: dict[str, np.ndarray]) -> np.ndarray:
        return final["R"] / np.sqrt(final["Q"]) > float(self.aligned_cosine)

    def predict_end_states(self, record: xr.Dataset) -> Int[np.ndarray, " run"]:
        r"""Each run's end state by [`predict_order_parameters`][] (the ODE) from the
        run's own logged $(R, S, Q)$ at step 0: 0 (`aligned`) where the predicted
        final cosine $R/\sqrt Q$ is above `aligned_cosine`, else 1 (`unaligned`)."""
        start = {name: record[name].values[:, 0] for name in ("R", "S", "Q")}
        final = self.predict_order_parameters(start, int(record.attrs["steps"]))
        return np.where(self._predicted_aligned(final), 0, 1)

    def predict_end_state_probabilities(
        self, record: xr.Dataset, *, paths: int = 16, seed: int = 0
    ) -> Float[np.ndarray, "run end_state"]:
        r"""Each run's chance to end `aligned` and `unaligned` by the SDE of the
        finite-$D$ fluctuations ([`predict_order_parameters`][] with `paths`), from
        the run's own logged $(R, S, Q)$ at step 0: the share of its `paths` paths
        that end with the cosine above `aligned_cosine`.

        Near the ODE's boundary the runs' own episode noise decides where they end,
        which the ODE leaves out; this is the theory there.

        **Raises:**

        - `ValueError`: a path left the order parameters' domain ($|S| \le \sqrt Q$),
          where it has no end state.
        """
        start = {name: record[name].values[:, 0] for name in ("R", "S", "Q")}
        final = self.predict_order_parameters(
            start, int(record.attrs["steps"]), paths=paths, seed=seed
        )
        cosine = final["R"] / np.sqrt(final["Q"])
        if not np.all(np.isfinite(cosine)):
            # A path that left the domain |S| <= sqrt(Q) has no end state to count.
            raise ValueError(
                f"{np.sum(~np.isfinite(cosine))} of {cosine.size} SDE paths left the "
                f"order parameters' domain at D = {self.dim}; the diffusion approximation "
                "does not hold there"
            )
        aligned = np.mean(self._predicted_aligned(final), axis=1)
        return np.stack([aligned, 1 - aligned], axis=1)
