"""Rate-induced tipping: the slowest ramp of a parameter that an attractor fails to
track (Ashwin, Wieczorek, Vitolo & Cox 2012)."""

from __future__ import annotations

import math
from collections.abc import Mapping

import diffrax as dfx
import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr
from jaxtyping import Array, ArrayLike, Float

from ...theory import MAP, Model
from ...theory._checks import check_positive
from ...theory._ramp import LINEAR, Ramp
from .._engine._compile import CompiledModel
from .._engine._integrate import as_compiled
from .._engine._provenance import provenance
from .._engine._settings_argument import settings_argument
from .._engine._solver_settings import SolverSettings

# Rates tried at once in each round of the search.
_SECTIONS = 16
# Parameter steps of the quasi-static continuation, and Newton iterations per step.
_CONTINUATION_STEPS = 400
_NEWTON_ITERATIONS = 30
# Solver steps allowed for one ramp (a slow ramp is long, though its steps are large).
_MOST_STEPS = 200_000


def _ramped(ramp: Ramp, index: int):
    """The parameter vector at time `t` under `ramp` at rate `rate`."""

    def parameters(t, p, rate):
        size = ramp.size
        if ramp.shape == LINEAR:
            value = ramp.start + math.copysign(1.0, size) * jnp.clip(rate * t, 0.0, abs(size))
        else:
            value = ramp.start + size / 2 * (1 + jnp.tanh(abs(size) * rate * t / 2))
        return p.at[index].set(value)

    return parameters


def _followed_branch(
    compiled: CompiledModel, index: int, y0: Float[Array, " n"], p: Float[Array, " m"], ramp: Ramp
) -> np.ndarray:
    """The stable fixed point continued from `y0` (Newton's method at each of
    `_CONTINUATION_STEPS` values of the parameter) to the ramp's end value.

    **Raises:**

    - `ValueError`: `y0` is not near a stable fixed point, or the branch folds or
      loses stability before the ramp's end: the attractor is then lost to a
      bifurcation, whatever the rate.
    """

    @jax.jit
    def newton(y, value):
        q = p.at[index].set(value)

        def iterate(y, _):
            step = jnp.linalg.solve(compiled.jacobian(0.0, y, q), compiled.vector_field(0.0, y, q))
            return y - step, None

        y = jax.lax.scan(iterate, y, None, length=_NEWTON_ITERATIONS)[0]
        residual = jnp.max(jnp.abs(compiled.vector_field(0.0, y, q)))
        return y, residual, jnp.max(jnp.linalg.eigvals(compiled.jacobian(0.0, y, q)).real)

    y, last_move = y0, None
    for value in np.linspace(ramp.start, ramp.end, _CONTINUATION_STEPS + 1):
        moved, residual, growth = newton(y, value)
        scale = 1 + float(jnp.max(jnp.abs(moved)))
        move = float(jnp.max(jnp.abs(moved - y)))
        lost = not (float(residual) < 1e-9 * scale and float(growth) < 0)
        # On a smooth branch equal parameter steps move the point alike; Newton's
        # method thrown to another branch at a fold moves it much further.
        jumped = last_move is not None and move > 10 * last_move + 1e-6 * scale
        if value == ramp.start and lost:
            raise ValueError("the attractor given is not near a stable fixed point")
        if lost or jumped:
            raise ValueError(
                f"the attractor is lost to a bifurcation near {ramp.param} = {value:.6g}, "
                "before the ramp ends, so it tips at any rate: rate-induced tipping needs a "
                "branch that persists"
            )
        y, last_move = moved, (None if value == ramp.start else move)
    return np.asarray(y)


def _end_states(
    compiled: CompiledModel,
    ramp: Ramp,
    index: int,
    y0: Float[Array, " n"],
    p: Float[Array, " m"],
    settle: float,
    settings: SolverSettings,
):
    """A function of `_SECTIONS` rates, compiled once: where a run from `y0` is,
    having settled for `settle` at the start value, then ramped at each rate, then
    settled for `settle` at the end value; `inf` where the run passed the divergence
    bound."""
    parameters = _ramped(ramp, index)
    reference = ramp.with_rate(1.0).span()

    def field(t, y, args):
        p, rate = args
        return compiled.vector_field(t, y, parameters(t, p, rate))

    def run(rate):
        # A ramp's span scales as 1/rate; before and after it the parameter is flat.
        t0, t1 = reference[0] / rate - settle, reference[1] / rate + settle
        solution = dfx.diffeqsolve(
            dfx.ODETerm(field),
            settings.solver,
            t0,
            t1,
            None,
            y0,
            (p, rate),
            stepsize_controller=dfx.PIDController(rtol=settings.rtol, atol=settings.atol),
            saveat=dfx.SaveAt(t1=True),
            max_steps=_MOST_STEPS,
            event=dfx.Event(
                lambda t, y, args, **kwargs: jnp.max(jnp.abs(y)) > settings.divergence_bound
            ),
            throw=False,
        )
        y = solution.ys[-1]
        gone = (solution.result == dfx.RESULTS.event_occurred) | ~jnp.all(jnp.isfinite(y))
        failed = (solution.result != dfx.RESULTS.successful) & ~gone
        return jnp.where(gone, jnp.inf, y), failed

    compiled_runs = jax.jit(jax.vmap(run))

    def ends(rates: np.ndarray) -> np.ndarray:
        padded = np.resize(rates, _SECTIONS)
        states, failed = (np.asarray(a)[: len(rates)] for a in compiled_runs(jnp.asarray(padded)))
        if np.any(failed):
            raise ValueError(
                f"the solver stopped before the end of a ramp (at rates "
                f"{rates[failed].tolist()}); loosen rtol and atol or narrow the rates"
            )
        return states

    return ends


def critical_rate(
    model: Model | CompiledModel,
    ramp: Ramp,
    attractor: Float[ArrayLike, " n"],
    *,
    params: Mapping[str, float] | None = None,
    rates: tuple[float, float] = (1e-3, 1e3),
    settle: float = 100.0,
    rate_tol: float = 1e-6,
    track_tol: float = 1e-3,
    settings: SolverSettings | None = None,
) -> xr.Dataset:
    r"""The critical rate of a parameter ramp: the slowest rate at which a trajectory
    that starts on an attractor fails to track it (P. Ashwin, S. Wieczorek, R. Vitolo
    and P. Cox, "Tipping points in open systems", Phil. Trans. R. Soc. A 370, 1166,
    2012).

    The attractor, a stable fixed point, is first continued along the parameter by
    Newton's method from the ramp's start value to its end value; a branch that folds
    or loses stability on the way is refused, since that attractor is lost to a
    bifurcation at any rate. The model then runs from the attractor, settles for
    `settle` at the start value, follows `ramp` at rate $r$, and settles for `settle`
    at the end value. It *tracks* when it ends within `track_tol` (relative) of the
    continued fixed point; otherwise it tipped (diverging past the solver's
    `divergence_bound` counts as tipping). Tracking at
    the slowest and tipping at some faster rate, the critical rate is found by
    sections on a log scale, sixteen rates at once, to relative width `rate_tol`.

    For $\dot x = (x + \lambda)^2 - 1$ under the tanh ramp from 0 to $\lambda_{\max}$,
    the straight line $x + \lambda = -1 + 2\lambda/\lambda_{\max}$ joins the two
    saddles of the system in $(x + \lambda, \lambda)$ exactly at $r_c =
    4/(\lambda_{\max}(\lambda_{\max} - 2))$, and no rate tips for $\lambda_{\max} \le
    2$; under an unbounded linear ramp, $r_c = 1$.

    **Arguments:**

    - `model`: a flow.
    - `ramp`: a [`basinlab.Ramp`][] of one of its parameters; its own rate is ignored.
    - `attractor`: the stable fixed point at the ramp's start value, or a state near
      it (Newton's method refines it).
    - `params`: overrides of the other parameters.
    - `rates`: the slowest and fastest rates searched.
    - `settle`: the time run at the start value before the ramp and at the end value
      after it.
    - `rate_tol`: the relative width of the final bracket.
    - `track_tol`: how close (relative) to the tracked end state tracking ends.
    - `settings`: the solver's [`basinlab.SolverSettings`][].

    **Returns:**

    An `xarray.Dataset` with `critical_rate` (the bracket's geometric mean; `inf` when
    even the fastest rate tracks), `rate_low` (tracks) and `rate_high` (tips), the
    rates tried with whether each `tipped`, and the `tracked_state`: the continued
    fixed point at the end value.

    **Raises:**

    - `ValueError`: a map, an unknown parameter, `attractor` of the wrong length,
      rates not `0 < slowest < fastest`, a length or tolerance that is not positive,
      an attractor that is not a stable fixed point or whose branch is lost to a
      bifurcation along the ramp, tipping even at the slowest rate, or a solver that
      stops early.
    """
    compiled = as_compiled(model)
    if compiled.kind == MAP:
        raise ValueError("critical_rate needs a flow; a map has no rate of change")
    if not isinstance(ramp, Ramp):
        raise TypeError(f"ramp must be a basinlab.Ramp, got {type(ramp).__name__}")
    if ramp.param not in compiled.param_names:
        raise ValueError(
            f"the ramp's parameter {ramp.param!r} is not one of {list(compiled.param_names)}"
        )
    settings = settings_argument(settings, SolverSettings)
    for value, name in ((settle, "settle"), (rate_tol, "rate_tol"), (track_tol, "track_tol")):
        check_positive(value, name)
    slowest, fastest = (check_positive(r, "rates") for r in rates)
    if not slowest < fastest:
        raise ValueError(f"rates must be (slowest, fastest) with slowest < fastest, got {rates}")
    n = len(compiled.state_names)
    y0 = np.asarray(attractor, float).reshape(-1)
    if y0.shape != (n,) or not np.all(np.isfinite(y0)):
        raise ValueError(
            f"attractor must be {n} finite numbers, got {np.asarray(attractor).tolist()}"
        )
    index = list(compiled.param_names).index(ramp.param)
    p = compiled.param_vector(params).at[index].set(ramp.start)
    y0 = jnp.asarray(y0, compiled.dtype)

    ends = _end_states(compiled, ramp, index, y0, p, settle, settings)
    tracked = _followed_branch(compiled, index, y0, p, ramp)
    slowest_end, fastest_end = ends(np.array([slowest, fastest]))
    scale = 1 + np.max(np.abs(tracked))

    def tipped(end: np.ndarray) -> np.ndarray:
        return ~np.all(np.abs(end - tracked) < track_tol * scale, axis=-1)

    if tipped(slowest_end):
        raise ValueError(f"the run tips even at the slowest rate {slowest}: start the rates slower")
    tried, verdicts = [slowest], [False]
    low, high = slowest, fastest
    last = tipped(fastest_end)
    tried.append(fastest)
    verdicts.append(bool(last))
    if not last:
        low, high = fastest, math.inf
    while math.isfinite(high) and high / low - 1 > rate_tol:
        section = np.geomspace(low, high, _SECTIONS + 2)[1:-1]
        verdict = tipped(ends(section))
        tried.extend(section.tolist())
        verdicts.extend(verdict.tolist())
        first = int(np.argmax(verdict)) if np.any(verdict) else _SECTIONS
        low = section[first - 1] if first > 0 else low
        high = section[first] if first < _SECTIONS else high
    order = np.argsort(tried)
    return xr.Dataset(
        {
            "critical_rate": ((), math.sqrt(low * high) if math.isfinite(high) else math.inf),
            "rate_low": ((), low),
            "rate_high": ((), high),
            "rate": ("tried", np.array(tried)[order]),
            "tipped": ("tried", np.array(verdicts)[order]),
            "tracked_state": ("state", tracked),
        },
        coords={"state": list(compiled.state_names)},
        attrs=provenance(compiled, params, settings.describe())
        | {
            "kind": "critical_rate",
            "ramp": repr(ramp),
            "settle": settle,
            "track_tol": track_tol,
        },
    )
