"""A lean adaptive Runge–Kutta kernel for ensembles: one fused loop over a batch."""

from __future__ import annotations

from collections.abc import Callable

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int

# The integral controller of diffrax's `PIDController` with its default coefficients.
_SAFETY = 0.9
_FACTOR_MIN = 0.2
_FACTOR_MAX = 10.0


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


def lean_pass(
    field: Callable[[Float[Array, "batch n"]], Float[Array, "batch n"]],
    tableau: LeanTableau,
    stop: Callable[[Float[Array, "batch n"], Float[Array, "batch n"]], Int[Array, " batch"]],
    *,
    running: int,
    at_end: int,
    t1: float,
    rtol: float,
    atol: float,
    steps: int,
    y: Float[Array, "batch n"],
    t: Float[Array, " batch"],
    dt: Float[Array, " batch"],
) -> tuple[
    Float[Array, "batch n"],
    Float[Array, " batch"],
    Float[Array, " batch"],
    Int[Array, " batch"],
]:
    r"""At most `steps` adaptive steps of every running trajectory of a batch, in
    lockstep, in one `lax.while_loop` over arrays of shape `(batch, n)`.

    Each step is the tableau's pair $y_1 = y + h\sum_i b_i k_i$ with error
    $h\sum_i e_i k_i$, accepted when its RMS norm scaled by
    $\text{atol} + \text{rtol}\max(|y|, |y_1|)$ is below 1. The next step is
    $h \cdot \mathrm{clip}(0.9\,\varepsilon^{-1/q}, \cdot)$ with diffrax's integral
    controller's bounds: in $[1, 10]$ after an accepted step and in $[0.2, 0.9]$
    after a rejected one ($q$ the error order). Steps are clipped to end at `t1`.
    The tests for stopping are folded into the step: they see the new state and, for
    an FSAL pair, the last stage, which is the field there.

    **Arguments:**

    - `field`: the vector field over a batch of states.
    - `tableau`: the [`LeanTableau`][] of the pair.
    - `stop`: given states and their fields, the status each should stop with
      (`running` where none applies).
    - `running`: the status of a trajectory that goes on; `at_end` the status of
      one that reaches `t1` without stopping.
    - `t1`, `rtol`, `atol`: the end time and the tolerances.
    - `steps`: the budget of steps, accepted or rejected, of this pass.
    - `y`, `t`, `dt`: states, times and next steps (positive).

    **Returns:**

    The states, times, next steps and statuses: `stop`'s code, `at_end`, or
    `running` for a trajectory that used up the budget.
    """
    # Inside the loop states are (n, batch): each component is one contiguous row, so
    # XLA's loops over the batch vectorise.
    y = y.T
    k_first = field(y)
    status = stop(y, k_first)
    status = jnp.where((status == running) & (t >= t1), at_end, status)

    def cond(carry):
        index, *_, status = carry
        return (index < steps) & jnp.any(status == running)

    def body(carry):
        index, y, t, dt, k_first, status = carry
        live = status == running
        h = jnp.minimum(dt, t1 - t)
        stages = [k_first]
        for row in tableau.a:
            stages.append(field(_combine(y, h, row, stages)))
        y_new = _combine(y, h, tableau.b, stages)
        error = _combine(jnp.zeros_like(y), h, tableau.e, stages)
        k_new = stages[-1] if tableau.fsal else field(y_new)
        finite = jnp.all(jnp.isfinite(y_new), axis=0)
        size = jnp.maximum(jnp.abs(y), jnp.where(jnp.isfinite(y_new), jnp.abs(y_new), 0))
        ratio = jnp.sqrt(jnp.mean(jnp.square(error / (atol + rtol * size)), axis=0))
        ratio = jnp.where(finite & jnp.isfinite(ratio), ratio, jnp.inf)
        keep = ratio < 1
        # A zero error gives the largest factor, a non-finite one the smallest.
        factor = jnp.clip(
            _SAFETY * jnp.power(ratio, -1.0 / tableau.error_order),
            jnp.where(keep, 1.0, _FACTOR_MIN),
            jnp.where(keep, _FACTOR_MAX, _SAFETY),
        )
        accept = live & keep
        t_new = jnp.where(h >= t1 - t, t1, t + h)
        y = jnp.where(accept, y_new, y)
        t = jnp.where(accept, t_new, t)
        k_first = jnp.where(accept, k_new, k_first)
        dt = jnp.where(live, h * factor, dt)
        stopped = stop(y_new, k_new)
        stopped = jnp.where((stopped == running) & (t_new >= t1), at_end, stopped)
        status = jnp.where(accept, stopped, status)
        return index + 1, y, t, dt, k_first, status

    _, y, t, dt, _, status = jax.lax.while_loop(cond, body, (0, y, t, dt, k_first, status))
    return y.T, t, dt, status
