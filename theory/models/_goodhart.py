"""Goodhart curves: the functional forms of Gao, Schulman & Hilton (2022) and their peaks."""

from __future__ import annotations

import dataclasses
import math
import sys

import numpy as np
from jaxtyping import Float

# Gao, Schulman & Hilton (2022): best-of-n follows d(α − βd) (their Eq 1), RL follows
# d(α − β log d) (their Eq 2).
BEST_OF_N, REINFORCEMENT = "linear", "log"
FORMS = (BEST_OF_N, REINFORCEMENT)
METHOD_OF_FORM = {BEST_OF_N: "best-of-n", REINFORCEMENT: "reinforcement learning"}


@dataclasses.dataclass(frozen=True)
class GoodhartFit:
    r"""A least-squares fit of a true-reward gain to a Goodhart form.

    **Fields:**

    - `form`: `"linear"`, $R_{\text{bon}}(d) = d(\alpha - \beta d)$, the form of
      best-of-$n$ sampling (Gao et al.'s Eq 1), or `"log"`,
      $R_{\text{RL}}(d) = d(\alpha - \beta\ln d)$, the form of reinforcement learning
      (their Eq 2).
    - `alpha`, `beta`: the coefficients.
    - `peak`: where the fitted curve is highest, $d^\star = \alpha / 2\beta$ (linear)
      or $e^{\alpha/\beta - 1}$ (log); `math.inf` when $\beta \le 0$ (no turn) or
      when the peak lies beyond the largest float.
    - `peak_gain`: $R(d^\star)$: $\alpha^2/4\beta$ or $\beta d^\star$.
    - `rms_residual`: the fit's root-mean-square residual.
    """

    form: str
    alpha: float
    beta: float
    peak: float
    peak_gain: float
    rms_residual: float

    def __post_init__(self):
        assert self.form in FORMS
        assert self.rms_residual >= 0

    @property
    def method(self) -> str:
        """The optimisation method whose curve this form describes in Gao et al."""
        return METHOD_OF_FORM[self.form]

    def __call__(self, distance: Float[np.ndarray, " n"]) -> Float[np.ndarray, " n"]:
        """The fitted gain at `distance`."""
        d = np.asarray(distance, float)
        if self.form == REINFORCEMENT:
            safe = np.where(d > 0, d, 1.0)
            return np.where(d > 0, d * (self.alpha - self.beta * np.log(safe)), 0.0)
        return d * (self.alpha - self.beta * d)


def goodhart_fit(
    distance: Float[np.ndarray, " n"], gain: Float[np.ndarray, " n"], form: str
) -> GoodhartFit:
    r"""Fit $R(d) = d(\alpha - \beta d)$ (best-of-$n$) or $R(d) = d(\alpha - \beta\ln d)$
    (RL) to a true-reward gain $R$ over the distance $d = \sqrt{\mathrm{KL}}$ from the initial
    policy, by linear least squares in $(\alpha, \beta)$ (Gao, Schulman & Hilton 2022,
    "Scaling laws for reward model overoptimization", arXiv:2210.10760, Eqs 1–2).

    **Arguments:**

    - `distance`: $d \ge 0$, at least two positive values.
    - `gain`: $R(d) - R(0)$ at the same points.
    - `form`: `"linear"` (best-of-$n$, Eq 1) or `"log"` (RL, Eq 2).

    **Returns:**

    A [`GoodhartFit`][] with the closed-form peak.

    **Raises:**

    - `ValueError`: an unknown form, arrays of different shapes, values that are not
      finite, a negative distance, or fewer than two positive distances.
    """
    if form not in FORMS:
        raise ValueError(f"form must be one of {FORMS}, got {form!r}")
    d, r = np.asarray(distance, float), np.asarray(gain, float)
    if d.shape != r.shape or d.ndim != 1:
        raise ValueError(f"distance and gain must be 1-D of one length, got {d.shape}, {r.shape}")
    if not (np.all(np.isfinite(d)) and np.all(np.isfinite(r))):
        raise ValueError("distance and gain must be finite")
    if np.any(d < 0):
        raise ValueError("distances must be non-negative")
    if np.count_nonzero(d > 0) < 2:
        raise ValueError("the fit needs at least two positive distances")
    keep = d > 0
    d, r = d[keep], r[keep]
    second = d * np.log(d) if form == REINFORCEMENT else d**2
    (alpha, beta), *_ = np.linalg.lstsq(np.stack([d, -second], axis=1), r, rcond=None)
    alpha, beta = float(alpha), float(beta)
    if beta <= 0:
        peak, peak_gain = math.inf, math.inf
    elif form == REINFORCEMENT:
        # A nearly straight gain (beta -> 0+) turns beyond the largest float.
        exponent = alpha / beta - 1
        peak = math.exp(exponent) if exponent < math.log(sys.float_info.max) else math.inf
        peak_gain = beta * peak
    else:
        peak, peak_gain = alpha / (2 * beta), alpha**2 / (4 * beta)
    residual = r - (alpha * d - beta * second)
    return GoodhartFit(form, alpha, beta, peak, peak_gain, float(np.sqrt(np.mean(residual**2))))
