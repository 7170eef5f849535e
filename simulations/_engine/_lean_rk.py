"""A lean adaptive Runge–Kutta kernel for ensembles: one fused loop whose lanes are
refilled as their trajectories stop."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Bool, Float, Int


def check_integral_controller(controller: dfx.PIDController) -> dfx.PIDController:
    """The controller itself, if the lean kernel reproduces it: an integral controller
    (diffrax's default coefficients $p = d = 0$, $i = 1$) without step bounds, a
    custom norm or an error order of its own.

    **Raises:**

    - `ValueError`: the lean kernel would step differently; it names the setting.
    """
    if not isinstance(controller, dfx.PIDController):
        raise ValueError(f"the lean kernel needs a diffrax.PIDController, got {controller!r}")
    plain = dfx.PIDController(rtol=controller.rtol, atol=controller.atol)
    for name in ("pcoeff", "icoeff", "dcoeff", "dtmin", "dtmax", "norm", "error_order"):
        if getattr(controller, name) != getattr(plain, name):
            raise ValueError(f"the lean kernel keeps diffrax's default {name}")
    return controller


class LeanTableau(eqx.Module):
    r"""The Butcher tableau of an explicit embedded Runge–Kutta pair, as constants.

    Taken from a diffrax solver's own `tableau`, so the coefficients are those of the
    well-kept library (Tsitouras 2011 for `Tsit5`, Dormand and Prince 1980 for
    `Dopri5`, Bogacki and Shampine 1989 for `Bosh3`, ...).

    **Fields:**

    - `a`: the strictly lower-triangular stage matrix, one tuple per stage after the
      first.
    - `b`: the weights of the solution.
    - `e`: the weights of the error estimate.
    - `c`: the stage times, the first (0) included.
    - `fsal`: whether the last stage is the field at the new state (first same as
      last), so the next step's first stage and the stopping test come for free.
    - `error_order`: the order of the error estimate as diffrax's controller uses it.
    """

    a: tuple[tuple[float, ...], ...] = eqx.field(static=True)
    b: tuple[float, ...] = eqx.field(static=True)
    e: tuple[float, ...] = eqx.field(static=True)
    c: tuple[float, ...] = eqx.field(static=True)
    fsal: bool = eqx.field(static=True)
    error_order: float = eqx.field(static=True)

    def __check_init__(self):
        stages = len(self.b)
        assert len(self.e) == stages and len(self.c) == stages
        assert len(self.a) == stages - 1
        assert all(len(row) == i + 1 for i, row in enumerate(self.a))
        assert self.c[0] == 0 and self.error_order > 0


def lean_tableau(solver: dfx.AbstractSolver) -> LeanTableau | None:
    """The lean tableau of an explicit Runge–Kutta solver, or `None` for any other
    solver (implicit, stochastic, or without an error estimate), which diffrax keeps.

    **Arguments:**

    - `solver`: a diffrax solver.

    **Returns:**

    A [`LeanTableau`][], or `None`.
    """
    if not isinstance(solver, dfx.AbstractERK):
        return None
    tableau = getattr(type(solver), "tableau", None)
    if not isinstance(tableau, dfx.ButcherTableau) or tableau.b_error is None:
        return None
    term = dfx.ODETerm(lambda t, y, args: y)
    error_order = solver.error_order(term)
    if error_order is None:
        return None
    return LeanTableau(
        a=tuple(tuple(float(v) for v in row) for row in tableau.a_lower),
        b=tuple(float(v) for v in tableau.b_sol),
        e=tuple(float(v) for v in tableau.b_error),
        c=(0.0, *(float(v) for v in tableau.c)),
        fsal=bool(tableau.fsal),
        error_order=float(error_order),
    )


def _combine(
    y: Float[Array, "batch n"],
    h: Float[Array, " batch"],
    weights: tuple[float, ...],
    stages: list[Float[Array, "batch n"]],
) -> Float[Array, "batch n"]:
    """`y + h Σ w_i k_i`, skipping the zero weights (a tableau has many)."""
    total = None
    for weight, stage in zip(weights, stages):
        if weight != 0:
            term = weight * stage
            total = term if total is None else total + term
    return y if total is None else y + h * total


class _Lanes(NamedTuple):
    """What each lane carries: its trajectory's state, time, next step, field at the
    state (the next step's first stage), status and steps taken; which start it
    holds and whether it holds one; and that start's own arguments."""

    y: Float[Array, "n lanes"]
    t: Float[Array, " lanes"]
    dt: Float[Array, " lanes"]
    k_first: Float[Array, "n lanes"]
    status: Int[Array, " lanes"]
    taken: Int[Array, " lanes"]
    which: Int[Array, " lanes"]
    occupied: Bool[Array, " lanes"]
    args: Float[Array, "k lanes"]


def lean_ensemble(
    field: Callable[[Float[Array, "n lanes"], Float[Array, "k lanes"]], Float[Array, "n lanes"]],
    tableau: LeanTableau,
    stop: Callable[[Float[Array, "n lanes"], Float[Array, "n lanes"]], Int[Array, " lanes"]],
    *,
    running: int,
    at_end: int,
    t1: float,
    controller: dfx.PIDController,
    max_steps: int,
    lanes: int,
    refill_every: int,
    y0s: Float[Array, "starts n"],
    dt0s: Float[Array, " starts"],
    args: Float[Array, "starts k"],
    count: Int[ArrayLike, ""],
    report: Callable[[Int[Array, ""]], None] | None = None,
) -> tuple[Float[Array, "starts n"], Float[Array, " starts"], Int[Array, " starts"]]:
    r"""Integrate the first `count` of `starts` from $t = 0$ until each stops, in one
    `lax.while_loop` that steps `lanes` trajectories in lockstep.

    Each step is the tableau's pair $y_1 = y + h\sum_i b_i k_i$ with error
    $h\sum_i e_i k_i$, accepted when its RMS norm scaled by
    $\text{atol} + \text{rtol}\max(|y|, |y_1|)$ is below 1. The next step is
    $h \cdot \mathrm{clip}(s\,\varepsilon^{-1/q}, \cdot)$ as in diffrax's integral
    controller, with its safety $s$ and factor bounds: in $[1, f_\max]$ after an
    accepted step and in $[f_\min, s]$ after a rejected one ($q$ the error order;
    $s = 0.9$, $f_\min = 0.2$, $f_\max = 10$ by default). Steps are clipped to end at `t1`.
    The tests for stopping are folded into the step: they see the new state and, for
    an FSAL pair, the last stage, which is the field there.

    Every `refill_every` steps, the lanes whose trajectory has stopped write it out
    and take the next waiting start, so the lanes stay busy until the queue is empty
    and no time goes to trajectories that have already stopped. What each
    trajectory computes does not depend on its lane or its neighbours.

    **Arguments:**

    - `field`: the vector field over lanes of states, shape `(n, lanes)`, given each
      lane's arguments, shape `(k, lanes)`.
    - `tableau`: the [`LeanTableau`][] of the pair.
    - `stop`: given states and their fields, the status each should stop with
      (`running` where none applies).
    - `running`: the status of a trajectory that goes on; `at_end` the status of
      one that reaches `t1` or uses up `max_steps` without stopping.
    - `t1`: the end time.
    - `controller`: the diffrax `PIDController` whose tolerances, safety factor and
      factor bounds the steps follow; an integral controller (see
      [`check_integral_controller`][]).
    - `max_steps`: the most steps, accepted or rejected, of one trajectory.
    - `lanes`: trajectories stepped together.
    - `refill_every`: steps between refills of the lanes.
    - `y0s`, `dt0s`: the starts and their first steps (positive).
    - `args`: each start's own arguments of the field (a parameter sweep), which
      follow it into its lane; `k = 0` when all starts share them.
    - `count`: how many of the starts to integrate (traced, so that a short last
      chunk reuses the compiled loop); the rest are left as they are.
    - `report`: called inside the loop (by `jax.debug.callback`, say) with the number
      of trajectories that stopped since its last call, whenever there are at least
      `lanes` of them, and once at the end for the rest; for a progress bar.

    **Returns:**

    The final states, times and statuses: `stop`'s code or `at_end`.
    """
    check_integral_controller(controller)
    rtol, atol = controller.rtol, controller.atol
    safety, factor_min, factor_max = controller.safety, controller.factormin, controller.factormax
    starts, _ = y0s.shape
    # Lanes are columns: each component is one contiguous row, so XLA's loops over
    # the lanes vectorise.
    queue, arg_queue = y0s.T, args.T
    dtype = queue.dtype

    def advance(_, lanes_now: _Lanes) -> _Lanes:
        y, t, dt, k_first, status, taken, which, occupied, lane_args = lanes_now
        live = occupied & (status == running)
        h = jnp.minimum(dt, t1 - t)
        stages = [k_first]
        for row in tableau.a:
            stages.append(field(_combine(y, h, row, stages), lane_args))
        y_new = _combine(y, h, tableau.b, stages)
        error = _combine(jnp.zeros_like(y), h, tableau.e, stages)
        k_new = stages[-1] if tableau.fsal else field(y_new, lane_args)
        finite = jnp.all(jnp.isfinite(y_new), axis=0)
        size = jnp.maximum(jnp.abs(y), jnp.where(jnp.isfinite(y_new), jnp.abs(y_new), 0))
        ratio = jnp.sqrt(jnp.mean(jnp.square(error / (atol + rtol * size)), axis=0))
        ratio = jnp.where(finite & jnp.isfinite(ratio), ratio, jnp.inf)
        keep = ratio < 1
        # A zero error gives the largest factor, a non-finite one the smallest.
        factor = jnp.clip(
            safety * jnp.power(ratio, -1.0 / tableau.error_order),
            jnp.where(keep, 1.0, factor_min),
            jnp.where(keep, factor_max, safety),
        )
        accept = live & keep
        t_new = jnp.where(h >= t1 - t, t1, t + h)
        y = jnp.where(accept, y_new, y)
        t = jnp.where(accept, t_new, t)
        k_first = jnp.where(accept, k_new, k_first)
        dt = jnp.where(live, h * factor, dt)
        taken = taken + live
        stopped = stop(y_new, k_new)
        stopped = jnp.where((stopped == running) & (t_new >= t1), at_end, stopped)
        status = jnp.where(accept, stopped, status)
        status = jnp.where(live & (status == running) & (taken >= max_steps), at_end, status)
        return _Lanes(y, t, dt, k_first, status, taken, which, occupied, lane_args)

    def refill(lanes_now: _Lanes, out, waiting):
        y, t, dt, k_first, status, taken, which, occupied, lane_args = lanes_now
        out_y, out_t, out_status = out
        done = occupied & (status != running)
        # Lanes without a finished trajectory write to index `starts`, which is dropped.
        target = jnp.where(done, which, starts)
        out_y = out_y.at[:, target].set(y, mode="drop")
        out_t = out_t.at[target].set(t, mode="drop")
        out_status = out_status.at[target].set(status, mode="drop")
        free = ~occupied | done
        claimed = waiting + jnp.cumsum(free) - 1
        gets = free & (claimed < count)
        source = jnp.minimum(claimed, starts - 1)
        which = jnp.where(gets, claimed, which)
        occupied = (occupied & ~done) | gets
        y = jnp.where(gets, queue[:, source], y)
        t = jnp.where(gets, 0, t)
        dt = jnp.where(gets, dt0s[source], dt)
        taken = jnp.where(gets, 0, taken)
        lane_args = jnp.where(gets, arg_queue[:, source], lane_args)
        k_fresh = field(y, lane_args)
        k_first = jnp.where(gets, k_fresh, k_first)
        fresh = stop(y, k_fresh)
        fresh = jnp.where((fresh == running) & (t >= t1), at_end, fresh)
        status = jnp.where(gets, fresh, status)
        lanes_now = _Lanes(y, t, dt, k_first, status, taken, which, occupied, lane_args)
        return lanes_now, (out_y, out_t, out_status), waiting + jnp.sum(gets, dtype=jnp.int32)

    def flush(unreported):
        if report is not None:
            report(unreported)
        return jnp.zeros_like(unreported)

    def cond(state):
        lanes_now, *_ = state
        return jnp.any(lanes_now.occupied)

    def body(state):
        lanes_now, out, waiting, unreported = state
        lanes_now = jax.lax.fori_loop(0, refill_every, advance, lanes_now)
        stopped = lanes_now.occupied & (lanes_now.status != running)
        unreported = unreported + jnp.sum(stopped, dtype=jnp.int32)
        unreported = jax.lax.cond(unreported >= lanes, flush, lambda u: u, unreported)
        return *refill(lanes_now, out, waiting), unreported

    empty = _Lanes(
        jnp.zeros((queue.shape[0], lanes), dtype),
        jnp.zeros(lanes, dtype),
        jnp.ones(lanes, dtype),
        jnp.zeros((queue.shape[0], lanes), dtype),
        jnp.full(lanes, at_end, jnp.int32),
        jnp.zeros(lanes, jnp.int32),
        jnp.zeros(lanes, jnp.int32),
        jnp.zeros(lanes, bool),
        jnp.zeros((arg_queue.shape[0], lanes), arg_queue.dtype),
    )
    out = (queue, jnp.zeros(starts, dtype), jnp.full(starts, at_end, jnp.int32))
    state = *refill(empty, out, jnp.zeros((), jnp.int32)), jnp.zeros((), jnp.int32)
    _, (out_y, out_t, out_status), _, unreported = jax.lax.while_loop(cond, body, state)
    jax.lax.cond(unreported > 0, flush, lambda u: u, unreported)
    return out_y.T, out_t, out_status
