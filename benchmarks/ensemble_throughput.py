"""Basin labelling throughput: basinlab against a `solve_ivp` loop and compiled LSODA.

All sides label the same initial conditions of the default model (the alignment
double well) at the same tolerances and with the same stopping rules, stop when
max|f(y)| < steady_tol (1 + max|y|) or max|y| > divergence_bound, then match the
final state to the nearest stable fixed point.

- basinlab: `bl.integrate` then `label_attractors`, Tsit5 in the lean kernel (float64,
  and float32 with its error against float64), and the same through
  `diffrax.diffeqsolve` (`lean=False`) for reference.
- solve_ivp: a `scipy.integrate.solve_ivp` (RK45) loop with terminal events, what a
  researcher would write without basinlab.
- numbalsoda: LSODA compiled per trajectory, called from a numba loop over all cores
  (`prange`), the SymPy field lambdified to a numba `cfunc`. LSODA has no events
  here, so each trajectory is integrated in windows of `--lsoda-window` time units
  and the stopping rule is checked at the end of each window.

basinlab's rates are measured after one warm-up call (compilation is reported
separately), numbalsoda's after its numba compilation. Ratios are basinlab's rate
over each peer's, measured in the same run. The script exits non-zero if a peer's
labels agree with basinlab's on fewer than 99.9% of the shared starts.

Usage: python benchmarks/ensemble_throughput.py [--n 262144] [--n-scipy 2000]
[--n-lsoda 65536] [--lsoda-window 4] [--host-devices K] [--no-lsoda]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import sys
import time

import numpy as np


def scipy_labels(model, points, y0s, settings, match_tol):
    """Label each start with a `solve_ivp` solve, one trajectory at a time."""
    import scipy.integrate
    import sympy as sp

    substitution = model.param_substitution(exact=False)
    f = sp.lambdify([model.state], list(model.vector_field.subs(substitution)), "math")

    def rhs(t, y):
        return f(y)

    def steady(t, y):
        speed = max(abs(v) for v in f(y))
        return speed - settings.steady_tol * (1 + max(abs(y)))

    def escaped(t, y):
        return max(abs(y)) - settings.divergence_bound

    steady.terminal = escaped.terminal = True
    ends = np.empty_like(y0s)
    diverged = np.zeros(len(y0s), dtype=bool)
    for i, y0 in enumerate(y0s):
        solution = scipy.integrate.solve_ivp(
            rhs,
            (0.0, settings.t1),
            y0,
            method="RK45",
            rtol=settings.rtol,
            atol=settings.atol,
            first_step=settings.dt0,
            events=(steady, escaped),
        )
        ends[i] = solution.y[:, -1]
        diverged[i] = bool(solution.t_events[1].size)
    return nearest_stable(ends, diverged, points, match_tol)


def nearest_stable(ends, diverged, points, match_tol):
    """The label of each final state: the nearest stable fixed point within
    `match_tol` (relative), DIVERGED, or UNCONVERGED."""
    import basinlab as bl

    stable = np.array([p.numeric for p in points if p.stable])
    distance = np.max(np.abs(ends[:, None, :] - stable[None]), axis=2) / (
        1 + np.max(np.abs(stable), axis=1)
    )
    nearest = np.argmin(distance, axis=1)
    labels = np.where(distance[np.arange(len(ends)), nearest] < match_tol, nearest, bl.UNCONVERGED)
    return np.where(diverged | ~np.all(np.isfinite(ends), axis=1), bl.DIVERGED, labels)


def lsoda_solver(model, settings, window):
    """A numba function that integrates starts in parallel with numbalsoda's LSODA."""
    import numba
    import sympy as sp
    from numbalsoda import lsoda, lsoda_sig

    substitution = model.param_substitution(exact=False)
    u = sp.IndexedBase("u")
    names = {s: u[i] for i, s in enumerate(model.state)}
    field = numba.njit(
        sp.lambdify([u], tuple(e.subs(substitution).xreplace(names) for e in model.vector_field))
    )
    dim = model.dim

    @numba.cfunc(lsoda_sig)
    def rhs(t, y, dy, data):
        values = field(numba.carray(y, (dim,)))
        for i in range(dim):
            dy[i] = values[i]

    address = rhs.address
    t1, rtol, atol = settings.t1, settings.rtol, settings.atol
    steady_tol, bound = settings.steady_tol, settings.divergence_bound

    @numba.njit(parallel=True)
    def solve(y0s):
        ends = np.empty_like(y0s)
        diverged = np.zeros(len(y0s), dtype=np.bool_)
        for k in numba.prange(len(y0s)):
            y, t = y0s[k].copy(), 0.0
            while t < t1:
                values = field(y)
                size, speed = np.max(np.abs(y)), 0.0
                for i in range(dim):
                    speed = max(speed, abs(values[i]))
                if size > bound or not np.isfinite(size) or not np.isfinite(speed):
                    diverged[k] = True
                    break
                if speed < steady_tol * (1 + size):
                    break
                t_next = min(t + window, t1)
                path, ok = lsoda(address, y, np.array([t, t_next]), rtol=rtol, atol=atol)
                y, t = path[-1].copy(), t_next
                if not ok:
                    diverged[k] = True
                    break
            ends[k] = y
        return ends, diverged

    return solve


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=262_144, help="starts for basinlab")
    parser.add_argument("--n-scipy", type=int, default=2_000, help="starts for solve_ivp")
    parser.add_argument("--n-lsoda", type=int, default=65_536, help="starts for numbalsoda")
    parser.add_argument("--lsoda-window", type=float, default=4.0)
    parser.add_argument("--no-lsoda", action="store_true", help="skip numbalsoda")
    parser.add_argument(
        "--host-devices", type=int, default=0, help="split batches over K CPU host devices"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="also write the measurements to this JSON file")
    arguments = parser.parse_args()
    if arguments.host_devices:
        # Read by XLA when JAX starts, so before basinlab is imported.
        os.environ["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={arguments.host_devices}"

    import jax
    import jax.numpy as jnp

    import basinlab as bl
    from basinlab.simulations import label_attractors

    model = bl.models.alignment_double_well()
    settings = bl.SolverSettings()
    labelling = bl.LabelSettings()
    points = bl.fixed_points(model)
    rng = np.random.default_rng(arguments.seed)
    y0s = rng.uniform([-2.0, -1.0], [2.0, 3.0], size=(arguments.n, 2))

    def basinlab_run(compiled, starts, **overrides):
        run_settings = bl.SolverSettings(**overrides)
        p = compiled.param_vector()
        final = bl.integrate(compiled, starts, settings=run_settings, progress=False)
        labels = label_attractors(
            compiled, p, final, points, settings=run_settings, labels=labelling
        )[0]
        return labels, final["y_final"].values

    def timed(function, *args, **kwargs):
        started = time.perf_counter()
        value = function(*args, **kwargs)
        return value, time.perf_counter() - started

    double = bl.compile_model(model)
    single = bl.compile_model(model, dtype=jnp.float32)
    _, warmup = timed(basinlab_run, double, y0s[: settings.chunk_size])
    (ours, ends), ours_seconds = timed(basinlab_run, double, y0s)
    timed(basinlab_run, single, y0s[: settings.chunk_size])
    (ours32, ends32), seconds32 = timed(basinlab_run, single, y0s)
    plain_starts = y0s[: max(arguments.n // 4, 1)]
    timed(basinlab_run, double, plain_starts[: settings.batch_size], lean=False)
    (plain, _), plain_seconds = timed(basinlab_run, double, plain_starts, lean=False)

    rate = len(y0s) / ours_seconds
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, jax {jax.__version__}, "
        f"devices: {len(jax.local_devices())} x {jax.local_devices()[0].platform}"
    )
    print(
        f"model: {model.name}, rtol={settings.rtol}, atol={settings.atol}, "
        f"steady_tol={settings.steady_tol}"
    )
    print(
        f"basinlab lean float64: {len(y0s):>8} starts in {ours_seconds:7.2f} s = "
        f"{rate:10.0f} traj/s (first call with compilation: {warmup:.1f} s)"
    )
    converged = np.all(np.isfinite(ends32), axis=1) & (ours >= 0)
    print(
        f"basinlab lean float32: {len(y0s):>8} starts in {seconds32:7.2f} s = "
        f"{len(y0s) / seconds32:10.0f} traj/s ({len(y0s) / seconds32 / rate:.2f}x float64's "
        f"rate); labels agree with float64 on {100 * np.mean(ours32 == ours):.3f}%, "
        f"largest final-state difference {np.max(np.abs(ends32 - ends)[converged]):.2e}"
    )
    plain_rate = len(plain_starts) / plain_seconds
    print(
        f"basinlab diffrax path: {len(plain_starts):>8} starts in {plain_seconds:7.2f} s = "
        f"{plain_rate:10.0f} traj/s (lean kernel {rate / plain_rate:.1f}x faster; labels "
        f"agree on {100 * np.mean(plain == ours[: len(plain)]):.3f}%)"
    )

    failed = False
    measured = {
        "lean_per_second": rate,
        "float32_label_agreement": float(np.mean(ours32 == ours)),
        "diffrax_path_label_agreement": float(np.mean(plain == ours[: len(plain)])),
        "peers": {},
    }
    peers = [
        (
            "solve_ivp",
            arguments.n_scipy,
            lambda s: scipy_labels(model, points, s, settings, labelling.match_tol),
        )
    ]
    try:
        import numbalsoda  # noqa: F401
    except ImportError:
        if not arguments.no_lsoda:
            print("numbalsoda is not installed (pip install -e '.[bench]', needs gfortran)")
        arguments.no_lsoda = True
    if not arguments.no_lsoda:
        solve = lsoda_solver(model, settings, arguments.lsoda_window)
        solve(y0s[:2])  # numba compiles here
        peers.append(
            (
                f"numbalsoda LSODA (window {arguments.lsoda_window:g})",
                arguments.n_lsoda,
                lambda s: nearest_stable(*solve(s), points, labelling.match_tol),
            )
        )
    for name, count, label in peers:
        shared = y0s[:count]
        theirs, seconds = timed(label, shared)
        agreement = float(np.mean(ours[:count] == theirs))
        print(
            f"{name}: {count:>8} starts in {seconds:7.2f} s = {count / seconds:10.0f} traj/s; "
            f"ratio {rate / (count / seconds):.1f}x; label agreement {100 * agreement:.3f}%"
        )
        measured["peers"][name] = {"per_second": count / seconds, "label_agreement": agreement}
        if agreement < 0.999:
            print(f"{name}: label agreement below 99.9%", file=sys.stderr)
            failed = True
    if arguments.json:
        pathlib.Path(arguments.json).write_text(json.dumps(measured, indent=1))
    return int(failed)


if __name__ == "__main__":
    sys.exit(main())
