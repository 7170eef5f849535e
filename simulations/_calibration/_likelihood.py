"""The likelihood of a calibration: how a draw of the unknowns sets a model's
parameters, initial state and clock, and the curves it predicts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from jaxtyping import Array, ArrayLike, Float

from .._engine._compile import CompiledModel
from .._engine._solver_settings import SolverSettings
from .._engine._trajectories import saved_path
from ._observations import NOISE, TIME_OFFSET, TIME_SCALE, Observations, initial_name


class Parametrisation(eqx.Module):
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
    # Gradients by forward mode: one tangent per unknown through the solve. With few
    # unknowns it costs about what the checkpointed adjoint does, and unlike that
    # adjoint it can be traced under `pmap`, so chains can run in parallel.
    forward_mode: bool = eqx.field(static=True, default=False)

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
        solution = saved_path(
            self.compiled,
            self.settings,
            y0,
            clock,
            p,
            t0=jnp.zeros(()),
            adjoint=dfx.ForwardMode() if self.forward_mode else None,
        )
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

    def arguments(self, observed_times: np.ndarray) -> tuple[Array, Array, Array]:
        """The arguments of the `numpyro_model` model: the observation times measured
        from the first, the fixed parameters and the initial state."""
        times = np.asarray(observed_times, dtype=float)
        return (
            jnp.asarray(times - times[0]),
            jnp.asarray(self.base_params),
            jnp.asarray(self.base_state),
        )

    def numpyro_model(self, priors: Mapping[str, dist.Distribution]):
        """The NumPyro model `model(times, base_params, base_state, values=None)`, called
        with `arguments(...)` and the observed `values`.

        What depends on the data enters as arguments rather than as constants of the
        compiled sampler, so one compilation serves every data set of the same shapes
        (with `jit_model_args=True`, and through JAX's persistent cache across
        processes)."""

        def model(times, base_params, base_state, values=None):
            setup = eqx.tree_at(
                lambda s: (s.base_params, s.base_state), self, (base_params, base_state)
            )
            draw = {name: numpyro.sample(name, prior) for name, prior in priors.items()}
            curves, ok = _compiled_curves(setup, draw, times)
            # A failed or stiff solve makes the draw impossible instead of raising, so
            # NUTS warm-up can wander into bad regions and come back.
            numpyro.factor("solve_failed", jnp.where(ok, 0.0, -jnp.inf))
            scale = draw.get(NOISE, self.noise)
            numpyro.sample("obs", dist.Normal(curves, scale).to_event(2), obs=values)

        return model


# NumPyro runs the model outside its compiled sampler too (to find sites and a valid
# start), where an uncompiled ODE solve would be traced op by op.
@eqx.filter_jit
def _compiled_curves(setup: Parametrisation, draw: dict[str, Array], times: Array):
    return setup.curves(draw, times)


def initial_state(
    compiled: CompiledModel,
    observations: Observations,
    y0: ArrayLike | Mapping[str, float] | None,
    fitted: Sequence[str],
) -> np.ndarray:
    """The initial state of the fit: `y0` (array, or a mapping overriding the observed
    first state), or the observed first state; states with a prior may be left out.

    **Raises:**

    - `ValueError`: a `y0` of the wrong shape or naming unknown states, or a state
      whose initial value is neither given, observed nor fitted.
    """
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
def batched_curves(setup: Parametrisation, draws: dict[str, Array], times: Array):
    return jax.vmap(lambda draw: setup.curves(draw, times))(draws)


def flatten(samples: Mapping[str, np.ndarray]) -> dict[str, Array]:
    """Draws grouped by chain (or any shape) as one flat batch per name."""
    return {k: jnp.asarray(np.reshape(v, -1)) for k, v in samples.items()}
