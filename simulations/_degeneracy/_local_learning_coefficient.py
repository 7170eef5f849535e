"""The local learning coefficient of a minimum, estimated by localised SGLD."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr
from jaxtyping import Array, PyTree

from ...theory import Model
from .._engine._compile import CompiledModel
from .._engine._provenance import provenance, versions
from .._engine._random_key import random_key
from .._engine._settings_argument import settings_argument
from ._chain_diagnostics import (
    diagnosis,
    gamma_elasticity,
    relaxations,
    step_size_bias,
    summarise,
)
from ._loss_function import LossFunction, loss_function
from ._sgld_chains import run_chains
from ._sgld_settings import ONE_BATCH, SGLDSettings


class NotAMinimumError(ValueError):
    """The point given to [`basinlab.local_learning_coefficient`][] is not near a
    minimum of the loss: a slope or a saddle, where no learning coefficient is
    defined."""


# A linear term alone would move the estimate by more than this: not near a minimum.
_SLOPE_LIMIT = 0.5
# Estimates this many standard errors below zero: the chains found lower loss.
_BELOW_ZERO = 4.0


def _check_slope(loss: LossFunction, nbeta: float, gamma: float) -> None:
    r"""Refuse a point on a slope. With gradient $g$ at $w^*$, the localised measure
    $\propto e^{-n\beta g\cdot(w - w^*) - \gamma|w - w^*|^2/2}$ shifts its mean by
    $-n\beta g/\gamma$, which moves the estimate by $-(n\beta)^2|g|^2/\gamma$."""
    indices = jnp.arange(loss.n)
    gradient = np.asarray(jax.grad(loss.batch_loss)(loss.start, indices))
    shift = nbeta**2 * float(gradient @ gradient) / gamma
    if not np.isfinite(shift) or shift > _SLOPE_LIMIT:
        raise NotAMinimumError(
            f"the point is not near a minimum of the loss: its gradient has norm "
            f"{np.linalg.norm(gradient):.3g}, which alone would move the estimate by "
            f"{-shift:.3g} (n*beta = {nbeta:.4g}, gamma = {gamma:g}); train to a minimum first"
        )


def _check_curvature(flattest: float, nbeta: float, gamma: float) -> None:
    r"""Refuse a saddle: near $w^*$ the localised measure has precision
    $n\beta H + \gamma I$, which is not positive when $n\beta h_{min} \le -\gamma$,
    and the chains then run away downhill."""
    if nbeta * flattest <= -gamma:
        raise NotAMinimumError(
            f"the point is not near a minimum of the loss: its Hessian has the eigenvalue "
            f"{flattest:.3g}, so the loss falls away from it faster than gamma = {gamma:g} "
            f"holds the chains (n*beta = {nbeta:.4g}); it is a saddle"
        )


def _shared_reference_error(loss: LossFunction, settings: SGLDSettings, nbeta: float) -> float:
    r"""The error that one shared minibatch's $L_{B_0}(w^*)$ adds to every chain:
    $n\beta\,\mathrm{sd}_i[\ell_i(w^*)]/\sqrt{B}$."""
    if settings.reference != ONE_BATCH or loss.population or settings.batch_size is None:
        return 0.0
    losses = np.asarray(loss.sample_losses(loss.start, jnp.arange(loss.n)))
    return float(nbeta * np.std(losses, ddof=1) / np.sqrt(settings.batch_size))


def local_learning_coefficient(
    loss: Model | CompiledModel | Callable[[PyTree, PyTree], Array],
    attractor: PyTree,
    *,
    data: PyTree | None = None,
    n: int | None = None,
    params: Mapping[str, float] | None = None,
    settings: SGLDSettings | None = None,
    seed: int = 0,
    progress: bool = False,
) -> xr.Dataset:
    r"""The local learning coefficient (LLC) $\hat\lambda(w^*)$ of a minimum, by SGLD.

    The LLC measures how degenerate a minimum is: $d/2$ at a regular minimum of $d$
    parameters, less where directions are flat to higher order. It is estimated as

    $$
    \hat\lambda(w^*) = n\beta\,\bigl(\mathbb E_{w}[L_n(w)] - L_n(w^*)\bigr),
    \qquad w \sim \propto \exp\Bigl(-n\beta L_n(w) - \frac{\gamma}{2}|w - w^*|^2\Bigr),
    $$

    with $\beta = 1/\log n$, the expectation taken over SGLD chains started at $w^*$
    (E. Lau, Z. Furman, G. Wang, D. Murfet and S. Wei, "The local learning
    coefficient: a singularity-aware complexity measure", 2023, Def. 1 and Alg. 1).
    As $n \to \infty$ and $\gamma \to 0$ it tends to the real log canonical threshold
    ([`basinlab.learning_coefficient`][]).

    **Bias.** At a regular minimum with Hessian eigenvalues $h_i$ the measure is
    Gaussian and exactly $\hat\lambda = \tfrac12\sum_i n\beta h_i/(n\beta h_i + \gamma)$:
    $\gamma$ biases it down by $\approx \gamma\sum_i 1/(2n\beta h_i)$. At a minimum of
    multiplicity $m > 1$ it approaches $\lambda$ only as $(m - 1)/\log(n\beta)$. The
    step size biases it up (the discretised chain is wider than the measure), and a
    short burn-in biases it down (chains start at $w^*$). Along a Hessian
    eigenvector the chain is a linear recursion whose variance is $1/(a(1 - \epsilon
    a/4))$, $a = n\beta h + \gamma$, instead of $1/a$; so at a quadratic minimum
    exactly $\hat\lambda = \tfrac12\sum_i n\beta h_i / (a_i(1 - \epsilon a_i/4))$,
    and the result's `step_size_bias` is that widening in the stiffest direction
    met (at $w^*$ and where the chains end).

    **Variance, and its fix.** Each draw's minibatch loss $L_B(w_t)$ is noisy. When
    $L(w^*)$ is also taken on one minibatch, that batch's error
    $n\beta(L_{B_0}(w^*) - L_n(w^*))$, of standard deviation
    $n\beta\,\mathrm{sd}[\ell_i(w^*)]/\sqrt B$, is shared by every chain: the chains
    agree with each other and all are off together (`reference="one_batch"`). The
    default `"paired"` subtracts $L_B(w^*)$ on each draw's own minibatch, so that
    the batch's noise cancels in the difference; `"full"` subtracts $L_n(w^*)$.

    **Trust.** The result says `trusted` when the burn-in lasts at least three
    relaxation times $2/(\epsilon(n\beta h_{min} + \gamma))$ of the flattest
    direction at $w^*$ (only $\gamma$ holds a flat one), the step size widens the
    stiffest direction by at most 5%, the effective sample size is at least 100
    (ArviZ), R-hat at most 1.05, the first and last thirds of the draws agree
    within 4 standard errors (the chains have settled), and $|d\log\hat\lambda /
    d\log\gamma| \le 0.2$ across `settings.gamma_factors`, or the change is within
    3 standard errors (the loss, not the localisation, sets the estimate);
    `diagnosis` lists what failed.

    **Arguments:**

    - `loss`: a gradient-flow [`basinlab.Model`][] (its loss as the population loss
      $K$, no minibatch noise), or a function `loss(w, batch)` returning one loss per
      sample, with `w` a pytree shaped like `attractor` and `batch` like `data`.
    - `attractor`: $w^*$: the state of a model's minimum, or the trained weights.
    - `data`: the samples, a pytree of arrays with the samples along the first axis
      (with a loss function only).
    - `n`: the sample size a model's population loss stands for (with a model only).
    - `params`: the model's parameters.
    - `settings`: an [`basinlab.SGLDSettings`][].
    - `seed`: the seed of the chains and minibatches.
    - `progress`: show a progress bar.

    **Returns:**

    An `xarray.Dataset` with dimensions `gamma` (the values
    `settings.gamma * gamma_factors`), `chain` and `draw`:

    - `llc` (gamma): $\hat\lambda$; `llc_std_error` (gamma) its standard error,
      including the shared reference's error for `"one_batch"`;
    - `chain_llc` (gamma, chain): each chain's mean;
    - `trace` (gamma, chain, draw): $n\beta(L_B(w_t) - L^*)$, in ArviZ's
      (chain, draw) layout: `arviz.summary(result["trace"].sel(gamma=g).values)`
      gives its full table;
      `distance` (gamma, chain, draw): $|w_t - w^*|$;
    - `ess`, `r_hat`, `drift_z` (gamma): diagnostics;
    - attrs: `estimate` and `std_error` at `settings.gamma`, `trusted` (1 or 0),
      `diagnosis`, `gamma_elasticity`, `step_size_bias`, `burn_in_relaxations`,
      `n`, `beta`, `nbeta`, `loss_at_attractor`, `shared_reference_error`, and the
      settings.

    **Raises:**

    - `NotAMinimumError` (a `ValueError`): the point is not near a minimum (a
      gradient there that alone would move the estimate by more than 0.5, a Hessian
      eigenvalue $h$ with $n\beta h \le -\gamma$, or chains that find loss clearly
      below $L(w^*)$).
    - `ValueError`: $\gamma \le 0$ or another bad setting (from `SGLDSettings`); a
      model without a loss, or without `n`; data missing, mismatched or given with a
      model; chains that diverge (a step size too large).
    - `TypeError`: `loss` is neither a model nor a function.
    """
    settings = settings_argument(settings, SGLDSettings, "settings")
    function = loss_function(loss, attractor, data, n, params)
    n = function.n
    beta = settings.beta if settings.beta is not None else 1.0 / np.log(n)
    nbeta = n * beta
    _check_slope(function, nbeta, settings.gamma)
    flattest = float(function.curvatures(function.start[None])[1][0])
    _check_curvature(flattest, nbeta, settings.gamma)
    key = random_key(seed)
    trace, distance, reference, last = run_chains(function, settings, nbeta, key, progress)
    if not np.all(np.isfinite(trace)):
        raise ValueError(
            f"the SGLD chains diverged: step_size {settings.step_size:g} is too large for "
            f"this loss at n*beta = {nbeta:.4g}"
        )
    gammas = np.array([settings.gamma * f for f in settings.gamma_factors])
    summaries = [summarise(t) for t in trace]
    shared = _shared_reference_error(function, settings, nbeta)
    central = settings.gamma_factors.index(1.0)
    estimate = summaries[central]
    errors = np.array([np.hypot(s.std_error, shared) for s in summaries])
    if estimate.estimate < -_BELOW_ZERO * errors[central]:
        raise NotAMinimumError(
            f"the point is not near a minimum of the loss: the chains found loss below "
            f"L(w*) (estimate {estimate.estimate:.3g} +- {errors[central]:.2g}); it may be a "
            "saddle or a slope"
        )
    elasticity = gamma_elasticity(gammas, np.array([s.estimate for s in summaries]), errors)
    # The stiffest curvature the chains meet: at w*, and where the central chains end.
    visited = jnp.concatenate([function.start[None], jnp.asarray(last[central])])
    curvature = float(jnp.max(function.curvatures(visited)[0]))
    step_bias = step_size_bias(settings.step_size, nbeta, curvature, settings.gamma)
    settled = relaxations(settings.step_size, nbeta, flattest, settings.gamma, settings.burn_in)
    problems = diagnosis(estimate, elasticity, step_bias, settled)
    coords = {
        "gamma": gammas,
        "chain": np.arange(settings.chains),
        "draw": np.arange(settings.steps),
    }
    attrs = {
        "kind": "local_learning_coefficient",
        "estimate": estimate.estimate,
        "std_error": float(errors[central]),
        "trusted": int(not problems),
        "diagnosis": "; ".join(problems) if problems else "trusted",
        "gamma_elasticity": elasticity,
        "step_size_bias": step_bias,
        "burn_in_relaxations": settled,
        "n": n,
        "beta": beta,
        "nbeta": nbeta,
        "loss": function.name,
        "loss_at_attractor": reference,
        "shared_reference_error": shared,
        "attractor": json.dumps(np.asarray(function.start).tolist()),
        "seed": seed if isinstance(seed, int) else "key",
        **settings.describe(),
    }
    if function.compiled is not None:
        attrs = {**provenance(function.compiled, params, {}), **attrs}
    else:
        attrs["versions"] = json.dumps(versions())
    return xr.Dataset(
        {
            "llc": ("gamma", [s.estimate for s in summaries]),
            "llc_std_error": ("gamma", errors),
            "chain_llc": (("gamma", "chain"), trace.mean(axis=2)),
            "trace": (("gamma", "chain", "draw"), trace),
            "distance": (("gamma", "chain", "draw"), distance),
            "ess": ("gamma", [s.ess for s in summaries]),
            "r_hat": ("gamma", [s.r_hat for s in summaries]),
            "drift_z": ("gamma", [s.drift_z for s in summaries]),
        },
        coords=coords,
        attrs=attrs,
    )
