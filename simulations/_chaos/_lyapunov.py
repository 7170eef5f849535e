r"""The Lyapunov spectrum of a flow or a map, by the QR method of Benettin et al."""

from __future__ import annotations

import math
from collections.abc import Mapping

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr
from jaxtyping import Array, ArrayLike, Float

from ...theory import MAP, Model
from ...theory._checks import check_count, check_positive
from .._engine._compile import CompiledModel
from .._engine._integrate import as_compiled
from .._engine._provenance import provenance


def _orthonormalised(
    tangent: Float[Array, "n k"],
) -> tuple[Float[Array, "n k"], Float[Array, " k"]]:
    """The tangent vectors re-orthonormalised, and the logs of their stretches: the
    diagonal of R in tangent = QR, made positive so that Q keeps its orientation."""
    q, r = jnp.linalg.qr(tangent)
    diagonal = jnp.diagonal(r)
    return q * jnp.sign(diagonal), jnp.log(jnp.abs(diagonal))


@eqx.filter_jit
def _flow_blocks(
    compiled: CompiledModel,
    y: Float[Array, " n"],
    tangent: Float[Array, "n k"],
    p: Float[Array, " m"],
    interval: float,
    dt: float,
    blocks: int,
) -> tuple[Float[Array, " n"], Float[Array, "blocks k"]]:
    """`blocks` intervals of the flow and its variational equation $\\dot\\Phi =
    J\\Phi$ (Tsit5 at a fixed step), re-orthonormalised after each: the end state and
    the log-stretches of each interval."""

    def augmented(t, state, args):
        y, tangent = state
        return compiled.vector_field(t, y, args), compiled.jacobian(t, y, args) @ tangent

    steps = math.ceil(interval / dt - 1e-9)

    def block(carry, _):
        y, tangent = carry
        solution = dfx.diffeqsolve(
            dfx.ODETerm(augmented),
            dfx.Tsit5(),
            t0=0.0,
            t1=interval,
            dt0=interval / steps,
            y0=(y, tangent),
            args=p,
            stepsize_controller=dfx.ConstantStepSize(),
            saveat=dfx.SaveAt(t1=True),
            max_steps=steps + 1,
            adjoint=dfx.ForwardMode(),
        )
        y, tangent = (leaf[-1] for leaf in solution.ys)
        tangent, stretches = _orthonormalised(tangent)
        return (y, tangent), stretches

    (y, _), stretches = jax.lax.scan(block, (y, tangent), None, length=blocks)
    return y, stretches


@eqx.filter_jit
def _map_steps(
    compiled: CompiledModel,
    y: Float[Array, " n"],
    tangent: Float[Array, "n k"],
    p: Float[Array, " m"],
    steps: int,
) -> tuple[Float[Array, " n"], Float[Array, "steps k"]]:
    """`steps` iterations of the map and of $\\Phi \\leftarrow J(x)\\Phi$,
    re-orthonormalised after each: the end state and the log-stretches of each step."""

    def step(carry, _):
        y, tangent = carry
        tangent = compiled.jacobian(0.0, y, p) @ tangent
        y = compiled.vector_field(0.0, y, p)
        tangent, stretches = _orthonormalised(tangent)
        return (y, tangent), stretches

    (y, _), stretches = jax.lax.scan(step, (y, tangent), None, length=steps)
    return y, stretches


def lyapunov_spectrum(
    model: Model | CompiledModel,
    y0: Float[ArrayLike, " n"],
    *,
    params: Mapping[str, float] | None = None,
    exponents: int | None = None,
    t1: float = 1000.0,
    transient: float = 100.0,
    interval: float = 1.0,
    dt: float = 0.01,
    steps: int = 10_000,
    transient_steps: int = 1000,
) -> xr.Dataset:
    r"""The Lyapunov exponents $\lambda_1 \ge \dots \ge \lambda_k$ of the attractor
    that a trajectory from `y0` reaches, by the QR (Benettin) method.

    Along the trajectory, $k$ tangent vectors $\Phi$ follow the linearised dynamics:
    $\dot\Phi = J(y)\Phi$ for a flow, $\Phi \leftarrow J(x)\Phi$ for a map, with $J$
    the compiled model's Jacobian. After every `interval` of time (a flow) or every
    step (a map) they are re-orthonormalised, $\Phi = QR$, $\Phi \leftarrow Q$, and
    $\lambda_i$ is the time average of $\log|R_{ii}|$ (G. Benettin, L. Galgani, A.
    Giorgilli and J.-M. Strelcyn, "Lyapunov characteristic exponents for smooth
    dynamical systems and for Hamiltonian systems; a method for computing all of
    them", Meccanica 15, 9 and 21, 1980). The sum of all $n$ exponents is the time
    average of $\operatorname{tr} J$ (of $\log|\det J|$ for a map), which checks the
    estimate. A transient is discarded first (rounded to whole intervals). The flow
    is integrated by Tsit5 at a fixed step `dt`.

    **Arguments:**

    - `model`: a flow or a map.
    - `y0`: the start.
    - `params`: parameter overrides by name.
    - `exponents`: how many of the largest to compute, $1 \le k \le n$; all by default.
    - `t1`, `transient`, `interval`, `dt`: for a flow, the time averaged over, the
      time discarded before it, the time between re-orthonormalisations and the
      step.
    - `steps`, `transient_steps`: for a map, the iterations averaged over and those
      discarded before.

    **Returns:**

    An `xarray.Dataset` with `exponent` over `index` (largest first), `running`
    over (`sample`, `index`): the estimates after each re-orthonormalisation (for a
    flow) or each hundredth of the steps (for a map), to judge convergence by, and
    `y_end`, with provenance attrs and the averaging length.

    **Raises:**

    - `ValueError`: `y0` of the wrong length or not finite, `exponents` outside
      $[1, n]$, a length that is not positive, `interval` shorter than `dt`, or a
      trajectory that diverged (the exponents are then not finite).
    """
    compiled = as_compiled(model)
    n = len(compiled.state_names)
    y = jnp.asarray(np.asarray(y0, dtype=float).reshape(-1), compiled.dtype)
    if y.shape != (n,) or not bool(jnp.all(jnp.isfinite(y))):
        raise ValueError(f"y0 must be {n} finite numbers, got {np.asarray(y0).tolist()}")
    k = n if exponents is None else check_count(exponents, "exponents")
    if not 1 <= k <= n:
        raise ValueError(f"exponents must lie in [1, {n}], got {k}")
    p = compiled.param_vector(params)
    # A generic frame, the same every call: from the axes, a system that leaves some of
    # them invariant (decoupled parts) would never turn its vectors towards the
    # fastest directions, and the exponents would come out unordered or missed.
    frame = np.linalg.qr(np.random.default_rng(0).standard_normal((n, n)))[0][:, :k]
    tangent = jnp.asarray(frame, compiled.dtype)
    if compiled.kind == MAP:
        check_count(steps, "steps")
        check_count(transient_steps, "transient_steps", minimum=0)
        # One compiled loop for the transient and the average alike.
        y, stretches = _map_steps(compiled, y, tangent, p, transient_steps + steps)
        stretches = stretches[transient_steps:]
        elapsed = np.arange(1, steps + 1, dtype=float)
        length = float(steps)
    else:
        for value, name in ((t1, "t1"), (interval, "interval"), (dt, "dt")):
            check_positive(value, name)
        if transient < 0:
            raise ValueError(f"transient must not be negative, got {transient}")
        if interval < dt:
            raise ValueError(f"interval ({interval}) must be at least one step ({dt})")
        blocks = round(t1 / interval)
        if blocks < 1:
            raise ValueError(f"t1 ({t1}) must be at least one interval ({interval})")
        skipped = round(transient / interval)
        y, stretches = _flow_blocks(compiled, y, tangent, p, interval, dt, skipped + blocks)
        stretches = stretches[skipped:]
        elapsed = interval * np.arange(1, blocks + 1, dtype=float)
        length = blocks * interval
    stretches = np.asarray(stretches)
    if not np.all(np.isfinite(stretches)):
        raise ValueError(
            "the trajectory diverged or left the model's domain: its exponents are not finite"
        )
    running = np.cumsum(stretches, axis=0) / elapsed[:, None]
    every = max(len(elapsed) // 100, 1) if compiled.kind == MAP else 1
    coords = {"index": np.arange(1, k + 1), "state": list(compiled.state_names)}
    return xr.Dataset(
        {
            "exponent": ("index", running[-1]),
            "running": (("sample", "index"), running[every - 1 :: every]),
            "elapsed": ("sample", elapsed[every - 1 :: every]),
            "y_end": ("state", np.asarray(y)),
        },
        coords=coords,
        attrs=provenance(compiled, params, {})
        | {"kind": "lyapunov_spectrum", "length": length, "method": "QR (Benettin et al. 1980)"},
    )
