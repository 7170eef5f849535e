"""The two classic early-warning signals of a stationary series: variance and lag-1
autocorrelation."""

from __future__ import annotations

import numpy as np
from jaxtyping import Float


def warning_signals(
    series: Float[np.ndarray, "runs samples"],
) -> tuple[Float[np.ndarray, " runs"], Float[np.ndarray, " runs"]]:
    r"""Each run's sample variance and lag-1 autocorrelation,
    $\hat\rho = \sum_t (x_t - \bar x)(x_{t+1} - \bar x) / \sum_t (x_t - \bar x)^2$;
    NaN for a run with a NaN in it.

    Over $N$ samples of an AR(1) series $\hat\rho$ is biased low by about
    $(1 + 4\rho)/N$ (M. G. Kendall, *Biometrika* 41, 1954): compare it with the
    stationary prediction over long series.

    **Raises:**

    - `ValueError`: fewer than 3 samples per run.
    """
    series = np.asarray(series, float)
    if series.ndim != 2 or series.shape[1] < 3:
        raise ValueError(
            f"series must be (runs, samples) with 3 samples or more, got {series.shape}"
        )
    centred = series - series.mean(axis=1, keepdims=True)
    squares = np.sum(centred**2, axis=1)
    variance = squares / (series.shape[1] - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        autocorrelation = np.sum(centred[:, 1:] * centred[:, :-1], axis=1) / squares
    return variance, autocorrelation
