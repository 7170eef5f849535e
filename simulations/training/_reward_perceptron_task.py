r"""The RL perceptron with a proxy teacher (Patel et al. 2023) as a task to train many
times: one run per initialisation and episode stream, the teachers shared."""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from ...theory._checks import check_count, check_in_range, check_positive
from ._ensemble import TrainingTask


class RewardPerceptronTask(TrainingTask):
    r"""Episodes of $T$ Gaussian inputs, actions $\operatorname{sign}(w\cdot x_t)$,
    rewarded when all agree with the proxy teacher $w_p$ (the verdict flipped with
    probability $f$), and $w \leftarrow w + g\sum_t y_t x_t / (T\sqrt D)$, $g =
    \eta_1$ if rewarded and $-\eta_2$ if not: the update of
    [`reward_perceptron_run`][], one episode per step.

    The teachers are drawn once from `teacher_seed`, built as `reward_perceptron_run`
    builds them (not the same draws):
    $|w^*|^2 = |w_p|^2 = D$ and $w_p\cdot w^*/D = \rho$. Each run starts from
    `initial_overlap` $\cdot\,w^* +$ `init_scale` $\cdot\,\xi$ with its own $\xi$.
    Logged: $R = w\cdot w^*/D$, $S = w\cdot w_p/D$, $Q = w\cdot w/D$ and the cosine
    `overlap` $= R/\sqrt Q$. The outcome `aligned`: the final cosine is above
    `aligned_cosine`.
    """

    dim: int = eqx.field(static=True)
    episode_length: int = eqx.field(static=True)
    reward: float = eqx.field(static=True)
    penalty: float = eqx.field(static=True)
    proxy_overlap: float = eqx.field(static=True)
    flip: float = eqx.field(static=True)
    init_scale: float = eqx.field(static=True)
    initial_overlap: float = eqx.field(static=True)
    aligned_cosine: float = eqx.field(static=True)
    teacher_seed: int = eqx.field(static=True)
    teachers: Float[Array, "2 dim"]

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
        teacher_seed: int = 0,
    ):
        check_count(dim, "dim", minimum=2)
        check_count(episode_length, "episode_length")
        check_positive(reward, "reward")
        for value, name, low, high in (
            (penalty, "penalty", 0.0, math.inf),
            (proxy_overlap, "proxy_overlap", -1.0, 1.0),
            (flip, "flip", 0.0, 1.0),
            (init_scale, "init_scale", 0.0, math.inf),
            (aligned_cosine, "aligned_cosine", -1.0, 1.0),
        ):
            check_in_range(value, name, low, high)
        self.dim, self.episode_length = dim, episode_length
        self.reward, self.penalty, self.flip = float(reward), float(penalty), float(flip)
        self.proxy_overlap = float(proxy_overlap)
        self.init_scale, self.initial_overlap = float(init_scale), float(initial_overlap)
        self.aligned_cosine, self.teacher_seed = float(aligned_cosine), teacher_seed
        basis, _ = jnp.linalg.qr(jax.random.normal(jax.random.PRNGKey(teacher_seed), (dim, 2)))
        true = math.sqrt(dim) * basis[:, 0]
        proxy = math.sqrt(dim) * (
            proxy_overlap * basis[:, 0] + math.sqrt(1 - proxy_overlap**2) * basis[:, 1]
        )
        self.teachers = jnp.stack([true, proxy])

    @property
    def name(self) -> str:
        return "reward_perceptron"

    def settings(self) -> dict[str, object]:
        return {
            field: getattr(self, field)
            for field in (
                "dim",
                "episode_length",
                "reward",
                "penalty",
                "proxy_overlap",
                "flip",
                "init_scale",
                "initial_overlap",
                "aligned_cosine",
                "teacher_seed",
            )
        }

    def init(self, key: PRNGKeyArray) -> Float[Array, " dim"]:
        noise = jax.random.normal(key, (self.dim,), self.teachers.dtype)
        return self.initial_overlap * self.teachers[0] + self.init_scale * noise

    def step(self, w: Float[Array, " dim"], key: PRNGKeyArray, index: Array):
        input_key, flip_key = jax.random.split(key)
        x = jax.random.normal(input_key, (self.episode_length, self.dim), w.dtype)
        actions = jnp.sign(x @ w)
        judged = jnp.sign(x @ self.teachers[1])
        rewarded = jnp.all(actions == judged) != jax.random.bernoulli(flip_key, self.flip)
        scale = jnp.where(rewarded, self.reward, -self.penalty)
        return w + scale / (self.episode_length * math.sqrt(self.dim)) * (actions @ x)

    def observe(self, w: Float[Array, " dim"]):
        r, s = self.teachers @ w / self.dim
        q = w @ w / self.dim
        return {"R": r, "S": s, "Q": q, "overlap": r / jnp.sqrt(q)}

    def outcomes(self, observed):
        return {"aligned": observed["overlap"] > self.aligned_cosine}
