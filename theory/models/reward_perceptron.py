r"""The RL perceptron (Patel, Lee, Sarao Mannelli, Goldt & Saxe 2023), rewarded by a
proxy teacher.

N. Patel, S. Lee, S. Sarao Mannelli, S. Goldt and A. Saxe, "The RL perceptron:
generalisation dynamics of policy learning in high dimensions", arXiv:2306.10404.

A student $w \in \mathbb{R}^D$ acts for $T$ steps of an episode, $y_t =
\operatorname{sign}(w\cdot x_t/\sqrt D)$ on inputs $x_t \sim \mathcal N(0, I_D)$, and
at the end receives one reward for the whole episode: $\eta_1$ if every action was
right, $-\eta_2$ otherwise. The update is

$$w \leftarrow w + \frac{g}{T\sqrt D}\sum_{t=1}^T y_t x_t ,\qquad
  g = \eta_1 \mathbb 1[\text{rewarded}] - \eta_2 \mathbb 1[\text{not}] .$$

Here "right" is judged by a **proxy teacher** $w_p$ with $w_p\cdot w^*/D = \rho$, not
by the true teacher $w^*$ ($|w^*|^2 = |w_p|^2 = D$), and the episode's reward is
flipped with probability $f$. With $\lambda = w\cdot x/\sqrt D$, $\nu = w^*\cdot
x/\sqrt D$, $\mu = w_p\cdot x/\sqrt D$ jointly Gaussian, the identity
$\mathbb 1[\operatorname{sign}\lambda = \operatorname{sign}\mu] = (1 +
\operatorname{sign}\lambda\operatorname{sign}\mu)/2$ and
$E[\operatorname{sign}(a)\,z] = \sqrt{2/\pi}\,\mathrm{cov}(a, z)/\sqrt{\mathrm{var}\,a}$
give, in $\alpha$ = episodes$/D$ and as $D \to \infty$, for the overlap $V = w\cdot v
/D$ with any fixed vector $v$ (with $v\cdot w_p/D = V_p$ and $v \cdot x/\sqrt D$
the field $z$):

$$\frac{dV}{d\alpha} = \sqrt{\tfrac{2}{\pi}}\Bigl[a\,\frac{V}{\sqrt Q}
  + c\Bigl(\frac{V}{\sqrt Q} + V_p\Bigr)\Bigr],\quad
  a = (\eta_1 + \eta_2) f - \eta_2,\quad
  c = \tfrac12(\eta_1 + \eta_2)(1 - 2f)\,p^{T-1},$$

with $p = 1 - \arccos(S/\sqrt Q)/\pi$ the chance that one action agrees with the
proxy. It gives $R$ ($v = w^*$, $V_p = \rho$), $S$ ($v = w_p$, $V_p = 1$) and the
overlap $I$ with the initial weights ($v = w(0)$, $V_p = S_0$), and

$$\frac{dQ}{d\alpha} = 2\sqrt{\tfrac{2}{\pi}}\bigl[a\sqrt Q + c\,(\sqrt Q + S)\bigr]
  + \frac{\eta_1^2 P + \eta_2^2 (1 - P)}{T},\quad P = (1 - f)\,p^T + f\,(1 - p^T).$$

With $\rho = 1$, $f = 0$ these are Patel et al.'s ODEs for the rule that rewards an
episode only when all $T$ decisions are right. The proxy and the flips are this
library's extension, derived the same way; the run
[`basinlab.simulations.training.reward_perceptron_run`][] checks them.

**Iterated optimisation** (Gao, Schulman & Hilton 2022, §4.3: the reward model is
retrained between rounds of optimisation) is modelled, stylised, by a **fresh proxy**
each round, $w_p' = \rho\,w^* + \sqrt{1-\rho^2}\,e$ with $e$ a new direction
independent of all before: as many right labels, but a new error. Since $w\cdot
e/D \to 0$ as $D \to \infty$, the refresh is the jump $S \leftarrow \rho R$ and
$S_0 \leftarrow \rho R(0)$ ([`fresh_proxy`][]). Refreshed continually, $S = \rho R$
for ever and the cosine $m = R/\sqrt Q$ obeys

$$\frac{dm}{d\alpha} = \sqrt{\tfrac{2}{\pi}}\,\frac{c\,\rho\,(1 - m^2)}{\sqrt Q}
  - \frac{m}{2Q}\,\frac{\eta_1^2 P + \eta_2^2(1-P)}{T},$$

whose drift pushes $m$ to 1 (not to $\rho$, the fixed proxy's ceiling) whenever
$c\rho > 0$: fresh errors average out.
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from jaxtyping import Float
from numpy.typing import ArrayLike

from .._checks import check_count, check_in_range, check_positive
from .._model import Model


def reward_perceptron(
    episode_length: int = 2,
    reward: float = 1.0,
    penalty: float = 0.0,
    proxy_overlap: float = 1.0,
    flip: float = 0.0,
    initial_proxy_overlap: float = 0.0,
    aligned_level: float = 0.9,
) -> Model:
    r"""The order-parameter ODEs of the RL perceptron with a proxy teacher (module
    docstring).

    The state is $(R, S, Q, I)$: the overlaps with the true teacher, the proxy and the
    initial weights, and the squared norm. The observables are `overlap`
    ($R/\sqrt Q$, the cosine with the true teacher), `proxy_cosine` ($S/\sqrt Q$),
    `true_reward` and `proxy_reward` (the chance that all $T$ actions are right by
    $w^*$ and by $w_p$: $(1 - \arccos(\cdot)/\pi)^T$). The distance from the
    initial policy needs $Q_0 = I(0)$, which the flow does not know; see
    [`goodhart_distance`][]. The predicate `"aligned"` is $R/\sqrt Q >$ `aligned_level`.

    **Arguments:**

    - `episode_length`: $T \ge 1$.
    - `reward`, `penalty`: defaults of $\eta_1 > 0$ and $\eta_2 \ge 0$.
    - `proxy_overlap`: default of $\rho \in [-1, 1]$.
    - `flip`: default of $f \in [0, 1]$.
    - `initial_proxy_overlap`: default of $S_0 = w_p\cdot w(0)/D$.
    - `aligned_level`: default of the threshold of `"aligned"`, in $(0, 1)$.

    **Returns:**

    A [`basinlab.Model`][] with state `R, S, Q, I` and parameters `T`, `eta_1`,
    `eta_2`, `rho`, `flip`, `S_0`, `level`.

    **Raises:**

    - `ValueError`: a value outside the ranges above.
    """
    check_count(episode_length, "episode_length")
    check_positive(reward, "reward")
    for value, name, low, high in (
        (penalty, "penalty", 0.0, float("inf")),
        (proxy_overlap, "proxy_overlap", -1.0, 1.0),
        (flip, "flip", 0.0, 1.0),
        (initial_proxy_overlap, "initial_proxy_overlap", -float("inf"), float("inf")),
    ):
        check_in_range(value, name, low, high)
    if not 0 < aligned_level < 1:
        raise ValueError(f"aligned_level must lie in (0, 1), got {aligned_level!r}")
    r, s, q, i = sp.symbols("R S Q I", real=True)
    episode = sp.Symbol("T", positive=True)
    eta_1, eta_2, f, level = sp.symbols("eta_1 eta_2 flip level", nonnegative=True)
    rho, s_0 = sp.symbols("rho S_0", real=True)
    norm = sp.sqrt(q)
    agree = 1 - sp.acos(s / norm) / sp.pi
    a = (eta_1 + eta_2) * f - eta_2
    c = (eta_1 + eta_2) * (1 - 2 * f) * agree ** (episode - 1) / 2
    rewarded = (1 - f) * agree**episode + f * (1 - agree**episode)
    scale = sp.sqrt(2 / sp.pi)

    def overlap_rate(overlap: sp.Expr, with_proxy: sp.Expr) -> sp.Expr:
        return scale * (a * overlap / norm + c * (overlap / norm + with_proxy))

    field = [
        overlap_rate(r, rho),
        overlap_rate(s, 1),
        2 * scale * (a * norm + c * (norm + s))
        + (eta_1**2 * rewarded + eta_2**2 * (1 - rewarded)) / episode,
        overlap_rate(i, s_0),
    ]
    return Model(
        "reward_perceptron",
        [r, s, q, i],
        field,
        params={
            episode: episode_length,
            eta_1: reward,
            eta_2: penalty,
            rho: proxy_overlap,
            f: flip,
            s_0: initial_proxy_overlap,
            level: aligned_level,
        },
        predicates={"aligned": r / norm - level},
        observables={
            "overlap": r / norm,
            "proxy_cosine": s / norm,
            "true_reward": (1 - sp.acos(r / norm) / sp.pi) ** episode,
            "proxy_reward": agree**episode,
        },
        description="The RL perceptron (Patel et al. 2023) rewarded per episode by a proxy "
        "teacher at overlap rho, with flipped rewards: R, S, Q and the overlap I with the "
        "initial weights.",
        search_box=[(-1.0, 1.0), (-1.0, 1.0), (0.01, 4.0), (-1.0, 1.0)],
        # Cosines with unit-norm teachers: arccos(S/sqrt(Q)) needs |S| <= sqrt(Q).
        domain=[q > 0, s**2 <= q, r**2 <= q],
    )


def fresh_proxy(
    state: Float[ArrayLike, "... 4"], proxy_overlap: float, initial_true_overlap: float
) -> tuple[Float[np.ndarray, "... 4"], float]:
    r"""The order parameters just after the proxy is replaced by a fresh one at the same
    overlap $\rho$ with the true teacher and an error direction independent of all
    before (module docstring): $S \leftarrow \rho R$, and the start's overlap with
    the new proxy is $S_0 = \rho R(0)$.

    **Arguments:**

    - `state`: $(R, S, Q, I)$, or an array of them on its last axis.
    - `proxy_overlap`: $\rho \in [-1, 1]$.
    - `initial_true_overlap`: $R(0)$, the start's overlap with the true teacher.

    **Returns:**

    The state with $S = \rho R$, and the new value of the parameter `S_0`.

    **Raises:**

    - `ValueError`: a state whose last axis is not 4, or $\rho$ outside $[-1, 1]$.
    """
    check_in_range(proxy_overlap, "proxy_overlap", -1.0, 1.0)
    refreshed = np.array(state, dtype=float)
    if refreshed.shape[-1:] != (4,):
        raise ValueError(f"state must end in the 4 values R, S, Q, I, got {refreshed.shape}")
    refreshed[..., 1] = proxy_overlap * refreshed[..., 0]
    return refreshed, proxy_overlap * float(initial_true_overlap)


def goodhart_distance(overlap_with_start: object, norm: object, initial_norm: object) -> object:
    r"""The chordal distance $d = \sqrt{2(1 - \cos\angle(w, w_0))}$ of the normalised
    weights from the initial ones, $\cos\angle = I/\sqrt{Q\,Q_0}$.

    A deterministic policy has infinite KL divergence from any other, so $d$ stands in
    for Gao et al.'s $\sqrt{\mathrm{KL}}$: the KL divergence of a softened policy
    $P(y|x) = \Phi(\beta\lambda y)$ is quadratic in the angle for small angles, so
    $d \propto \sqrt{\mathrm{KL}}$ there. Works elementwise on arrays.
    """
    cosine = np.asarray(overlap_with_start) / np.sqrt(np.asarray(norm) * np.asarray(initial_norm))
    return np.sqrt(np.clip(2 * (1 - cosine), 0, None))
