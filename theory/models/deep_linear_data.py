r"""Learning order of a deep linear network from its data (Saxe et al. 2014).

Training converges to the SVD of the input–output correlation $\Sigma^{31}$, and the
mode with singular value $s_\alpha$ is learned in time about
$(\tau/s_\alpha)\ln(s_\alpha/\varepsilon)$ from strength $\varepsilon$, so modes are
acquired in order of decreasing singular value. Whatever changes $\Sigma^{31}$ changes
what is learned and in which order: a curriculum (weights on the examples) or
systematically wrong labels. The theory assumes whitened inputs, $\Sigma^{11} = I$;
`ModeSpectrum.whitening_error` reports how far the weighted inputs are from that.

A. M. Saxe, J. L. McClelland and S. Ganguli, ICLR 2014, arXiv:1312.6120.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .deep_linear import learning_time


def _matrix(value: object, what: str) -> np.ndarray:
    array = np.asarray(value, dtype=float)
    if array.ndim != 2:
        raise ValueError(
            f"{what} must be a matrix (examples x dimensions), got shape {array.shape}"
        )
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{what} has entries that are not finite")
    return array


def _weights(weights: object | None, count: int) -> np.ndarray:
    if weights is None:
        return np.full(count, 1.0 / count)
    array = np.asarray(weights, dtype=float)
    if array.shape != (count,):
        raise ValueError(
            f"weights must have one entry per example ({count}), got shape {array.shape}"
        )
    if not np.all(np.isfinite(array)) or np.any(array < 0) or array.sum() <= 0:
        raise ValueError("weights must be finite, non-negative and not all zero")
    return array / array.sum()


def input_output_correlation(
    inputs: object, outputs: object, weights: object | None = None
) -> np.ndarray:
    r"""$\Sigma^{31} = \sum_\mu w_\mu\, y^\mu (x^\mu)^T$ with weights normalised to sum 1.

    **Arguments:**

    - `inputs`: $x^\mu$ as rows, shape `(P, N1)`.
    - `outputs`: $y^\mu$ as rows, shape `(P, N3)`.
    - `weights`: per-example weights (a curriculum); uniform if `None`.

    **Returns:**

    $\Sigma^{31}$, shape `(N3, N1)`.

    **Raises:**

    - `ValueError`: shapes that do not match, non-finite data, or bad weights.
    """
    x, y = _matrix(inputs, "inputs"), _matrix(outputs, "outputs")
    if x.shape[0] != y.shape[0]:
        raise ValueError(
            f"inputs and outputs must have the same number of examples, got {x.shape[0]} "
            f"and {y.shape[0]}"
        )
    w = _weights(weights, x.shape[0])
    return (y * w[:, None]).T @ x


@dataclasses.dataclass(frozen=True)
class ModeSpectrum:
    """The modes of $\\Sigma^{31}$ and when a deep linear network learns each.

    **Fields:**

    - `correlation`: $\\Sigma^{31}$.
    - `singular_values`: $s_\\alpha$, decreasing (only the non-zero ones).
    - `output_modes`, `input_modes`: $u_\\alpha$ and $v_\\alpha$ as columns.
    - `learning_times`: the time from $u_0$ to $s_\\alpha - u_0$ (Eq 11) for each mode.
    - `order`: mode indices in order of acquisition.
    - `whitening_error`: $\\|\\Sigma^{11}/\\bar\\sigma - I\\|_2$, the distance of the
      input correlation from a multiple of the identity (0 for whitened inputs).
    """

    correlation: np.ndarray
    singular_values: np.ndarray
    output_modes: np.ndarray
    input_modes: np.ndarray
    learning_times: np.ndarray
    order: np.ndarray
    whitening_error: float

    def __post_init__(self):
        assert np.all(np.diff(self.singular_values) <= 0)
        assert len(self.learning_times) == len(self.singular_values) == len(self.order)


def mode_spectrum(
    inputs: object,
    outputs: object,
    weights: object | None = None,
    u0: float = 1e-3,
    tau: float = 1.0,
    rank_tol: float = 1e-10,
) -> ModeSpectrum:
    """SVD of $\\Sigma^{31}$, each mode's learning time, and the order of acquisition.

    **Arguments:**

    - `inputs`, `outputs`, `weights`: as for [`input_output_correlation`][].
    - `u0`: the initial strength of every mode (small random weights).
    - `tau`: $\\tau = 1/\\lambda$.
    - `rank_tol`: singular values below this times the largest are dropped.

    **Returns:**

    A [`ModeSpectrum`][].

    **Raises:**

    - `ValueError`: bad data, or `u0` not below half of a kept singular value.
    """
    x = _matrix(inputs, "inputs")
    correlation = input_output_correlation(inputs, outputs, weights)
    w = _weights(weights, x.shape[0])
    input_correlation = (x * w[:, None]).T @ x
    scale = np.trace(input_correlation) / len(input_correlation)
    whitening = float(np.linalg.norm(input_correlation / scale - np.eye(len(input_correlation)), 2))
    left, values, right = np.linalg.svd(correlation, full_matrices=False)
    keep = values > rank_tol * values[0]
    left, values, right = left[:, keep], values[keep], right[keep].T
    if np.any(2 * u0 >= values):
        raise ValueError(
            f"u0={u0} must be below half of every singular value (smallest {values[-1]:.3g})"
        )
    times = np.array([learning_time(float(s), u0, float(s) - u0, tau) for s in values])
    return ModeSpectrum(
        correlation, values, left, right, times, np.argsort(times, kind="stable"), whitening
    )


def corrupt_labels(outputs: object, fraction: float, rule: object, seed: int = 0) -> np.ndarray:
    """Replace a random fraction of the labels by a biased rule's labels.

    **Arguments:**

    - `outputs`: the clean labels, shape `(P, N3)`.
    - `fraction`: the fraction of examples whose labels are replaced, in $[0, 1]$.
    - `rule`: the biased labels, shape `(P, N3)` (what the corrupted examples say).
    - `seed`: which examples are corrupted.

    **Returns:**

    The corrupted labels.

    **Raises:**

    - `ValueError`: `fraction` outside $[0, 1]$ or shapes that differ.
    """
    y, biased = _matrix(outputs, "outputs"), _matrix(rule, "rule")
    if y.shape != biased.shape:
        raise ValueError(f"rule must have the shape of outputs {y.shape}, got {biased.shape}")
    if not 0 <= fraction <= 1:
        raise ValueError(f"fraction must lie in [0, 1], got {fraction}")
    chosen = np.random.default_rng(seed).permutation(len(y))[: round(fraction * len(y))]
    corrupted = y.copy()
    corrupted[chosen] = biased[chosen]
    return corrupted


@dataclasses.dataclass(frozen=True)
class SpectrumChange:
    """How a change of the data changes what a deep linear network learns.

    **Fields:**

    - `order_before`, `order_after`: the orders of acquisition, as lists of mode
      indices of the clean spectrum (after: each perturbed mode matched to the clean
      mode it overlaps most).
    - `order_changed`: whether the orders differ.
    - `map_shift`: $\\|\\Sigma^{31}_{after} - \\Sigma^{31}_{before}\\|_F$, how far the
      converged input–output map moves (training converges to $\\Sigma^{31}$ under
      whitened inputs and enough hidden units).
    - `relative_map_shift`: the same divided by $\\|\\Sigma^{31}_{before}\\|_F$.
    - `time_ratio`: each clean mode's learning time after over before.
    """

    order_before: list[int]
    order_after: list[int]
    order_changed: bool
    map_shift: float
    relative_map_shift: float
    time_ratio: np.ndarray


def compare_spectra(before: ModeSpectrum, after: ModeSpectrum) -> SpectrumChange:
    """Compare the learning of two data sets (clean and curriculum or corrupted).

    Modes of `after` are matched one to one to modes of `before` so that the total
    overlap $\\sum |u_\\alpha^T u'_\\beta|\\,|v_\\alpha^T v'_\\beta|$ is largest.

    **Raises:**

    - `ValueError`: the correlations have different shapes.
    """
    if before.correlation.shape != after.correlation.shape:
        raise ValueError("the two spectra come from data of different dimensions")
    overlap = np.abs(before.output_modes.T @ after.output_modes) * np.abs(
        before.input_modes.T @ after.input_modes
    )
    # A one-to-one matching of largest total overlap (Hungarian algorithm); modes of
    # `after` beyond the rank of `before` go to their best single match.
    match = overlap.argmax(axis=0)
    import scipy.optimize  # on use: loading SciPy would slow every model build

    rows, columns = scipy.optimize.linear_sum_assignment(overlap, maximize=True)
    match[columns] = rows
    order_after = [int(match[j]) for j in after.order]
    times_after = np.full(len(before.singular_values), np.inf)
    for j, i in enumerate(match):
        times_after[i] = min(times_after[i], after.learning_times[j])
    shift = float(np.linalg.norm(after.correlation - before.correlation))
    order_before = [int(i) for i in before.order]
    return SpectrumChange(
        order_before,
        order_after,
        order_before[: len(order_after)] != order_after,
        shift,
        shift / float(np.linalg.norm(before.correlation)),
        times_after / before.learning_times,
    )


def hierarchical_data(
    depth: int = 3, features: int = 100, flip: float = 0.1, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Items at the leaves of a binary tree, with features diffused down the tree.

    As in Saxe et al. (2014, Fig. 3): each feature takes a random sign at the root,
    and every branch of the tree flips it with probability `flip`; an item's feature
    value is the sign at its leaf. Items are one-hot inputs, so broad distinctions
    (near the root) carry larger singular values and are learned first.

    **Arguments:**

    - `depth`: the tree's depth $d$; there are $2^d$ items.
    - `features`: the number of output features.
    - `flip`: the sign-flip probability $\\varepsilon$ per level.
    - `seed`: the seed.

    **Returns:**

    `(inputs, outputs)`: the identity, shape `(2^d, 2^d)`, and the features, shape
    `(2^d, features)`.

    **Raises:**

    - `ValueError`: `depth < 1`, `features < 1`, or `flip` outside $[0, 1/2]$.
    """
    if not isinstance(depth, int) or depth < 1:
        raise ValueError(f"depth must be a positive integer, got {depth!r}")
    if not isinstance(features, int) or features < 1:
        raise ValueError(f"features must be a positive integer, got {features!r}")
    if not 0 <= flip <= 0.5:
        raise ValueError(f"flip must lie in [0, 1/2], got {flip}")
    rng = np.random.default_rng(seed)
    values = rng.choice([-1.0, 1.0], size=(1, features))
    for _ in range(depth):
        children = np.repeat(values, 2, axis=0)
        flips = rng.random(children.shape) < flip
        values = np.where(flips, -children, children)
    return np.eye(2**depth), values
