r"""Retraining a Gaussian on its own samples: exact moments of one generation.

Generation $t$ is a model $\mathcal N(\mu_t, v_t)$. The next model is fitted to $M$
samples: $M - n$ drawn from the model itself and $n$ fresh samples of the real data
$\mathcal N(0, 1)$ (any real Gaussian is this one after an affine change of
variables). The fit is the sample mean $\mu_{t+1} = \bar x$ and the unbiased sample
variance $v_{t+1} = \frac{1}{M - 1}\sum_i (x_i - \bar x)^2$.

With no fresh data ($n = 0$) this is the Gaussian model of *model collapse*
(I. Shumailov, Z. Shumaylov, Y. Zhao, N. Papernot, R. Anderson and Y. Gal, "AI models
collapse when trained on recursively generated data", Nature 631, 755, 2024): since
$(M - 1) v_{t+1} / v_t \sim \chi^2_{M-1}$,
$\mathbb E[v_{t+1}] = v_t$ while $\mathbb E[\sqrt{v_{t+1}}] = c_4(M) \sqrt{v_t}$ with
$c_4(M) = \sqrt{2/(M-1)}\,\Gamma(M/2)/\Gamma((M-1)/2) < 1$, and
$\mathbb E[\ln v_{t+1}] = \ln v_t + \psi\bigl(\tfrac{M-1}{2}\bigr) -
\ln\tfrac{M-1}{2} < \ln v_t$: the variance is a martingale that goes to 0 almost
surely. A fixed share of fresh data keeps it away from 0 (Q. Bertrand, A. J. Bose,
A. Duplessis, M. Jiralerspong and G. Gidel, "On the stability of iterative retraining
of generative models on their own data", ICLR 2024): the expected moments then
contract to the real ones at the rate $(M - n)/M$ per generation.
"""

from __future__ import annotations

import sympy as sp

from .._checks import check_count


def check_refit(samples: object, fresh: object) -> tuple[int, int]:
    """`samples >= 2` and `0 <= fresh <= samples`, as ints.

    **Raises:**

    - `ValueError`: either is not an integer in range.
    """
    samples = check_count(samples, "samples", minimum=2)
    fresh = check_count(fresh, "fresh", minimum=0)
    if fresh > samples:
        raise ValueError(f"fresh ({fresh}) cannot exceed samples ({samples})")
    return samples, fresh


def refit_expectations(
    samples: int, fresh: int, mean: sp.Expr, variance: sp.Expr
) -> tuple[sp.Expr, sp.Expr]:
    r"""$\mathbb E[\mu_{t+1}]$ and $\mathbb E[v_{t+1}]$ given $(\mu_t, v_t)$, exactly:

    $$
    \mathbb E[\mu_{t+1}] = \frac{(M - n)\,\mu_t}{M}, \qquad
    \mathbb E[v_{t+1}] = \frac{n + (M - n)\,v_t}{M} + \frac{n (M - n)\,\mu_t^2}{M (M - 1)}.
    $$

    The last term is the spread between the two groups' means, which the pooled
    sample variance counts.

    **Arguments:**

    - `samples`: $M \ge 2$; `fresh`: $n$, with $0 \le n \le M$.
    - `mean`, `variance`: $\mu_t$ and $v_t$ (symbols or numbers).

    **Raises:**

    - `ValueError`: `samples` or `fresh` out of range.
    """
    m, n = check_refit(samples, fresh)
    return expected_moments(sp.Integer(m), sp.Rational(n, m), mean, variance)


def expected_moments(
    samples: sp.Expr, share: sp.Expr, mean: sp.Expr, variance: sp.Expr
) -> tuple[sp.Expr, sp.Expr]:
    r"""[`refit_expectations`][] with the fresh share $\lambda = n / M$ in place of $n$,
    for symbols: $igl((1 - \lambda)\mu,\; \lambda + (1 - \lambda) v
    + \lambda (1 - \lambda) rac{M}{M - 1} \mu^2igr)$."""
    own = 1 - share
    return own * mean, share + own * variance + share * own * samples / (samples - 1) * mean**2


def collapse_factor(samples: int) -> sp.Expr:
    r"""$c_4(M) = \mathbb E[\sigma_{t+1}] / \sigma_t$ with no fresh data:
    $\sqrt{2/(M-1)}\;\Gamma(M/2) / \Gamma((M-1)/2)$, exactly.

    **Raises:**

    - `ValueError`: `samples < 2`.
    """
    m = check_count(samples, "samples", minimum=2)
    return (
        sp.sqrt(sp.Rational(2, m - 1))
        * sp.gamma(sp.Rational(m, 2))
        / sp.gamma(sp.Rational(m - 1, 2))
    )


def log_variance_drift(samples: int) -> sp.Expr:
    r"""$\mathbb E[\ln v_{t+1}] - \ln v_t = \psi\bigl(\tfrac{M-1}{2}\bigr) -
    \ln\tfrac{M-1}{2}$ with no fresh data, exactly (negative for every $M \ge 2$).

    **Raises:**

    - `ValueError`: `samples < 2`.
    """
    m = check_count(samples, "samples", minimum=2)
    half = sp.Rational(m - 1, 2)
    return sp.polygamma(0, half) - sp.log(half)


def second_moment_recursion(samples: int, fresh: int) -> tuple[sp.Matrix, sp.Matrix]:
    r"""The exact linear recursion of $(\mathbb E[\mu_t^2], \mathbb E[v_t])$ across
    generations, $m_{t+1} = A\,m_t + c$ (starting from a fixed $(\mu_0, v_0)$):

    $$
    A = \begin{pmatrix} (M - n)^2 / M^2 & (M - n) / M^2 \\
        n (M - n) / (M (M - 1)) & (M - n) / M \end{pmatrix}, \qquad
    c = \begin{pmatrix} n / M^2 \\ n / M \end{pmatrix},
    $$

    from $\mathbb E[\mu_{t+1}^2] = \mathbb E[\mu_{t+1}]^2 + \operatorname{Var}\bar x$ with
    $\operatorname{Var}\bar x = (n + (M - n) v_t) / M^2$, and [`refit_expectations`][].
    Both conditional expectations are linear in $(\mu_t^2, v_t)$, so the recursion of
    their means is exact, not a mean-field closure.

    **Raises:**

    - `ValueError`: `samples` or `fresh` out of range.
    """
    m, n = check_refit(samples, fresh)
    own = m - n
    matrix = sp.Matrix(
        [
            [sp.Rational(own**2, m**2), sp.Rational(own, m**2)],
            [sp.Rational(n * own, m * (m - 1)), sp.Rational(own, m)],
        ]
    )
    return matrix, sp.Matrix([sp.Rational(n, m**2), sp.Rational(n, m)])


def stationary_moments(samples: int, fresh: int) -> tuple[sp.Rational, sp.Rational]:
    r"""The limits of $\mathbb E[\mu_t^2]$ and $\mathbb E[v_t]$ with fresh data
    ($n \ge 1$), exactly: the fixed point of [`second_moment_recursion`][].

    The spread of the model's mean about the real one adds to the pooled variance,
    so the expected variance settles *above* the real variance 1.

    **Raises:**

    - `ValueError`: `fresh` is 0 (the variance then collapses; there is no stationary
      point but 0), or a count out of range.
    """
    matrix, offset = second_moment_recursion(samples, fresh)
    if fresh == 0:
        raise ValueError("with fresh=0 the variance collapses; there is no stationary point")
    solution = (sp.eye(2) - matrix).solve(offset)
    return solution[0], solution[1]
