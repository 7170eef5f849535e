"""Wilson score intervals for fractions."""

from __future__ import annotations

import statistics

import numpy as np
from jaxtyping import Float, Int


def wilson_interval(
    successes: Int[np.ndarray, ...] | int, trials: int, confidence: float = 0.95
) -> tuple[Float[np.ndarray, ...], Float[np.ndarray, ...]]:
    r"""The Wilson score interval for a binomial proportion.

    With $\hat p = k/n$ and $z$ the normal quantile for `confidence`,

    $$
    \frac{\hat p + \frac{z^2}{2n} \pm z\sqrt{\frac{\hat p(1-\hat p)}{n}
    + \frac{z^2}{4n^2}}}{1 + \frac{z^2}{n}} .
    $$

    It stays inside $[0, 1]$ and keeps its coverage near 0 and 1, where the normal
    approximation fails (E. B. Wilson, "Probable inference, the law of succession,
    and statistical inference", J. Am. Stat. Assoc. 22, 209, 1927).

    **Arguments:**

    - `successes`: the counts $k$.
    - `trials`: $n$.
    - `confidence`: the coverage, in $(0, 1)$.

    **Returns:**

    The lower and upper ends.

    **Raises:**

    - `ValueError`: `trials < 1`, a count outside $[0, n]$, or a confidence outside
      $(0, 1)$.
    """
    k = np.asarray(successes, dtype=float)
    if trials < 1:
        raise ValueError(f"trials must be at least 1, got {trials}")
    if np.any(k < 0) or np.any(k > trials):
        raise ValueError(f"counts must lie in [0, {trials}], got {successes}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    z = statistics.NormalDist().inv_cdf(0.5 + confidence / 2)
    p = k / trials
    denominator = 1 + z**2 / trials
    centre = (p + z**2 / (2 * trials)) / denominator
    half = z * np.sqrt(p * (1 - p) / trials + z**2 / (4 * trials**2)) / denominator
    # At k = 0 and k = n the ends are exactly 0 and 1; rounding would leave 1e-18.
    low = np.where(k == 0, 0.0, np.clip(centre - half, 0, 1))
    high = np.where(k == trials, 1.0, np.clip(centre + half, 0, 1))
    return low, high
