r"""Bayesian calibration of a theory model against logged trajectories, by NUTS."""

from __future__ import annotations

import dataclasses
import json
import time
import warnings
from collections.abc import Mapping, Sequence

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
import xarray as xr
from jaxtyping import Array, ArrayLike, Float
from numpyro.infer import MCMC, NUTS, init_to_median

from ..theory import Model
from ._compile import CompiledModel
from ._integrate import CONVERGED, DIVERGED, UNCONVERGED, SolverSettings, _solve_one, as_compiled
from ._observations import (
    NOISE,
    TIME_OFFSET,
    TIME_SCALE,
    Observations,
    as_observations,
    check_priors,
    initial_name,
)
from ._provenance import versions
from ._trajectories import saved_path
from ._wilson import wilson_interval

with warnings.catch_warnings():
    # ArviZ 0.x announces its 1.0 refactor on import; the pin keeps us on 0.x.
    warnings.simplefilter("ignore", FutureWarning)
    import arviz as az


class _Parametrisation(eqx.Module):
    """How one draw of the unknowns sets the parameters, initial state and clock, and
    which states and observables are compared with the data."""

    compiled: CompiledModel
    settings: SolverSettings = eqx.field(static=True)
    state_columns: np.ndarray
    observable_columns: np.ndarray
    base_params: np.ndarray
    base_state: np.ndarray
    fitted_params: tuple[str, ...] = eqx.field(static=True)
    fitted_states: tuple[str, ...] = eqx.field(static=True)
    noise: float | None = eqx.field(static=True)

    def __check_init__(self):
        assert self.base_params.shape == (len(self.compiled.param_names),)
        assert self.base_state.shape == (len(self.compiled.state_names),)
        assert self.state_columns.shape == self.observable_columns.shape

    def params_and_state(self, draw: Mapping[str, Array]) -> tuple[Array, Array]:
        p = jnp.asarray(self.base_params, self.compiled.dtype)
        for name in self.fitted_params:
            p = p.at[self.compiled.param_names.index(name)].set(draw[name])
        y0 = jnp.asarray(self.base_state, self.compiled.dtype)
        for name in self.fitted_states:
            y0 = y0.at[self.compiled.state_names.index(name)].set(draw[initial_name(name)])
        return p, y0

    def curves(
        self, draw: Mapping[str, Array], times: Float[Array, " T"]
    ) -> tuple[Float[Array, "T k"], Array]:
        """The observed quantities at `times` (measured from the first observation),
        with whether the solve succeeded; the curves are zero where it did not."""
        p, y0 = self.params_and_state(draw)
        clock = draw.get(TIME_SCALE, 1.0) * times + draw.get(TIME_OFFSET, 0.0)
        solution = saved_path(self.compiled, self.settings, y0, clock, p, t0=jnp.zeros(()))
        ys = solution.ys
        observed = jax.vmap(lambda y: self.compiled.observables(y, p))(ys)
        padded_states = jnp.concatenate([ys, jnp.zeros((ys.shape[0], 1), ys.dtype)], axis=1)
        padded_observed = jnp.concatenate([observed, jnp.zeros((ys.shape[0], 1), ys.dtype)], axis=1)
        values = jnp.where(
            self.state_columns >= 0,
            padded_states[:, self.state_columns],
            padded_observed[:, self.observable_columns],
        )
        ok = (solution.result == dfx.RESULTS.successful) & jnp.all(jnp.isfinite(values))
        return jnp.where(ok, values, 0.0), ok

    def numpyro_model(self, priors: Mapping[str, dist.Distribution], observed_times: np.ndarray):
        times = jnp.asarray(observed_times - observed_times[0])

        def model(values=None):
            draw = {name: numpyro.sample(name, prior) for name, prior in priors.items()}
            curves, ok = self.curves(draw, times)
            # A failed or stiff solve makes the draw impossible instead of raising, so
            # NUTS warm-up can wander into bad regions and come back.
            numpyro.factor("solve_failed", jnp.where(ok, 0.0, -jnp.inf))
            scale = draw.get(NOISE, self.noise)
            numpyro.sample("obs", dist.Normal(curves, scale).to_event(2), obs=values)

        return model


def _initial_state(
    compiled: CompiledModel,
    observations: Observations,
    y0: ArrayLike | Mapping[str, float] | None,
    fitted: Sequence[str],
) -> np.ndarray:
    names = compiled.state_names
    if isinstance(y0, Mapping):
        unknown = [k for k in y0 if k not in names]
        if unknown:
            raise ValueError(f"y0 names states the model lacks: {unknown}")
        start = observations.first_state
        state = np.full(len(names), np.nan) if start is None else start.copy()
        for key, value in y0.items():
            state[names.index(key)] = float(value)
    elif y0 is not None:
        state = np.asarray(y0, dtype=float)
        if state.shape != (len(names),):
            raise ValueError(
                f"y0 has shape {state.shape} but the model {compiled.name!r} has "
                f"{len(names)} states"
            )
    elif observations.first_state is not None:
        state = observations.first_state.copy()
    else:
        state = np.full(len(names), np.nan)
    missing = [n for i, n in enumerate(names) if not np.isfinite(state[i]) and n not in fitted]
    if missing:
        raise ValueError(
            f"the initial value of {missing} is unknown: pass y0, observe the whole "
            f"state, or give priors {[initial_name(n) for n in missing]}"
        )
    return np.where(np.isfinite(state), state, 0.0)


@eqx.filter_jit
def _batched_curves(setup: _Parametrisation, draws: dict[str, Array], times: Array):
    return jax.vmap(lambda draw: setup.curves(draw, times))(draws)


@eqx.filter_jit
def _batched_outcomes(setup: _Parametrisation, settings: SolverSettings, draws: dict):
    def one(draw):
        p, y0 = setup.params_and_state(draw)
        y, _, status = _solve_one(setup.compiled, settings, settings.max_steps, y0, 0.0, p)
        return y, status, setup.compiled.predicates(y, p)

    return jax.vmap(one)(draws)


def _flatten(samples: Mapping[str, np.ndarray]) -> dict[str, Array]:
    return {k: jnp.asarray(np.reshape(v, -1)) for k, v in samples.items()}


def _band_dataset(
    setup: _Parametrisation,
    observations: Observations,
    draws: dict[str, Array],
    grid: np.ndarray,
    shape: tuple[int, int],
) -> xr.Dataset:
    curves, ok = _batched_curves(setup, draws, jnp.asarray(grid - observations.times[0]))
    curves = np.where(np.asarray(ok)[:, None, None], np.asarray(curves), np.nan)
    return xr.Dataset(
        {
            name: (("chain", "draw", "prediction_time"), curves[:, :, j].reshape(*shape, -1))
            for j, name in enumerate(observations.names)
        },
        coords={"prediction_time": grid},
    )


def _basin_dataset(
    setup: _Parametrisation,
    samples: Mapping[str, np.ndarray],
    count: int,
    settings: SolverSettings,
    confidence: float,
) -> xr.Dataset:
    draws = _flatten(samples)
    total = next(iter(draws.values())).shape[0]
    keep = np.unique(np.linspace(0, total - 1, min(count, total)).astype(int))
    y, status, holds = _batched_outcomes(setup, settings, {k: v[keep] for k, v in draws.items()})
    y, status, holds = np.asarray(y), np.asarray(status), np.asarray(holds)
    names = list(setup.compiled.predicate_names)
    converged = status == CONVERGED
    counts = [int(np.sum(converged & holds[:, j])) for j in range(len(names))]
    counts += [int(np.sum(status == DIVERGED)), int(np.sum(status == UNCONVERGED))]
    low, high = wilson_interval(np.array(counts), len(keep), confidence)
    return xr.Dataset(
        {
            "count": ("outcome", np.array(counts)),
            "probability": ("outcome", np.array(counts) / len(keep)),
            "low": ("outcome", low),
            "high": ("outcome", high),
            "final_state": (("basin_draw", "state"), y),
            "status": ("basin_draw", status),
            "holds": (("basin_draw", "predicate"), holds.reshape(len(keep), len(names))),
        },
        coords={
            "outcome": [*names, "DIVERGED", "UNCONVERGED"],
            "predicate": names,
            "state": list(setup.compiled.state_names),
            "basin_draw": keep,
        },
        attrs={"draws": len(keep), "confidence": confidence, "t1": settings.t1},
    )


def _diagnostics(idata: az.InferenceData, seconds: float) -> xr.Dataset:
    r_hat, bulk, tail = (
        az.rhat(idata),
        az.ess(idata, method="bulk"),
        az.ess(idata, method="tail"),
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
    the solver, with gradients by diffrax's checkpointed adjoint. A solve that fails
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
    - `num_warmup`, `num_samples`, `num_chains`: NUTS settings; chains run one after
      the other.
    - `seed`: the seed; the same seed gives the same draws.
    - `prior_draws`: draws for the prior band.
    - `prediction_points`: the time grid of the predictive bands.
    - `basin_draws`: posterior draws pushed to their attractor.
    - `basin_settings`: how those draws are integrated (by default until steady
      state, up to 20 times the observed span or 200, whichever is longer).
    - `confidence`: the level of the intervals on basin probabilities.
    - `settings`: solver settings of the fit.
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

    - `ValueError`: observation times that are not increasing, NaN in the data,
      data with a different number of states from the model, a prior naming
      something the model lacks, no noise prior or value, an unknown initial state,
      or bad sampler settings.
    - `TypeError`: observations that are not a Dataset, or a prior that is not a
      NumPyro distribution.
    """
    compiled = as_compiled(model)
    settings = settings or SolverSettings()
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
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if NOISE not in priors and not (noise is not None and noise > 0):
        raise ValueError("give a prior for 'noise' or a positive noise=...")
    fitted_states = tuple(s for s in compiled.state_names if initial_name(s) in priors)
    fitted_params = tuple(p for p in compiled.param_names if p in priors)
    fixed = dict(params or {})
    overlap = sorted(set(fixed) & set(fitted_params))
    if overlap:
        raise ValueError(f"parameters {overlap} are both fixed in params and fitted")
    setup = _Parametrisation(
        compiled=compiled,
        settings=settings,
        state_columns=obs.state_columns,
        observable_columns=obs.observable_columns,
        base_params=np.asarray(compiled.param_vector(fixed)),
        base_state=_initial_state(compiled, obs, y0, fitted_states),
        fitted_params=fitted_params,
        fitted_states=fitted_states,
        noise=None if NOISE in priors else float(noise),
    )
    key = jax.random.PRNGKey(seed)
    mcmc_key, prior_key = jax.random.split(key)
    with jax.default_device(jax.devices("cpu")[0]):
        mcmc = MCMC(
            NUTS(
                setup.numpyro_model(priors, obs.times),
                init_strategy=init_to_median(num_samples=15),
            ),
            num_warmup=num_warmup,
            num_samples=num_samples,
            num_chains=num_chains,
            chain_method="sequential",
            progress_bar=progress,
        )
        started = time.perf_counter()
        mcmc.run(mcmc_key, values=jnp.asarray(obs.values))
        seconds = time.perf_counter() - started
        samples = {k: np.asarray(v) for k, v in mcmc.get_samples(group_by_chain=True).items()}
        diverging = np.asarray(mcmc.get_extra_fields(group_by_chain=True)["diverging"])
        prior_keys = jax.random.split(prior_key, len(priors))
        prior_samples = {
            name: np.asarray(prior.sample(k, (prior_draws,)))
            for k, (name, prior) in zip(prior_keys, priors.items())
        }
        grid = np.linspace(obs.times[0], obs.times[-1], prediction_points)
        posterior_band = _band_dataset(
            setup, obs, _flatten(samples), grid, (num_chains, num_samples)
        )
        prior_band = _band_dataset(setup, obs, _flatten(prior_samples), grid, (1, prior_draws))
        idata = az.from_dict(
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
            span = float(np.max(np.abs(posterior_band["prediction_time"].values))) or 1.0
            default = dataclasses.replace(
                settings, t1=max(SolverSettings().t1, 20 * span), max_steps=16384
            )
            groups["basins"] = _basin_dataset(
                setup, samples, basin_draws, basin_settings or default, confidence
            )
        idata.add_groups(groups)
    idata.posterior.attrs |= {
        "model": compiled.name,
        "observed": json.dumps(list(obs.names)),
        "priors": json.dumps({k: repr(v) for k, v in priors.items()}),
        "seed": seed,
        "num_warmup": num_warmup,
        "chain_method": "sequential",
        "versions": json.dumps(versions()),
    }
    return idata
