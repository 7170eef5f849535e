"""How trajectories are integrated and when they stop: the solver settings and the
statuses a trajectory ends with."""

from __future__ import annotations

import dataclasses

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, Int

from ...theory import FLOW, MAP
from ...theory._checks import check_count
from ._compile import CompiledModel
from ._step_size import CarriedStepSize

CONVERGED = 0
DIVERGED = -1
UNCONVERGED = -2
_RUNNING = 1  # out of step budget for this pass; continued in the next
# Batch and chunk sizes by default: (on a CPU, on a GPU or TPU).
_DEVICE_SIZES = {"batch_size": (1024, 262_144), "chunk_size": (16_384, 2_097_152)}


@dataclasses.dataclass(frozen=True)
class SolverSettings:
    r"""How each trajectory is integrated and when it stops.

    A trajectory stops at steady state, when $\|f(y)\|_\infty <
    \text{steady\_tol}\,s\,(1 + \|y\|_\infty)$ (CONVERGED), where $s \le 1$ is the
    ensemble's own speed scale (see `speed_scale`: a model that is slow everywhere,
    such as one with a time constant of $10^6$, is not at rest merely for being
    slow); when it leaves the box
    $\|y\|_\infty > \text{divergence\_bound}$, or its state or its field $f(y)$
    stops being finite (DIVERGED: it blew up, or left the domain of the field, as
    $-\log x$ does at $x < 0$); or at `t1` or after `max_steps` steps (UNCONVERGED).

    **Fields:**

    - `solver`: any diffrax solver; `diffrax.Tsit5()` by default.
    - `t1`: the final time.
    - `dt0`: the first step. `None` (the default) picks it from the scale of the field
      at the start (diffrax's rule, after Hairer, Nørsett and Wanner, *Solving
      Ordinary Differential Equations I*, §II.4) for an adaptive solver; a solver
      without an error estimate needs it, and takes only steps of this size.
    - `rtol`, `atol`: tolerances of the step-size controller (an integral
      controller, diffrax's `PIDController` with its default coefficients).
    - `steady_tol`: the steady-state tolerance above. Keep it well above `rtol`:
      near a stable point an adaptive solver hovers at its own error level, about
      `rtol` times the state, and a stricter test would never fire.
    - `divergence_bound`: the box outside which a trajectory counts as diverged.
    - `max_steps`: the most steps a trajectory may take, rounded up to a multiple of
      `pass_steps`.
    - `pass_steps`: the step budget of one pass of the diffrax path. A vectorised
      adaptive solve runs in lockstep until its slowest member stops, so
      trajectories are integrated in passes of this many steps, and those still
      running after a pass are packed into full batches for the next one. Each pass
      resumes with the step size the previous pass would have taken next, so the
      results do not depend on `pass_steps`.
    - `batch_size`: trajectories integrated in lockstep (vectorised) at a time, per
      device: the lanes of the lean kernel, the batches of the diffrax path. Small
      batches waste less work on their slowest member, large ones amortise more
      overhead. `None` (the default) chooses for JAX's default device: 1,024 on a
      CPU, 262,144 on a GPU or TPU, which needs many lanes to fill it.
    - `chunk_size`: trajectories per compiled call (the lean kernel's queue); each
      finished chunk is written to disk when there is a checkpoint directory.
      `None` (the default): 16,384 on a CPU, 2,097,152 on a GPU or TPU.
    - `lean`: integrate with basinlab's lean kernel when the solver is an explicit
      Runge–Kutta pair (`Tsit5`, `Dopri5`, `Bosh3`, ...): the same tableau, controller
      and stopping rules as diffrax, in one compiled loop per chunk whose lanes take
      the next start as soon as their trajectory stops; four to five times faster.
      `False` integrates every trajectory with `diffrax.diffeqsolve`. Other solvers
      (implicit, stochastic, fixed-step) always go through diffrax.
    """

    solver: dfx.AbstractSolver = dataclasses.field(default_factory=dfx.Tsit5)
    t1: float = 200.0
    dt0: float | None = None
    rtol: float = 1e-6
    atol: float = 1e-8
    steady_tol: float = 1e-5
    divergence_bound: float = 1e6
    max_steps: int = 4096
    pass_steps: int = 48
    batch_size: int | None = None
    chunk_size: int | None = None
    lean: bool = True

    def __post_init__(self):
        if not isinstance(self.solver, dfx.AbstractSolver):
            raise TypeError(f"solver must be a diffrax solver, got {self.solver!r}")
        for name in ("t1", "dt0", "rtol", "atol", "steady_tol", "divergence_bound"):
            value = getattr(self, name)
            if name == "dt0" and value is None:
                continue
            if isinstance(value, bool) or not (
                isinstance(value, int | float) and np.isfinite(value) and value > 0
            ):
                raise ValueError(f"{name} must be a positive finite number, got {value!r}")
        if self.dt0 is None and not self.adaptive:
            raise ValueError(
                f"{type(self.solver).__name__} has no error estimate, so it needs a fixed "
                "step: give dt0"
            )
        for name, sizes in _DEVICE_SIZES.items():
            if getattr(self, name) is None:
                # Resolved once, here, so that every use and every record sees a number.
                object.__setattr__(self, name, sizes[jax.default_backend() != "cpu"])
        for name in ("max_steps", "pass_steps", "batch_size", "chunk_size"):
            check_count(getattr(self, name), name)
        if not isinstance(self.lean, bool):
            raise TypeError(f"lean must be True or False, got {self.lean!r}")

    @property
    def adaptive(self) -> bool:
        """Whether the solver estimates its error, so that steps adapt."""
        return isinstance(self.solver, dfx.AbstractAdaptiveSolver)

    def pid_controller(self) -> dfx.PIDController:
        """diffrax's `PIDController` at `rtol`, `atol`, with its default coefficients."""
        return dfx.PIDController(rtol=self.rtol, atol=self.atol)

    def controller(self) -> dfx.AbstractStepSizeController:
        """A controller at `rtol`, `atol` that carries its next step in its state, for
        an adaptive solver; fixed steps of `dt0` for one without an error estimate."""
        if self.adaptive:
            return CarriedStepSize(self.pid_controller())
        return dfx.ConstantStepSize()

    def describe(self, kind: str = FLOW) -> dict[str, object]:
        """The settings as attrs for a result; for a map, without the ODE solver's."""
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        fields["solver"] = type(self.solver).__name__
        if self.dt0 is None:
            fields["dt0"] = "automatic"
        # netCDF attributes hold no booleans.
        fields["lean"] = int(self.lean)
        if kind == MAP:
            for name in ("dt0", "rtol", "atol", "lean"):
                del fields[name]
            fields["solver"] = "iteration"
        return fields


def left_the_box(y: Float[Array, " *dims"], bound: float, axis: int = -1) -> Bool[Array, ...]:
    """Whether a state (components along `axis`) has diverged: some component is above
    `bound` in size or is not finite. The one test of every path: ODEs, maps, SDEs."""
    size = jnp.max(jnp.abs(y), axis=axis)
    return ~jnp.isfinite(size) | (size > bound)


def _stop_status(
    settings: SolverSettings, y: Float[Array, " *dims"], f: Float[Array, " *dims"], axis: int = -1
) -> Int[Array, " *dims"]:
    """The status a state `y` with field `f` (states along `axis`) stops with:
    DIVERGED out of bounds or not finite, CONVERGED at rest, `_RUNNING` otherwise."""
    size = jnp.max(jnp.abs(y), axis=axis)
    speed = jnp.max(jnp.abs(f), axis=axis)
    escaped = left_the_box(y, settings.divergence_bound, axis) | ~jnp.isfinite(speed)
    at_rest = speed < settings.steady_tol * (1 + size)
    return jnp.select([escaped, at_rest], [DIVERGED, CONVERGED], _RUNNING).astype(jnp.int32)


def _automatic_steps(
    compiled: CompiledModel,
    settings: SolverSettings,
    y0s: Float[Array, "batch n"],
    t0s: Float[Array, " batch"],
    p: Float[Array, " m"],
) -> Float[Array, " batch"]:
    """The first step from each start: `dt0`, or else diffrax's automatic one (its
    controller's own rule)."""
    term = dfx.ODETerm(compiled.vector_field)
    controller = settings.controller()
    error_order = settings.solver.error_order(term)

    def one(y0, t0):
        tnext, _ = controller.init(
            term, t0, settings.t1, y0, settings.dt0, p, settings.solver.func, error_order
        )
        return tnext - t0

    return jax.vmap(one)(y0s, t0s)


def _step_budget(settings: SolverSettings) -> int:
    """The most steps of one trajectory: `max_steps` rounded up to whole passes."""
    return -(-settings.max_steps // settings.pass_steps) * settings.pass_steps


# The speed scale is a power of ten in [_SLOWEST, 1], so that few values (and few
# compiled kernels, for which the tolerance is a constant) arise.
_SLOWEST = 1e-3
_SPEED_SAMPLES = 4096


@eqx.filter_jit
def _relative_speeds(
    compiled: CompiledModel, y0s: Float[Array, "n dim"], p: Float[Array, " m"]
) -> Float[Array, " n"]:
    t = jnp.zeros((), y0s.dtype)
    speed = jax.vmap(lambda y: jnp.max(jnp.abs(compiled.rest_residual(t, y, p))))(y0s)
    return speed / (1 + jnp.max(jnp.abs(y0s), axis=1))


def speed_scale(compiled: CompiledModel, y0s: np.ndarray, p: Array) -> float:
    r"""The ensemble's own speed scale $s$: the 90th percentile over the starts (4,096
    of them, evenly spread through the list) of
    $\|f(y_0)\|_\infty / (1 + \|y_0\|_\infty)$ ($F(y_0) - y_0$ for a map), rounded
    down to a power of ten and clipped to $[10^{-3}, 1]$.

    The steady-state test compares the field with `steady_tol` times $s$, so a model
    whose field is small everywhere (a time constant of $10^6$, a loss scaled by
    $10^{-6}$, $\dot x = 10^{-6}$) is not declared at rest where it merely moves
    slowly; for a model that moves at unit speed or faster, $s = 1$.
    """
    # A fixed number of evenly spread starts: one compiled call whatever the ensemble.
    sample = y0s[np.linspace(0, len(y0s) - 1, _SPEED_SAMPLES).round().astype(int)]
    speeds = np.asarray(_relative_speeds(compiled, jnp.asarray(sample, compiled.dtype), p))
    speeds = speeds[np.isfinite(speeds)]
    if len(speeds) == 0:
        return 1.0
    typical = float(np.quantile(speeds, 0.9))
    if typical >= 1:
        return 1.0
    return float(10.0 ** max(np.floor(np.log10(max(typical, _SLOWEST))), np.log10(_SLOWEST)))
