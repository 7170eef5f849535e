r"""Linear self-attention trained on in-context linear regression: exact dynamics.

R. Zhang, S. Frei and P. L. Bartlett, "Trained transformers learn linear models
in-context", JMLR 25 (2024), arXiv:2306.09927.
Y. Zhang, A. K. Singh, P. E. Latham and A. Saxe, "Training dynamics of in-context
learning in linear attention", ICML 2025, arXiv:2501.16265.

A prompt holds $N$ pairs $(x_i, y_i = w\cdot x_i)$ with $x_i \sim \mathcal N(0,
\Lambda)$, $w \sim \mathcal N(0, I_D)$, and a query $x$. One linear self-attention
layer predicts, after merging its value and key–query weights into $\Gamma$,

$$\hat y = x^\top \Gamma\, h,\qquad h = \frac1N\sum_{i=1}^N y_i x_i = S w,\quad
  S = \frac1N \sum_i x_i x_i^\top ,$$

with risk $L(\Gamma) = E(\hat y - w\cdot x)^2 = \operatorname{tr}\Lambda - 2
\operatorname{tr}(\Lambda\Gamma\Lambda) + \operatorname{tr}(\Gamma^\top\Lambda\Gamma M)$,
where $M = E S^2 = (1 + 1/N)\Lambda^2 + \operatorname{tr}(\Lambda)\Lambda/N$ (the
Wishart second moment). Derivation: $E_x$ gives $E\,(\Gamma S w - w)^\top\Lambda
(\Gamma S w - w)$, and $E\,ww^\top = I$.

**Isotropic, one scale.** With $\Lambda = I/D$ and $\Gamma = u I$,

$$L(u) = 1 - \frac{2u}{D} + c\,u^2,\qquad c = \frac{N + D + 1}{N D^2},$$

minimal at $u^* = ND/(N + D + 1)$ with $L^* = (D + 1)/(N + D + 1)$. Writing $u = ab$
(value scale $a$, key–query scale $b$), the gradient flow of $\kappa L(ab)$ keeps
$a^2 - b^2$ and, balanced ($a = b$), gives $\dot u = 4\kappa\,u\,(1/D - c u)$: a
saddle at $u = 0$ and the minimum $u^*$, reached along the logistic curve
$u(t) = u^*/(1 + (u^*/u_0 - 1)e^{-4\kappa t/D})$. A layer with a scalar value $v$ and
a full $D\times D$ key–query matrix $W = wI$, balanced as $v^2 = |W|_F^2 = Dw^2$,
follows the same curve in $u = vw$ with $\kappa = 1/\sqrt D$.

**Anisotropic.** The global minimum over $\Gamma$ is $\Gamma^* = \Lambda M^{-1}$,
with risk $\operatorname{tr}\Lambda - \sum_i \lambda_i/(1 + (1 +
\operatorname{tr}\Lambda/\lambda_i)/N)$ (Zhang, Frei & Bartlett 2024). With separate
rank-one key and query heads trained from a small start, gradient flow passes saddle
to saddle, learning one eigendirection at a time from the largest $\lambda$: the
plateaus are $L_0 = \operatorname{tr}\Lambda$ and $L_m = L_{m-1} - \lambda_m/(1 + (1
+ \operatorname{tr}\Lambda/\lambda_m)/N)$ (Zhang, Singh, Latham & Saxe 2025).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import sympy as sp

from .._checks import check_count, check_positive
from .._model import Model


def attention_loss_coefficient(dim: int, prompt_length: int) -> float:
    r"""$c = (N + D + 1)/(N D^2)$ of the isotropic risk $L(u) = 1 - 2u/D + cu^2$."""
    check_count(dim, "dim")
    check_count(prompt_length, "prompt_length")
    return (prompt_length + dim + 1) / (prompt_length * dim**2)


def attention_minimum(dim: int, prompt_length: int) -> tuple[float, float]:
    r"""The isotropic minimum: $u^* = ND/(N + D + 1)$ and $L^* = (D + 1)/(N + D + 1)$.

    **Raises:**

    - `ValueError`: `dim` or `prompt_length` below 1.
    """
    c = attention_loss_coefficient(dim, prompt_length)
    return 1 / (dim * c), (dim + 1) / (prompt_length + dim + 1)


def _spectrum(eigenvalues: Sequence[float], prompt_length: int) -> np.ndarray:
    check_count(prompt_length, "prompt_length")
    spectrum = np.asarray(eigenvalues, float)
    if spectrum.ndim != 1 or spectrum.size == 0 or not np.all(np.isfinite(spectrum)):
        raise ValueError("eigenvalues must be a non-empty 1-D sequence of finite numbers")
    if np.any(spectrum <= 0):
        raise ValueError(f"eigenvalues must be positive, got {spectrum.min():g}")
    return spectrum


def plateau_losses(eigenvalues: Sequence[float], prompt_length: int) -> np.ndarray:
    r"""The losses $L_0 > L_1 > \dots > L_D$ of the saddle-to-saddle plateaus of
    rank-one linear-attention heads (module docstring); $L_D$ is the global minimum's
    risk. The eigenvalues are taken largest first.

    **Arguments:**

    - `eigenvalues`: the spectrum of $\Lambda$, positive.
    - `prompt_length`: $N \ge 1$.

    **Returns:**

    The $D + 1$ plateau losses.

    **Raises:**

    - `ValueError`: an empty or non-positive spectrum, or $N < 1$.
    """
    spectrum = np.sort(_spectrum(eigenvalues, prompt_length))[::-1]
    trace = spectrum.sum()
    drops = spectrum / (1 + (1 + trace / spectrum) / prompt_length)
    return trace - np.concatenate([[0.0], np.cumsum(drops)])


def anisotropic_minimum_risk(eigenvalues: Sequence[float], prompt_length: int) -> float:
    r"""$\operatorname{tr}\Lambda - \sum_i \lambda_i/(1 + (1 + \operatorname{tr}
    \Lambda/\lambda_i)/N)$, the least risk of one linear self-attention layer.

    **Raises:**

    - `ValueError`: as [`plateau_losses`][].
    """
    return float(plateau_losses(eigenvalues, prompt_length)[-1])


def linear_attention(dim: int = 5, prompt_length: int = 20, kappa: float = 1.0) -> Model:
    r"""The balanced scale dynamics of one linear self-attention layer on isotropic
    in-context linear regression (module docstring).

    The state is the value scale $a$ and the key–query scale $b$; the flow is the
    gradient flow of $\kappa L(ab)$ with $L(u) = 1 - 2u/D + cu^2$. The observables are
    `u` ($ab$), `risk` ($L(ab)$), `loss` ($\kappa L$, the flow's potential) and
    `conserved` ($a^2 - b^2$); the predicate `"learned"` is $ab > u^*/2$.

    **Arguments:**

    - `dim`: default of $D \ge 1$.
    - `prompt_length`: default of $N \ge 1$.
    - `kappa`: default of the time scale $\kappa > 0$.

    **Returns:**

    A gradient-flow [`basinlab.Model`][] with state $(a, b)$ and parameters `D`, `N`,
    `kappa`.

    **Raises:**

    - `ValueError`: a value outside the ranges above.
    """
    check_count(dim, "dim")
    check_count(prompt_length, "prompt_length")
    check_positive(kappa, "kappa")
    a, b = sp.symbols("a b", real=True)
    d, n, kappa_ = sp.symbols("D N kappa", positive=True)
    c = (n + d + 1) / (n * d**2)
    u = a * b
    loss = 1 - 2 * u / d + c * u**2
    return Model.gradient_flow(
        kappa_ * loss,
        state=[a, b],
        params={d: dim, n: prompt_length, kappa_: kappa},
        predicates={"learned": u - n * d / (n + d + 1) / 2},
        observables={"u": u, "risk": loss, "conserved": a**2 - b**2},
        name="linear_attention",
        description="One linear self-attention layer on in-context linear regression: "
        "value and key-query scales (a, b); u = ab leaves the saddle at 0 for "
        "u* = ND/(N + D + 1) (Zhang, Frei & Bartlett 2024).",
    )
