"""The expected moments of a Gaussian retrained on its own samples and fresh data."""

from __future__ import annotations

import sympy as sp

from .._model import Model
from ._retraining import expected_moments


def retraining_moments(fresh_share: float = 0.1, samples: float = 20.0) -> Model:
    r"""The deterministic skeleton of iterated retraining: one generation's expected
    mean and variance, iterated.

    A Gaussian model $\mathcal N(\mu, v)$ is refitted (sample mean, unbiased sample
    variance) to $M$ samples, a share $\lambda$ of them fresh from the real data
    $\mathcal N(0, 1)$ and the rest drawn from the model itself. The conditional
    expectations of the new moments are exact
    (see [`basinlab.theory.refit_expectations`][]):

    $$
    \mu \mapsto (1 - \lambda)\,\mu, \qquad
    v \mapsto \lambda + (1 - \lambda)\,v + \lambda (1 - \lambda) \frac{M}{M - 1}\,\mu^2.
    $$

    For $\lambda > 0$ the real moments $(0, 1)$ are the only fixed point, a stable
    node with both multipliers $1 - \lambda$ (I. Shumailov et al., Nature 631, 755,
    2024, for $\lambda = 0$; Q. Bertrand et al., ICLR 2024, for fresh data). With
    $\lambda = 0$ the map is the identity: every Gaussian is kept *in expectation*,
    while the random variance itself collapses to 0 (simulate it with
    [`basinlab.simulations.gaussian_refit`][]).

    What is stylised: iterating conditional expectations is not the expectation of
    the iterated random map (the $\mu^2$ term is nonlinear); the Monte Carlo of
    `gaussian_refit` is the process itself. The predicate `"faithful"` is
    $|\mu| < 0.1$ and $|v - 1| < 0.1$.

    **Arguments:**

    - `fresh_share`: default of $\lambda \in (0, 1]$.
    - `samples`: default of $M > 1$.

    **Returns:**

    A [`basinlab.Model`][] of kind `"map"` with state $(\mu, v)$.
    """
    mean = sp.Symbol("mu", real=True)
    variance = sp.Symbol("v", real=True)
    share = sp.Symbol("fresh_share", positive=True)
    count = sp.Symbol("samples", positive=True)
    return Model.iterated_map(
        "retraining_moments",
        [mean, variance],
        list(expected_moments(count, share, mean, variance)),
        params={share: fresh_share, count: samples},
        predicates={"faithful": sp.And(sp.Abs(mean) < 0.1, sp.Abs(variance - 1) < 0.1)},
        description="Expected mean and variance of a Gaussian refitted each generation to "
        "M samples, a share of them fresh real data (Shumailov et al. 2024; Bertrand et "
        "al. 2024).",
        search_box=[(-2.0, 2.0), (0.0, 3.0)],
    )
