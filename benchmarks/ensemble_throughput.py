"""Basin labelling throughput: basinlab against a plain `scipy.integrate.solve_ivp` loop.

Both label the same initial conditions of the default model (the alignment double
well) at the same tolerances and with the same stopping rules: RK45/Tsit5 (both
Dormand–Prince-type 5(4) pairs), rtol and atol as below, stop when
max|f(y)| < steady_tol (1 + max|y|) or max|y| > divergence_bound, then match the final
state to the nearest stable fixed point. The solve_ivp loop is what a researcher would
write without basinlab.

basinlab's rate is measured after one warm-up call (compilation is reported
separately); the ratio is basinlab's rate over solve_ivp's. The script exits non-zero
if the labels agree on fewer than 99.9% of the shared initial conditions.

Usage: python benchmarks/ensemble_throughput.py [--n 262144] [--n-scipy 2000]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

import numpy as np
import scipy.integrate
import sympy as sp

import basinlab as bl
from basinlab.simulations import label_attractors


def scipy_labels(model, points, y0s, settings, match_tol):
    """Label each start with a `solve_ivp` solve, one trajectory at a time."""
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
    stable = [np.array(p.numeric) for p in points if p.stable]
    labels = np.empty(len(y0s), dtype=int)
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
        end = solution.y[:, -1]
        if solution.t_events[1].size or not np.all(np.isfinite(end)):
            labels[i] = bl.DIVERGED
            continue
        distance = [np.max(np.abs(end - s)) / (1 + np.max(np.abs(s))) for s in stable]
        nearest = int(np.argmin(distance))
        labels[i] = nearest if distance[nearest] < match_tol else bl.UNCONVERGED
    return labels


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=262_144, help="starts for basinlab")
    parser.add_argument("--n-scipy", type=int, default=2_000, help="starts for solve_ivp")
    parser.add_argument("--seed", type=int, default=0)
    arguments = parser.parse_args()

    model = bl.models.alignment_double_well()
    compiled = bl.compile_model(model)
    settings = bl.SolverSettings()
    labelling = bl.LabelSettings()
    points = bl.fixed_points(model)
    rng = np.random.default_rng(arguments.seed)
    y0s = rng.uniform([-2.0, -1.0], [2.0, 3.0], size=(arguments.n, 2))
    p = compiled.param_vector()

    def basinlab_labels(starts):
        final = bl.integrate(compiled, starts, settings=settings, progress=False)
        return label_attractors(compiled, p, final, points, settings, labelling)[0]

    started = time.perf_counter()
    basinlab_labels(y0s[: settings.batch_size])
    warmup = time.perf_counter() - started
    started = time.perf_counter()
    ours = basinlab_labels(y0s)
    ours_seconds = time.perf_counter() - started

    shared = y0s[: arguments.n_scipy]
    started = time.perf_counter()
    theirs = scipy_labels(model, points, shared, settings, labelling.match_tol)
    theirs_seconds = time.perf_counter() - started

    ours_rate = len(y0s) / ours_seconds
    theirs_rate = len(shared) / theirs_seconds
    agreement = float(np.mean(ours[: len(shared)] == theirs))
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    print(
        f"model: {model.name}, rtol={settings.rtol}, atol={settings.atol}, "
        f"steady_tol={settings.steady_tol}"
    )
    print(
        f"basinlab:  {len(y0s):>8} starts in {ours_seconds:8.2f} s = {ours_rate:10.0f} traj/s "
        f"(first call with compilation: {warmup:.1f} s)"
    )
    print(
        f"solve_ivp: {len(shared):>8} starts in {theirs_seconds:8.2f} s = "
        f"{theirs_rate:10.0f} traj/s"
    )
    print(f"ratio: {ours_rate / theirs_rate:.0f}x")
    print(f"label agreement on {len(shared)} shared starts: {100 * agreement:.2f}%")
    if agreement < 0.999:
        print("label agreement below 99.9%", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
