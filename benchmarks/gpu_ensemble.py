"""Ensemble throughput on an accelerator: basinlab's lean kernel against vmapped diffrax.

1. The Lorenz parameter sweep of the GPU ODE benchmarks (Utkarsh, Churavy, Ma, Rackauckas
   et al., "Automated translation and accelerated solving of differential
   equations on multiple GPU platforms", CMAME 2024; DiffEqGPU.jl): dx/dt = σ(y − x),
   dy/dt = x(ρ − z) − y, dz/dt = xy − βz with σ = 10, β = 8/3, ρ spread evenly over
   [0, 21], u0 = (1, 0, 0), t ∈ [0, 1], Tsit5 adaptive at rtol = atol = 1e-8, float32
   by default. basinlab's lean kernel (each start carries its ρ into its lane)
   against a plain `jax.vmap(diffrax.diffeqsolve)` with the same tableau,
   controller and first step, on the same device in the same run; the largest
   relative difference of the final states between the two is reported.
2. Basin labels per second of the default model (the alignment double well):
   `bl.basin_map` on a `--labels-side`² grid, float64 and float32.

Rates are measured after one warm-up call of the same size (compilation reported
separately), as the best of `--repeats` calls. The script exits non-zero if the two
Lorenz solvers disagree by more than `--max-difference`.

Usage: python benchmarks/gpu_ensemble.py [--sizes 1048576 2097152 4194304 8388608]
[--labels-side 4096] [--float64] [--repeats 3]
On a CPU the defaults are too large; the tests run it with `--sizes 512
--labels-side 32`.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import platform
import sys
import time

RHO_MAX = 21.0
SIGMA, BETA = 10.0, 8.0 / 3.0


def lorenz(y, rho):
    """The Lorenz field; the arrays may hold one state or lanes of them."""
    x, v, z = y[0], y[1], y[2]
    import jax.numpy as jnp

    return jnp.stack([SIGMA * (v - x), x * (rho - z) - v, x * v - BETA * z])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2**20, 2**21, 2**22, 2**23])
    parser.add_argument("--labels-side", type=int, default=4096)
    parser.add_argument("--float64", action="store_true", help="the Lorenz sweep in float64")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-difference", type=float, default=1e-3)
    parser.add_argument("--json", help="also write the measurements to this JSON file")
    arguments = parser.parse_args()
    if min(arguments.sizes) < 1 or arguments.labels_side < 2 or arguments.repeats < 1:
        parser.error("sizes must be positive, --labels-side at least 2, --repeats at least 1")

    import diffrax as dfx
    import jax
    import jax.numpy as jnp
    import numpy as np

    import basinlab as bl
    from basinlab.simulations._engine._lean_rk import lean_ensemble, lean_tableau

    dtype = np.dtype(np.float64 if arguments.float64 else np.float32)
    device = jax.devices()[0]
    print(
        f"device: {device.device_kind} ({device.platform}), {jax.device_count()} device(s); "
        f"Python {platform.python_version()}, jax {jax.__version__}, diffrax "
        f"{dfx.__version__ if hasattr(dfx, '__version__') else '?'}"
    )

    solver, tol, t1 = dfx.Tsit5(), 1e-8, 1.0
    term = dfx.ODETerm(lambda t, y, rho: lorenz(y, rho))
    controller = dfx.PIDController(rtol=tol, atol=tol)
    u0 = jnp.asarray([1.0, 0.0, 0.0], dtype)
    zero = jnp.zeros((), dtype)
    order = solver.error_order(term)

    def first_step(rho):
        """diffrax's automatic first step (Hairer, Nørsett and Wanner, §II.4)."""
        t_next, _ = controller.init(term, zero, t1, u0, None, rho, solver.func, order)
        return t_next

    @jax.jit
    def plain(rhos):
        def one(rho):
            solution = dfx.diffeqsolve(
                term,
                solver,
                t0=0.0,
                t1=t1,
                dt0=None,
                y0=u0,
                args=rho,
                stepsize_controller=controller,
                saveat=dfx.SaveAt(t1=True),
                max_steps=100_000,
                throw=False,
            )
            return solution.ys[-1]

        return jax.vmap(one)(rhos)

    tableau = lean_tableau(solver)

    @jax.jit
    def lean(rhos):
        y, _, _ = lean_ensemble(
            lambda y, args: lorenz(y, args[0]),
            tableau,
            # A fixed end time: nothing stops a trajectory before t1.
            lambda y, f: jnp.ones(y.shape[1], jnp.int32),
            running=1,
            at_end=0,
            t1=t1,
            controller=controller,
            max_steps=100_000,
            lanes=len(rhos),
            refill_every=32,
            y0s=jnp.broadcast_to(u0, (len(rhos), 3)),
            dt0s=jax.vmap(first_step)(rhos),
            args=rhos[:, None],
            count=len(rhos),
        )
        return y

    def rate(function, *inputs):
        started = time.perf_counter()
        jax.block_until_ready(function(*inputs))
        compile_seconds = time.perf_counter() - started
        best = np.inf
        for _ in range(arguments.repeats):
            started = time.perf_counter()
            value = jax.block_until_ready(function(*inputs))
            best = min(best, time.perf_counter() - started)
        return value, best, compile_seconds

    failed = False
    measured = {"lorenz": [], "labels": []}
    print(f"Lorenz sweep, rho in [0, {RHO_MAX:g}], t in [0, {t1:g}], Tsit5 at {tol:g}, {dtype}")
    for size in arguments.sizes:
        rhos = jnp.linspace(0.0, RHO_MAX, size, dtype=dtype)
        ours, ours_seconds, ours_compile = rate(lean, rhos)
        theirs, theirs_seconds, theirs_compile = rate(plain, rhos)
        difference = float(jnp.max(jnp.abs(ours - theirs) / (1 + jnp.abs(theirs))))
        print(
            f"  {size:>9} trajectories: lean {ours_seconds:8.3f} s ({size / ours_seconds:12.0f} "
            f"traj/s, compile {ours_compile:.1f} s); vmapped diffrax {theirs_seconds:8.3f} s "
            f"({size / theirs_seconds:12.0f} traj/s, compile {theirs_compile:.1f} s); ratio "
            f"{theirs_seconds / ours_seconds:6.1f}x; largest relative difference {difference:.1e}"
        )
        measured["lorenz"].append(
            {
                "size": size,
                "lean_per_second": size / ours_seconds,
                "diffrax_per_second": size / theirs_seconds,
                "largest_relative_difference": difference,
            }
        )
        if not difference <= arguments.max_difference:
            print(f"lean and vmapped diffrax differ by {difference:.1e}", file=sys.stderr)
            failed = True

    model = bl.models.alignment_double_well()
    side = arguments.labels_side
    print(f"basin labels of {model.name}, {side}x{side} starts")
    for precision in (jnp.float64, jnp.float32):
        compiled = bl.compile_model(model, dtype=precision)
        points = bl.fixed_points(model)

        def labels(compiled=compiled, points=points):
            return bl.basin_map(
                compiled,
                "a",
                "c",
                ((-2.0, 2.0), (-1.0, 3.0)),
                resolution=side,
                points=points,
                progress=False,
            )

        started = time.perf_counter()
        labels()
        compile_seconds = time.perf_counter() - started
        started = time.perf_counter()
        labels()
        seconds = time.perf_counter() - started
        print(
            f"  {np.dtype(precision)}: {seconds:8.3f} s = {side * side / seconds:12.0f} labels/s "
            f"(first call {compile_seconds:.1f} s)"
        )
        measured["labels"].append(
            {"dtype": str(np.dtype(precision)), "labels_per_second": side * side / seconds}
        )
    if arguments.json:
        pathlib.Path(arguments.json).write_text(json.dumps(measured, indent=1))
    return int(failed)


if __name__ == "__main__":
    sys.exit(main())
