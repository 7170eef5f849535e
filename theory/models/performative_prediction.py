"""Repeated risk minimisation when the model's predictions shift its own data."""

from __future__ import annotations

import sympy as sp

from .._model import Model


def performative_prediction(
    epsilon: float = 0.5, strong_convexity: float = 1.0, smoothness: float = 1.0
) -> Model:
    r"""Repeated risk minimisation on the tightness example of performative prediction.

    In performative prediction (J. C. Perdomo, T. Zrnic, C. Mendler-Dünner and
    M. Hardt, "Performative prediction", ICML 2020) deploying a model $\theta$ changes
    the data to $z \sim \mathcal D(\theta)$, and repeated risk minimisation (RRM)
    retrains on it: $\theta_{t+1} = G(\theta_t) = \arg\min_\theta
    \mathbb E_{z \sim \mathcal D(\theta_t)} \ell(z; \theta)$. For a loss that is
    $\gamma$-strongly convex and $\beta$-jointly smooth and a distribution map that is
    $\varepsilon$-sensitive (in Wasserstein-1), RRM contracts at rate
    $\varepsilon\beta/\gamma$ when that is below 1, and the paper shows the bound
    tight. This is the tight case: $\ell(z; \theta) = \frac{\gamma}{2}\theta^2 -
    \beta\theta z$ with $\mathcal D(\theta)$ the point mass at $1 + \varepsilon\theta$,
    so that

    $$
    \theta_{t+1} = \frac{\beta}{\gamma}\,(1 + \varepsilon\,\theta_t),
    $$

    with the performatively stable point $\theta^* = \beta / (\gamma - \varepsilon\beta)$,
    reached iff $\varepsilon\beta/\gamma < 1$; for $\varepsilon\beta/\gamma \ge 1$ every
    other start runs away. With $\gamma = \beta = 1$ this is $\theta_{t+1} = 1 +
    \varepsilon\theta_t$.

    **Arguments:**

    - `epsilon`: default of the sensitivity $\varepsilon \ge 0$.
    - `strong_convexity`, `smoothness`: defaults of $\gamma > 0$ and $\beta > 0$.

    **Returns:**

    A [`basinlab.Model`][] of kind `"map"` with state $\theta$.
    """
    theta = sp.Symbol("theta", real=True)
    sensitivity = sp.Symbol("epsilon", nonnegative=True)
    gamma = sp.Symbol("gamma", positive=True)
    beta = sp.Symbol("beta", positive=True)
    return Model.iterated_map(
        "performative_prediction",
        [theta],
        [beta / gamma * (1 + sensitivity * theta)],
        params={sensitivity: epsilon, gamma: strong_convexity, beta: smoothness},
        description="Repeated risk minimisation on Perdomo et al.'s (2020) tight example: "
        "theta -> (beta/gamma)(1 + epsilon theta), stable iff epsilon beta / gamma < 1.",
        search_box=[(-10.0, 10.0)],
    )


def performative_feedback(
    epsilon: float = 1.5, coupling: float = 0.5, baseline_1: float = -0.2, baseline_2: float = 0.1
) -> Model:
    r"""Repeated risk minimisation with a saturating, self-fulfilling response: two
    performatively stable points and a basin boundary between them.

    Two linked predictions $\theta = (\theta_1, \theta_2)$ (say, the risk scores of
    two groups) are retrained by least squares on outcomes whose mean responds to the
    deployed scores, $z \sim \mathcal N(\mu(\theta), I)$ with
    $\mu(\theta) = b + \varepsilon \tanh(W\theta)$ and $W = \begin{pmatrix} 1 & \rho \\
    \rho & 1 \end{pmatrix}$ (applied componentwise): a high predicted risk makes a
    high outcome more likely, up to saturation. RRM with the squared loss
    ($\gamma = \beta = 1$) is $\theta_{t+1} = \mu(\theta_t)$. The response is
    $\varepsilon(1 + \rho)$-sensitive, so Perdomo et al.'s (ICML 2020) guarantee of a
    unique stable point holds for $\varepsilon(1 + \rho) < 1$; above it (the
    default, 2.25) there are two stable points, a low-risk and a high-risk
    self-fulfilling one, and which one retraining ends in depends on the first
    deployed model.

    What is stylised: the response $\mu$; the structure (RRM as a map, sensitivity
    against strong convexity) is the paper's. The predicate `"low_risk"` is
    $\theta_1 + \theta_2 < 0$.

    **Arguments:**

    - `epsilon`: default of the response strength $\varepsilon$.
    - `coupling`: default of $\rho$.
    - `baseline_1`, `baseline_2`: defaults of $b$.

    **Returns:**

    A [`basinlab.Model`][] of kind `"map"` with state $(\theta_1, \theta_2)$.
    """
    theta_1, theta_2 = sp.symbols("theta_1 theta_2", real=True)
    strength = sp.Symbol("epsilon", nonnegative=True)
    rho = sp.Symbol("rho", real=True)
    b_1, b_2 = sp.symbols("b_1 b_2", real=True)
    return Model.iterated_map(
        "performative_feedback",
        [theta_1, theta_2],
        [
            b_1 + strength * sp.tanh(theta_1 + rho * theta_2),
            b_2 + strength * sp.tanh(rho * theta_1 + theta_2),
        ],
        params={strength: epsilon, rho: coupling, b_1: baseline_1, b_2: baseline_2},
        predicates={"low_risk": theta_1 + theta_2 < 0},
        description="Repeated risk minimisation with a self-fulfilling saturating response "
        "(stylised on Perdomo et al. 2020): two stable points and a basin boundary.",
        search_box=[(-3.0, 3.0), (-3.0, 3.0)],
    )
