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

**Fluctuations at finite $D$.** One episode moves the state by $Z/D$ with
$Z_V = (g/T)\sum_t y_t z_t$ for each overlap (with $z$ the field $\nu$, $\mu$ or
$\zeta$ of its vector) and $Z_Q = (2g/T)\sum_t y_t\lambda_t + g^2|\sum_t y_t
x_t|^2/(T^2 D)$. The last term is $g^2/T$ plus the cross terms $g^2\sum_{t\ne s}
y_t y_s\,x_t\cdot x_s/(T^2 D)$, whose mean, by $|E[y x]|^2 = 2/\pi$ and $|E[y x
1_A]|^2 = (1 + r)/\pi$, is

$$\frac{1}{T^2 D}\Bigl[\eta_2^2 K + (\eta_1^2 - \eta_2^2)\bigl(fK + (1-2f)K_A\bigr)
  \Bigr],\qquad K = \tfrac{2}{\pi}T(T-1),\quad K_A = \tfrac{1+r}{\pi}T(T-1)\,p^{T-2},$$

so that with it $E[Z]$ is the exact mean increment at finite $D$; the ODE above is
$E[Z]$ as $D \to \infty$. Over $d\alpha$ there are $D\,d\alpha$
independent episodes, so the diffusion approximation (the small-noise expansion of
the master equation: N. G. van Kampen, *Stochastic Processes in Physics and
Chemistry*; for on-line learning, T. K. Leen, B. Schottky and D. Saad, "Optimal
asymptotic learning rate: macroscopic versus microscopic dynamics", Phys. Rev. E 59,
1999) is

$$dY = E[Z]\,d\alpha + \sqrt{\Sigma / D}\,dW_\alpha,\qquad \Sigma = \mathrm{Cov}(Z).$$

$\Sigma$ is exact in the fields' Gaussian law, to leading order in $1/D$. With
$X = \lambda/\sqrt Q$, $Y = \mu$, $r = S/\sqrt Q$, the agreement event
$A_t = \{\operatorname{sign}X_t = \operatorname{sign}Y_t\}$ and $u_t = y_t z_t$,
Gaussian integration by parts gives

$$E[u] = \sqrt{\tfrac2\pi}\,c_X,\quad E[u\,1_A] = \tfrac12\sqrt{\tfrac2\pi}(c_X + c_Y),
\quad E[u u^\top 1_A] = \tfrac12 C + \tfrac12\Bigl[\tfrac2\pi \arcsin(r)\,C +
\tfrac{2}{\pi\sqrt{1-r^2}}\bigl(c_X (c_Y - r c_X)^\top + c_Y (c_X - r c_Y)^\top\bigr)
\Bigr],$$

with $C$ the fields' covariance and $c_X$, $c_Y$ their covariances with $X$ and $Y$.
The episode is rewarded with probability $P$ and, given all $T$ actions agree, the
$u_t$ are independent, so every moment of $Z$ follows from $E[h(g)\,F] =
h(-\eta_2)E[F] + (h(\eta_1) - h(-\eta_2))\bigl(fE[F] + (1-2f)E[F\,1_{\cap A_t}]\bigr)$.
The noise of $I$ needs the start's own fields: $Q_0 = |w(0)|^2/D$ and $R_0 = w(0)\cdot
w^*/D$ beside $S_0$. [`reward_perceptron`][] with `dim` carries this drift and
noise; the test suite checks $\Sigma$ against sampled episodes and the drift against
real episodes in $D = 6$.
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from jaxtyping import Float
from numpy.typing import ArrayLike

from .._checks import check_count, check_in_range, check_positive
from .._model import Model
from .._noise import Noise


def reward_perceptron(
    episode_length: int = 2,
    reward: float = 1.0,
    penalty: float = 0.0,
    proxy_overlap: float = 1.0,
    flip: float = 0.0,
    initial_proxy_overlap: float = 0.0,
    aligned_level: float = 0.9,
    dim: int | None = None,
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
    - `dim`: `None` for the ODE ($D \to \infty$), or the default of $D \ge 2$ for the
      SDE of finite $D$ (module docstring): the exact mean increment as its drift and
      $\Sigma / D$ as its noise covariance.

    **Returns:**

    A [`basinlab.Model`][] with state `R, S, Q, I` and parameters `T`, `eta_1`,
    `eta_2`, `rho`, `flip`, `S_0`, `level`; with `dim` also `D`, and `R_0` and `Q_0`
    (defaults 0 and 1: the start's overlap with $w^*$ and squared norm, which only the
    noise of $I$ uses).

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
    if dim is not None:
        check_count(dim, "dim", minimum=2)
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
    params = {
        episode: episode_length,
        eta_1: reward,
        eta_2: penalty,
        rho: proxy_overlap,
        f: flip,
        s_0: initial_proxy_overlap,
        level: aligned_level,
    }
    noise = None
    if dim is not None:
        d = sp.Symbol("D", positive=True)
        r_0, q_0 = sp.Symbol("R_0", real=True), sp.Symbol("Q_0", positive=True)
        # The covariance of the fields nu, mu, 2 lambda and zeta behind R, S, Q and I.
        fields = sp.Matrix(
            [
                [1, rho, 2 * r, r_0],
                [rho, 1, 2 * s, s_0],
                [2 * r, 2 * s, 4 * q, 2 * i],
                [r_0, s_0, 2 * i, q_0],
            ]
        )
        covariance = _episode_covariance(
            fields, fields[:, 2] / (2 * norm), fields[:, 1], s / norm, episode, eta_1, eta_2, f, 2
        )
        noise = Noise.from_covariance(
            covariance / d, description="episode fluctuations at finite D (van Kampen)"
        )
        # |sum_t y_t x_t|^2 = T D + sum_{t != s} y_t y_s x_t . x_s: the cross terms'
        # mean, by |E[y x]|^2 = 2/pi and |E[y x 1_A]|^2 = (1 + r)/pi.
        pairs = episode * (episode - 1)
        everywhere, agreeing = (
            pairs * 2 / sp.pi,
            pairs * agree ** (episode - 2) * (1 + s / norm) / sp.pi,
        )
        cross = eta_2**2 * everywhere + (eta_1**2 - eta_2**2) * (
            f * everywhere + (1 - 2 * f) * agreeing
        )
        field[2] += cross / (episode**2 * d)
        params |= {d: dim, r_0: 0.0, q_0: 1.0}
    return Model(
        "reward_perceptron",
        [r, s, q, i],
        field,
        params=params,
        noise=noise,
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


def _episode_covariance(
    fields: sp.Matrix,
    with_student: sp.Matrix,
    with_judge: sp.Matrix,
    cosine: sp.Expr,
    episode: sp.Expr,
    reward: sp.Expr,
    penalty: sp.Expr,
    flip: sp.Expr,
    norm_index: int,
) -> sp.Matrix:
    r"""$\Sigma = \mathrm{Cov}(Z)$ of one episode's scaled increment (module docstring).

    `fields` is the covariance $C$ of the fields $z$ behind each state's increment,
    `with_student` and `with_judge` their covariances $c_X$, $c_Y$ with $X =
    \lambda/\sqrt Q$ and the judge's field $Y$, and `cosine` is $r = \mathrm{corr}(X,
    Y)$. The state at `norm_index` is $Q$, whose increment also holds $g^2/T$."""
    scale = sp.sqrt(2 / sp.pi)
    agree = 1 - sp.acos(cosine) / sp.pi
    one = scale * with_student  # E[u]
    one_agreeing = scale * (with_student + with_judge) / 2  # E[u 1_A]
    both_signs = 2 / sp.pi * sp.asin(cosine) * fields + 2 / (sp.pi * sp.sqrt(1 - cosine**2)) * (
        with_student * (with_judge - cosine * with_student).T
        + with_judge * (with_student - cosine * with_judge).T
    )
    two_agreeing = (fields + both_signs) / 2  # E[u u^T 1_A]
    # Sums over the T steps, and the same on the event that all T agree.
    total = episode * one
    total_agreeing = episode * agree ** (episode - 1) * one_agreeing
    square = episode * fields + episode * (episode - 1) * one * one.T
    square_agreeing = (
        episode * agree ** (episode - 1) * two_agreeing
        + episode * (episode - 1) * agree ** (episode - 2) * one_agreeing * one_agreeing.T
    )

    def mean(h, everywhere, agreeing):
        # E[h(g) F]: the reward is eta_1 when all agree and no flip, or not all agree
        # and a flip.
        rewarded = flip * everywhere + (1 - 2 * flip) * agreeing
        return h(-penalty) * everywhere + (h(reward) - h(-penalty)) * rewarded

    last = sp.zeros(fields.shape[0], 1)
    last[norm_index] = 1
    first = (
        mean(lambda g: g, total, total_agreeing) / episode
        + mean(lambda g: g**2, 1, agree**episode) / episode * last
    )
    cubic = mean(lambda g: g**3, total, total_agreeing) / episode**2
    second = (
        mean(lambda g: g**2, square, square_agreeing) / episode**2
        + cubic * last.T
        + last * cubic.T
        + mean(lambda g: g**4, 1, agree**episode) / episode**2 * last * last.T
    )
    covariance = second - first * first.T
    # Symmetric as a sum, so that the check of symmetry sees it without simplifying.
    return (covariance + covariance.T) / 2


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
