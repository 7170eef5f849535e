"""Receiver-operating statistics of a warning signal against runs far from a tipping point."""

from __future__ import annotations

import numpy as np
from jaxtyping import Float
from scipy import stats


def auc(positive: Float[np.ndarray, " a"], negative: Float[np.ndarray, " b"]) -> float:
    r"""The area under the receiver-operating curve: the probability that a run near
    the tipping point shows a larger signal than a run far from it (ties count half),
    $U / (ab)$ of the Mann–Whitney test. NaN runs are left out."""
    positive, negative = positive[np.isfinite(positive)], negative[np.isfinite(negative)]
    if not len(positive) or not len(negative):
        return float("nan")
    u = stats.mannwhitneyu(positive, negative, alternative="greater").statistic
    return float(u / (len(positive) * len(negative)))


def detection_rate(
    positive: Float[np.ndarray, " a"], negative: Float[np.ndarray, " b"], false_alarm: float
) -> float:
    """The share of runs near the tipping point above the threshold that runs far from
    it exceed with probability `false_alarm`."""
    threshold = np.nanquantile(negative, 1 - false_alarm)
    positive = positive[np.isfinite(positive)]
    return float(np.mean(positive > threshold)) if len(positive) else float("nan")


def roc_curve(
    positive: Float[np.ndarray, " a"], negative: Float[np.ndarray, " b"]
) -> tuple[Float[np.ndarray, " k"], Float[np.ndarray, " k"]]:
    """The receiver-operating curve: false-alarm and detection rates at every
    threshold, from (1, 1) to (0, 0)."""
    thresholds = np.unique(np.concatenate([positive, negative]))
    thresholds = np.concatenate([[-np.inf], thresholds[np.isfinite(thresholds)], [np.inf]])
    false = np.array([np.mean(negative > t) for t in thresholds])
    true = np.array([np.mean(positive > t) for t in thresholds])
    return false, true


def horizon(
    distances: Float[np.ndarray, " v"], aucs: Float[np.ndarray, " v"], level: float
) -> float:
    """The warning horizon: the largest distance from the tipping point at which the
    signal, there and at every value closer, reaches `level` of AUC; 0 when the
    closest value does not."""
    order = np.argsort(distances)
    reached = 0.0
    for index in order:
        if not aucs[index] >= level:
            break
        reached = float(distances[index])
    return reached
