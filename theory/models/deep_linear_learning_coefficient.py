r"""Exact learning coefficients of deep linear networks (Aoyagi 2024) and of
reduced-rank regression (Aoyagi & Watanabe 2005)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import sympy as sp

from .._learning_coefficient import DEEP_LINEAR, REDUCED_RANK, LearningCoefficient


def _widths(widths: Sequence[int], rank: int) -> list[int]:
    widths = list(widths)
    if len(widths) < 2:
        raise ValueError(f"a network needs at least two widths (input, output), got {widths}")
    for width in widths:
        if not isinstance(width, int) or isinstance(width, bool) or width < 1:
            raise ValueError(f"widths must be positive integers, got {widths}")
    if not isinstance(rank, int) or isinstance(rank, bool) or not 0 <= rank <= min(widths):
        raise ValueError(
            f"the true rank must be an integer from 0 to the narrowest width {min(widths)}, "
            f"got {rank!r}"
        )
    return widths


def deep_linear_learning_coefficient(widths: Sequence[int], rank: int) -> LearningCoefficient:
    r"""The learning coefficient of a deep linear network at a true map of given rank.

    The network $x \mapsto W_L \cdots W_1 x$ has widths $H_1$ (input), …,
    $H_{L+1}$ (output) and $d = \sum_j H_j H_{j+1}$ parameters, and the data come
    from a linear map of rank $r$ with Gaussian noise, so that
    $K(W) = \tfrac12\lVert W_L\cdots W_1 - W^*\rVert^2$ under whitened inputs. With
    $\Delta_j = H_j - r$, let $\Sigma$ be the set of the $\ell + 1$ smallest
    $\Delta_j$ for which $\max_\Sigma \Delta < \min_{\notin\Sigma} \Delta$,
    $S = \sum_\Sigma \Delta_\sigma \ge \ell \max_\Sigma \Delta$ and
    $S < \ell \min_{\notin\Sigma} \Delta$. With $\bar M = \lceil S/\ell\rceil$ and
    $a = S - (\bar M - 1)\ell$,

    $$
    \lambda = \frac{r(H_1 + H_{L+1}) - r^2}{2} + \frac{a(\ell - a)}{4\ell}
    - \frac{\ell(\ell - 1)}{4}\Bigl(\frac{S}{\ell}\Bigr)^2
    + \frac12 \sum_{\{\sigma, \sigma'\} \subset \Sigma} \Delta_\sigma \Delta_{\sigma'},
    \qquad m = a(\ell - a) + 1
    $$

    (M. Aoyagi, "Consideration on the learning efficiency of multiple-layered neural
    networks with linear units", *Neural Networks* 172, 2024; restated in Lau, Furman,
    Wang, Murfet & Wei 2023, appendix). For one hidden layer it equals
    [`reduced_rank_learning_coefficient`][], a separate derivation; the claim
    `learning_coefficient.aoyagi_reduces_to_reduced_rank` checks every case of widths
    up to 7. It does not depend on where on the set of true parameters the network
    sits: the whole set has one threshold.

    **Arguments:**

    - `widths`: $(H_1, \dots, H_{L+1})$, input first.
    - `rank`: $r$, the rank of the true map, $0 \le r \le \min_j H_j$.

    **Returns:**

    A [`basinlab.LearningCoefficient`][] with the exact $\lambda$ and $m$.

    **Raises:**

    - `ValueError`: fewer than two widths, a width below 1, or a rank out of range.
    """
    widths = _widths(widths, rank)
    excess = sorted(width - rank for width in widths)
    dim = sum(a * b for a, b in itertools.pairwise(widths))
    for size in range(2, len(excess) + 1):
        ell, chosen, rest = size - 1, excess[:size], excess[size:]
        total = sum(chosen)
        beyond = rest[0] if rest else math.inf
        if max(chosen) < beyond and total >= ell * max(chosen) and total < ell * beyond:
            a = total - (-(-total // ell) - 1) * ell
            pairs = sum(x * y for x, y in itertools.combinations(chosen, 2))
            value = (
                sp.Rational(rank * (widths[0] + widths[-1]) - rank**2, 2)
                + sp.Rational(a * (ell - a), 4 * ell)
                - sp.Rational(ell * (ell - 1), 4) * sp.Rational(total, ell) ** 2
                + sp.Rational(pairs, 2)
            )
            return LearningCoefficient(value, a * (ell - a) + 1, DEEP_LINEAR, dim)
    raise AssertionError(f"no index set satisfies Aoyagi's conditions for {widths}, r={rank}")


def reduced_rank_learning_coefficient(
    inputs: int, hidden: int, outputs: int, rank: int
) -> LearningCoefficient:
    r"""The learning coefficient of reduced-rank regression $y = BAx$, $A$ of size
    $H \times M$, $B$ of size $N \times H$, at a true map of rank $r$.

    With $M$ inputs, $H$ hidden units and $N$ outputs (M. Aoyagi & S. Watanabe,
    "Stochastic complexities of reduced rank regression in Bayesian estimation",
    *Neural Networks* 18, 2005, Main Theorem):

    - if $N + r \le M + H$, $M + r \le N + H$ and $H + r \le M + N$:
      $\lambda = [2(H + r)(M + N) - (M - N)^2 - (H + r)^2]/8$ with $m = 1$ when
      $M + H + N + r$ is even, and $\lambda = [\dots + 1]/8$ with $m = 2$ when odd;
    - if $M + H < N + r$: $\lambda = (HM - Hr + Nr)/2$;
    - if $N + H < M + r$: $\lambda = (HN - Hr + Mr)/2$;
    - if $M + N < H + r$: $\lambda = MN/2$.

    **Raises:**

    - `ValueError`: a width below 1 or a rank out of range.
    """
    M, H, N = _widths((inputs, hidden, outputs), rank)
    r = rank
    dim = H * (M + N)
    if N + r <= M + H and M + r <= N + H and H + r <= M + N:
        central = 2 * (H + r) * (M + N) - (M - N) ** 2 - (H + r) ** 2
        if (M + H + N + r) % 2:
            return LearningCoefficient(sp.Rational(central + 1, 8), 2, REDUCED_RANK, dim)
        return LearningCoefficient(sp.Rational(central, 8), 1, REDUCED_RANK, dim)
    if M + H < N + r:
        return LearningCoefficient(sp.Rational(H * M - H * r + N * r, 2), 1, REDUCED_RANK, dim)
    if N + H < M + r:
        return LearningCoefficient(sp.Rational(H * N - H * r + M * r, 2), 1, REDUCED_RANK, dim)
    return LearningCoefficient(sp.Rational(M * N, 2), 1, REDUCED_RANK, dim)
