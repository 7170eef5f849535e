"""Ensembles of SDE runs, $dy = f\\,dt + g\\,dW$, stopped on arrival in target balls."""

from __future__ import annotations

import dataclasses

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

from ...theory import MAP
from ...theory._checks import check_count, check_positive, check_seed
from .._engine._compile import CompiledModel
from .._engine._progress import Progress
from .._engine._solver_settings import DIVERGED, UNCONVERGED, left_the_box

TREE = "tree"
INCREMENTS = "increments"


@dataclasses.dataclass(frozen=True)
class NoiseSettings:
    r"""How the runs of an SDE are integrated.

    **Fields:**

    - `dt`: the fixed step. Arrival in a target is checked after every step.
    - `solver`: a diffrax SDE solver, or `None` for a solver suited to the noise:
      `diffrax.ShARK` (strong order 1.5) when $g$ does not depend on the state
      (additive noise), `diffrax.Euler` (Euler–Maruyama, strong order 1/2) otherwise.
    - `brownian`: `"tree"` (the default) samples the Brownian motion with
      `diffrax.VirtualBrownianTree`, which gives the same path at any step size, so
      results converge as `dt` shrinks; `"increments"` draws one Gaussian increment
      per step (`diffrax.UnsafeBrownianPath`), about 25 times faster on a CPU,
      with a different path for each `dt` but the same law.
    - `window`: time integrated per compiled call. Each run gets its own Brownian
      motion in each window, from the key `fold_in(fold_in(key(seed), run), window)`,
      so a run's path depends on the seed and its index alone, not on which runs are
      integrated beside it.
    - `batch_size`: runs integrated in lockstep at a time.
    - `divergence_bound`: a run with $\|y\|_\infty$ above it has left the box.
    """

    dt: float = 1e-2
    solver: dfx.AbstractSolver | None = None
    brownian: str = TREE
    window: float = 50.0
    batch_size: int = 2048
    divergence_bound: float = 1e6

    def __post_init__(self):
        for name in ("dt", "window", "divergence_bound"):
            check_positive(getattr(self, name), name)
        if self.window < self.dt:
            raise ValueError(f"window ({self.window}) must be at least one step ({self.dt})")
        if self.solver is not None and not isinstance(self.solver, dfx.AbstractSolver):
            raise TypeError(f"solver must be a diffrax solver, got {self.solver!r}")
        if self.brownian not in (TREE, INCREMENTS):
            raise ValueError(f"brownian must be {TREE!r} or {INCREMENTS!r}, got {self.brownian!r}")
        check_count(self.batch_size, "batch_size")

    def solver_for(self, compiled: CompiledModel) -> dfx.AbstractSolver:
        """The solver to use for this model's noise."""
        if self.solver is not None:
            return self.solver
        return dfx.ShARK() if compiled.additive_noise else dfx.Euler()

    def describe(self, compiled: CompiledModel) -> dict[str, object]:
        """The settings as attrs for a result."""
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        fields["solver"] = type(self.solver_for(compiled)).__name__
        return fields


def require_noise(compiled: CompiledModel, what: str) -> None:
    """**Raises:** `ValueError` unless the model is a flow with noise."""
    if compiled.kind == MAP:
        raise ValueError(f"{what} is for SDEs, and model {compiled.name!r} is a map")
    if compiled.noise_shape is None:
        raise ValueError(
            f"{what} needs noise, and model {compiled.name!r} has none: give it one with "
            "model.with_noise(basinlab.Noise....)"
        )


def _brownian_path(
    settings: NoiseSettings,
    solver: dfx.AbstractSolver,
    shape: tuple[int, ...],
    key: Array,
    t0: Float[Array, ""],
) -> dfx.AbstractBrownianPath:
    needs_area = getattr(solver, "minimal_levy_area", None) is not None
    levy_area = dfx.SpaceTimeLevyArea if needs_area else dfx.BrownianIncrement
    if settings.brownian == INCREMENTS:
        return dfx.UnsafeBrownianPath(shape=shape, key=key, levy_area=levy_area)
    return dfx.VirtualBrownianTree(
        t0, t0 + settings.window, tol=settings.dt / 4, shape=shape, key=key, levy_area=levy_area
    )


@eqx.filter_jit
def _window(
    compiled: CompiledModel,
    settings: NoiseSettings,
    y0s: Float[Array, "batch n"],
    runs: Int[Array, " batch"],
    window: Int[Array, ""],
    t1: Float[Array, ""],
    seed_key: Array,
    p: Float[Array, " m"],
    centres: Float[Array, "k n"],
    radii: Float[Array, " k"],
) -> tuple[Float[Array, "batch n"], Float[Array, " batch"], Int[Array, " batch"]]:
    """Integrate each run from the start of `window` until it enters a target ball,
    leaves the box, or reaches `t1`; return its state, time and outcome."""
    solver = settings.solver_for(compiled)
    t0 = window.astype(compiled.dtype) * settings.window
    steps = int(np.ceil(settings.window / settings.dt)) + 1

    def outcome(y):
        distance = jnp.sqrt(jnp.sum((y[None, :] - centres) ** 2, axis=1)) / radii
        inside = distance < 1
        blown_up = left_the_box(y, settings.divergence_bound)
        target = jnp.where(jnp.any(inside), jnp.argmin(distance), UNCONVERGED)
        return jnp.where(blown_up, DIVERGED, target).astype(jnp.int32)

    def one(y0, run):
        key = jax.random.fold_in(jax.random.fold_in(seed_key, run), window)
        path = _brownian_path(settings, solver, compiled.noise_shape[1:], key, t0)
        terms = dfx.MultiTerm(
            dfx.ODETerm(compiled.vector_field), dfx.ControlTerm(compiled.diffusion, path)
        )
        solution = dfx.diffeqsolve(
            terms,
            solver,
            t0=t0,
            t1=t1,
            dt0=jnp.asarray(settings.dt, compiled.dtype),
            y0=y0,
            args=p,
            saveat=dfx.SaveAt(t1=True),
            event=dfx.Event(lambda t, y, args, **kwargs: outcome(y) != UNCONVERGED),
            max_steps=steps,
            throw=False,
            adjoint=dfx.ForwardMode(),
        )
        y = solution.ys[-1]
        return y, solution.ts[-1], outcome(y)

    return jax.vmap(one)(y0s, runs)


def run_until_arrival(
    compiled: CompiledModel,
    settings: NoiseSettings,
    y0s: np.ndarray,
    p: Float[Array, " m"],
    seed: int,
    t1: float,
    centres: np.ndarray,
    radii: np.ndarray,
    progress: bool,
    description: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Integrate every run of the SDE until it enters one of the balls `(centres,
    radii)` (Euclidean), leaves the box, or reaches `t1`.

    **Returns:**

    The final states, the times, and the outcomes: the index of the ball reached,
    `UNCONVERGED` when it was still running at `t1`, or `DIVERGED` when it left
    the box or stopped being finite (a blow-up, such as a step too large for the
    drift).

    **Raises:**

    - `ValueError`: the noise is not finite and real at the first start (a
      negative temperature or variance among the parameters).
    """
    seed = check_seed(seed)
    n, dim = y0s.shape
    start = jnp.asarray(y0s[0], compiled.dtype)
    if not np.all(np.isfinite(np.asarray(compiled.diffusion(0.0, start, p)))):
        raise ValueError(
            f"the noise of {compiled.name!r} is not finite at {np.asarray(y0s[0]).tolist()} "
            "with these parameters: is a temperature or a variance negative?"
        )
    y = np.array(y0s, dtype=float)
    t = np.zeros(n)
    outcome = np.full(n, UNCONVERGED, dtype=np.int32)
    running = np.arange(n)
    seed_key = jax.random.key(seed)
    centres = jnp.asarray(np.reshape(centres, (-1, dim)), compiled.dtype)
    radii = jnp.asarray(np.reshape(radii, (-1,)), compiled.dtype)
    windows = int(np.ceil(t1 / settings.window - 1e-12))
    with Progress(windows, description, progress, unit="window") as bar:
        for window in range(windows):
            window_end = jnp.asarray(min((window + 1) * settings.window, t1), compiled.dtype)
            # Powers of two: batches shrink as runs finish, with few shapes to compile.
            size = min(settings.batch_size, max(64, 1 << int(np.ceil(np.log2(len(running))))))
            for start in range(0, len(running), size):
                rows = running[start : start + size]
                padded = np.concatenate([rows, np.repeat(rows[:1], size - len(rows))])
                ys, ts, codes = _window(
                    compiled,
                    settings,
                    jnp.asarray(y[padded], compiled.dtype),
                    jnp.asarray(padded),
                    jnp.asarray(window),
                    window_end,
                    seed_key,
                    p,
                    centres,
                    radii,
                )
                y[rows] = np.asarray(ys)[: len(rows)]
                t[rows] = np.asarray(ts)[: len(rows)]
                outcome[rows] = np.asarray(codes)[: len(rows)]
            running = running[outcome[running] == UNCONVERGED]
            bar.advance(1)
            if len(running) == 0:
                bar.advance(windows - window - 1)
                break
    return y, t, outcome
