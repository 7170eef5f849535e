r"""Bayesian calibration of a theory model against logged trajectories, by NUTS."""

from __future__ import annotations

import dataclasses
import json
import time
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import jax
import jax.numpy as jnp
import numpy as np
import numpyro.distributions as dist
import xarray as xr
from jaxtyping import ArrayLike
from numpyro.infer import MCMC, NUTS, init_to_median

from ...theory import MAP, Model
from ...theory._checks import check_count, check_seed
from .._engine._compile import CompiledModel
from .._engine._integrate import as_compiled
from .._engine._provenance import versions
from .._engine._settings_argument import settings_argument
from .._engine._solver_settings import SolverSettings
from ._likelihood import Parametrisation, batched_curves, flatten, initial_state
from ._observations import NOISE, Observations, as_observations, check_priors, initial_name
from ._posterior_basins import posterior_basins

# The most unknowns for which gradients are taken in forward mode by default.
_FORWARD_MODE_UNKNOWNS = 4

if TYPE_CHECKING:
    import arviz as az


def _arviz():
    # Imported on use: it adds a second and a half to every `import basinlab`.
    with warnings.catch_warnings():
        # ArviZ 0.x announces its 1.0 refactor on import; the pin keeps us on 0.x.
        warnings.simplefilter("ignore", FutureWarning)
        import arviz

    return arviz


def _band_datasets(
    setup: Parametrisation,
    observations: Observations,
    grid: np.ndarray,
    *groups: tuple[dict[str, np.ndarray], tuple[int, int]],
) -> list[xr.Dataset]:
    """The predicted curves on `grid` of each group of draws (given with its
    `(chain, draw)` shape), from one batched solve, so one compilation serves all."""
    sizes = [int(np.prod(shape)) for _, shape in groups]
    flat = [flatten(d) for d, _ in groups]
    draws = {name: jnp.concatenate([f[name] for f in flat]) for name in flat[0]}
    curves, ok = batched_curves(setup, draws, jnp.asarray(grid - observations.times[0]))
    curves = np.where(np.asarray(ok)[:, None, None], np.asarray(curves), np.nan)
    return [
        xr.Dataset(
            {
                name: (("chain", "draw", "prediction_time"), part[:, :, j].reshape(*shape, -1))
                for j, name in enumerate(observations.names)
            },
            coords={"prediction_time": grid},
        )
        for part, (_, shape) in zip(np.split(curves, np.cumsum(sizes)[:-1]), groups)
    ]


def _diagnostics(idata: az.InferenceData, seconds: float) -> xr.Dataset:
    arviz = _arviz()
    r_hat, bulk, tail = (
        arviz.rhat(idata),
        arviz.ess(idata, method="bulk"),
        arviz.ess(idata, method="tail"),
    )
    names = list(idata.posterior.data_vars)
    bulk_values = np.array([float(bulk[n]) for n in names])
    divergences = int(idata.sample_stats["diverging"].values.sum())
    return xr.Dataset(
        {
            "r_hat": ("parameter", np.array([float(r_hat[n]) for n in names])),
            "ess_bulk": ("parameter", bulk_values),
            "ess_tail": ("parameter", np.array([float(tail[n]) for n in names])),
        },
        coords={"parameter": names},
        attrs={
            "divergences": divergences,
            "seconds": seconds,
            "min_ess_per_second": float(bulk_values.min() / seconds),
        },
    )


def calibrate(
    model: Model | CompiledModel,
    observations: xr.Dataset,
    priors: Mapping[str, dist.Distribution],
    *,
    observed: Sequence[str] | None = None,
    params: Mapping[str, float] | None = None,
    y0: ArrayLike | Mapping[str, float] | None = None,
    noise: float | None = None,
    num_warmup: int = 1000,
    num_samples: int = 1000,
    num_chains: int = 2,
    seed: int = 0,
    prior_draws: int = 200,
    prediction_points: int = 200,
    basin_draws: int = 400,
    basin_settings: SolverSettings | None = None,
    confidence: float = 0.9,
    settings: SolverSettings | None = None,
    forward_mode: bool | None = None,
    progress: bool = True,
) -> az.InferenceData:
    r"""Fit unknown parameters of a theory model to logged trajectories with NUTS.

    The observed quantities $z_j(t_i)$ (states or observables of the model) are
    modelled as the ODE solution plus Gaussian noise,

    $$z_j(t_i) \sim \mathcal N\bigl(h_j(y(s_i;\theta, y_0);\theta),\ \sigma^2\bigr),
      \qquad s_i = c\,(t_i - t_1) + t_0 ,$$

    where $y$ solves $\dot y = f(y;\theta)$ from $y(0) = y_0$ by diffrax, $c$ is
    `time_scale` (an effective learning-rate scale, 1 unless fitted) and $t_0 \ge 0$
    is `time_offset` (how long before the first observation the run started, 0
    unless fitted). The unknowns are any of the model's parameters, initial values
    `"x(0)"`, `"noise"` ($\sigma$), `"time_offset"` and `"time_scale"`, each with a
    NumPyro prior. The posterior is sampled by NUTS (Hoffman & Gelman 2014) through
    the solver, with gradients by forward mode (one tangent per unknown through the
    solve) when there are few unknowns and by diffrax's checkpointed adjoint
    otherwise. A solve that fails
    (too many steps, a stiff region visited in warm-up) gives the draw a
    log-likelihood of $-\infty$ instead of raising. Inference runs on the CPU:
    single small ODE fits are slower on GPUs.

    **Arguments:**

    - `model`: a [`basinlab.Model`][] or a compiled one.
    - `observations`: an `xarray.Dataset` over `time`, with variables named after the
      model's states or observables, or `y` over `(time, state)`; see
      [`basinlab.simulations.as_observations`][]. A real training run qualifies.
    - `priors`: name → scalar NumPyro distribution.
    - `observed`: the names to fit; every state and observable present by default.
      One noise level is shared, so fit quantities of similar scale together.
    - `params`: fixed values of parameters that are not fitted.
    - `y0`: the initial state (array, or a mapping of state names); by default the
      observed state at the first time.
    - `noise`: a fixed $\sigma$ when there is no `"noise"` prior.
    - `num_warmup`, `num_samples`, `num_chains`: NUTS settings. Chains run in
      parallel when JAX has a CPU device for each (start Python with
      `XLA_FLAGS=--xla_force_host_platform_device_count=K`) and gradients are in
      forward mode, else one after the other.
    - `seed`: the seed; the same seed gives the same draws.
    - `prior_draws`: draws for the prior band.
    - `prediction_points`: the time grid of the predictive bands.
    - `basin_draws`: posterior draws pushed to their attractor.
    - `basin_settings`: how those draws are integrated (by default until steady
      state, up to 20 times the observed span or 200, whichever is longer, in at
      most 16384 steps).
    - `confidence`: the level of the intervals on basin probabilities.
    - `settings`: solver settings of the fit.
    - `forward_mode`: differentiate the solve in forward mode (`True`) or by the
      checkpointed adjoint (`False`); by default forward mode for at most 4
      unknowns, where it costs about the same and lets the chains run in parallel.
    - `progress`: show NUTS progress bars.

    **Returns:**

    An `arviz.InferenceData` with the groups `posterior`, `sample_stats` (with
    `diverging`), `observed_data`, `prior`; `posterior_predictive` and
    `prior_predictive` (noise-free curves of each observed quantity on
    `prediction_time`, for bands); `diagnostics` (`r_hat`, `ess_bulk`, `ess_tail`
    per parameter, and attrs `divergences`, `seconds`, `min_ess_per_second`); and,
    for models with predicates, `basins`: the posterior probability that the run
    ends where each predicate holds (the basin labelling of the attractor each
    posterior draw reaches), with Wilson intervals over the draws, and the
    probabilities of `DIVERGED` and `UNCONVERGED`.

    **Raises:**

    - `ValueError`: a map model, observation times that are not increasing, NaN in the data,
      data with a different number of states from the model, a prior naming
      something the model lacks, no noise prior or value, an unknown initial state,
      bad sampler settings, or a seed outside $[0, 2^{63})$.
    - `TypeError`: observations that are not a Dataset, a prior that is not a
      NumPyro distribution, a seed that is not an integer, or a `forward_mode`
      that is not a bool or `None`.
    """
    compiled = as_compiled(model)
    if compiled.kind == MAP:
        raise ValueError(
            f"model {compiled.name!r} is a map; calibration fits flows through their ODE solve"
        )
    settings = settings_argument(settings, SolverSettings)
    obs = as_observations(compiled, observations, observed)
    check_priors(compiled, priors)
    for name, value in (
        ("num_warmup", num_warmup),
        ("num_samples", num_samples),
        ("num_chains", num_chains),
        ("prior_draws", prior_draws),
        ("prediction_points", prediction_points),
        ("basin_draws", basin_draws),
    ):
        check_count(value, name)
    seed = check_seed(seed)
    if forward_mode is not None and not isinstance(forward_mode, bool):
        raise TypeError(f"forward_mode must be True, False or None, got {forward_mode!r}")
    if NOISE not in priors and not (noise is not None and noise > 0):
        raise ValueError("give a prior for 'noise' or a positive noise=...")
    fitted_states = tuple(s for s in compiled.state_names if initial_name(s) in priors)
    fitted_params = tuple(p for p in compiled.param_names if p in priors)
    fixed = dict(params or {})
    overlap = sorted(set(fixed) & set(fitted_params))
    if overlap:
        raise ValueError(f"parameters {overlap} are both fixed in params and fitted")
    setup = Parametrisation(
        compiled=compiled,
        settings=settings,
        state_columns=obs.state_columns,
        observable_columns=obs.observable_columns,
        base_params=np.asarray(compiled.param_vector(fixed)),
        base_state=initial_state(compiled, obs, y0, fitted_states),
        fitted_params=fitted_params,
        fitted_states=fitted_states,
        noise=None if NOISE in priors else float(noise),
        forward_mode=(
            len(priors) <= _FORWARD_MODE_UNKNOWNS if forward_mode is None else forward_mode
        ),
    )
    # Reverse mode's checkpointed loop cannot be traced under `pmap`, so chains in
    # parallel need forward mode.
    parallel = setup.forward_mode and len(jax.devices("cpu")) >= num_chains > 1
    chain_method = "parallel" if parallel else "sequential"
    key = jax.random.PRNGKey(seed)
    mcmc_key, prior_key = jax.random.split(key)
    with jax.default_device(jax.devices("cpu")[0]):
        mcmc = MCMC(
            NUTS(
                setup.numpyro_model(priors),
                init_strategy=init_to_median(num_samples=15),
                forward_mode_differentiation=setup.forward_mode,
            ),
            num_warmup=num_warmup,
            num_samples=num_samples,
            num_chains=num_chains,
            chain_method=chain_method,
            progress_bar=progress,
            jit_model_args=True,
        )
        started = time.perf_counter()
        mcmc.run(mcmc_key, *setup.arguments(obs.times), values=jnp.asarray(obs.values))
        # Parallel chains return before they finish.
        by_chain = jax.block_until_ready(mcmc.get_samples(group_by_chain=True))
        seconds = time.perf_counter() - started
        samples = {k: np.asarray(v) for k, v in by_chain.items()}
        diverging = np.asarray(mcmc.get_extra_fields(group_by_chain=True)["diverging"])
        prior_keys = jax.random.split(prior_key, len(priors))
        prior_samples = {
            name: np.asarray(prior.sample(k, (prior_draws,)))
            for k, (name, prior) in zip(prior_keys, priors.items())
        }
        grid = np.linspace(obs.times[0], obs.times[-1], prediction_points)
        posterior_band, prior_band = _band_datasets(
            setup,
            obs,
            grid,
            (samples, (num_chains, num_samples)),
            (prior_samples, (1, prior_draws)),
        )
        idata = _arviz().from_dict(
            posterior=samples,
            sample_stats={"diverging": diverging},
            prior={k: v[None] for k, v in prior_samples.items()},
            observed_data={n: obs.values[:, j] for j, n in enumerate(obs.names)},
            coords={"time": obs.times},
            dims={n: ["time"] for n in obs.names},
        )
        groups = {
            "posterior_predictive": posterior_band,
            "prior_predictive": prior_band,
            "diagnostics": _diagnostics(idata, seconds),
        }
        if compiled.predicate_names:
            span = float(obs.times[-1] - obs.times[0])
            default = dataclasses.replace(
                settings, t1=max(SolverSettings().t1, 20 * span), max_steps=16384
            )
            groups["basins"] = posterior_basins(
                setup, samples, basin_draws, basin_settings or default, confidence
            )
        idata.add_groups(groups)
    idata.posterior.attrs |= {
        "model": compiled.name,
        "observed": json.dumps(list(obs.names)),
        "priors": json.dumps({k: repr(v) for k, v in priors.items()}),
        "seed": seed,
        "num_warmup": num_warmup,
        "chain_method": chain_method,
        "forward_mode": int(setup.forward_mode),
        "versions": json.dumps(versions()),
    }
    return idata
