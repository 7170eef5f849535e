"""Teacher-student ODEs, K = M = 4 with the second layer trained: build, compile, integrate.

basinlab builds the order-parameter ODEs symbolically, compiles them to JAX and
integrates them with diffrax (Tsit5, adaptive) to alpha = 1000. The peer is a plain
NumPy forward-Euler loop over the same right-hand side (SymPy-lambdified to NumPy), at
a step that reaches the same accuracy at alpha = 1000.

Accuracy is the largest absolute error of the state at alpha = 1000 against a
reference solve at rtol = 1e-12. Euler's error is first order in its step, so the
script measures Euler at a few steps, fits error = C * dt, and takes the step that
gives basinlab's error. When that step would take longer than `--euler-budget`
seconds, the Euler time is the measured cost per step times the number of steps
needed, and is marked "(projected)".

Usage: python benchmarks/teacher_student.py [--rtol 1e-6]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

import numpy as np
import sympy as sp

import basinlab as bl

ALPHA = 1000.0


def start(model: bl.Model) -> np.ndarray:
    """Small random overlaps with unit-ish student norms (seeded)."""
    rng = np.random.default_rng(0)
    values = []
    for name in model.state_names:
        kind, *index = name.split("_")
        if kind == "Q":
            values.append(0.5 if index[0] == index[1] else 0.01 * rng.normal())
        elif kind == "R":
            values.append(0.01 * rng.normal())
        else:
            values.append(0.5 + 0.1 * rng.normal())
    return np.array(values)


def euler(function, y0: np.ndarray, params: list[float], dt: float) -> tuple[np.ndarray, float]:
    steps = round(ALPHA / dt)
    y = y0.copy()
    started = time.perf_counter()
    for _ in range(steps):
        y = y + dt * np.asarray(function(y, params), dtype=float)
    return y, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rtol", type=float, default=1e-6)
    parser.add_argument("--euler-budget", type=float, default=60.0, help="seconds")
    arguments = parser.parse_args()

    started = time.perf_counter()
    model = bl.models.teacher_student(4, 4, train_second_layer=True)
    build = time.perf_counter() - started
    started = time.perf_counter()
    compiled = bl.compile_model(model)
    y0 = start(model)
    times = np.array([0.0, ALPHA])
    settings = dict(rtol=arguments.rtol, atol=arguments.rtol * 1e-2, max_steps=1_000_000)
    bl.trajectories(compiled, y0[None], times, **settings)
    compile_seconds = time.perf_counter() - started
    started = time.perf_counter()
    ours = bl.trajectories(compiled, y0[None], times, **settings)["y"].values[0, -1]
    ours_seconds = time.perf_counter() - started
    reference = bl.trajectories(
        compiled, y0[None], times, rtol=1e-12, atol=1e-14, max_steps=10_000_000
    )
    exact = reference["y"].values[0, -1]
    ours_error = float(np.max(np.abs(ours - exact)))

    params = [model.params[s] for s in model.param_symbols]
    started = time.perf_counter()
    function = sp.lambdify(
        [model.state, model.param_symbols], list(model.vector_field), "numpy", cse=True
    )
    numpy_build = time.perf_counter() - started
    steps, errors, costs, walls = [0.2, 0.1, 0.05], [], [], []
    for dt in steps:
        y, seconds = euler(function, y0, params, dt)
        errors.append(float(np.max(np.abs(y - exact))))
        costs.append(seconds / (ALPHA / dt))
        walls.append(seconds)
    constant = float(np.median(np.array(errors) / np.array(steps)))
    needed = ours_error / constant
    per_step = float(np.median(costs))
    projected = per_step * ALPHA / needed
    if projected <= arguments.euler_budget:
        y, euler_seconds = euler(function, y0, params, needed)
        euler_error = float(np.max(np.abs(y - exact)))
        note = ""
    else:
        euler_seconds, euler_error, note = projected, ours_error, " (projected)"

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"model: {model.name} with trained second layer, {model.dim} states, to alpha={ALPHA:g}")
    print(f"build (SymPy): basinlab {build:.2f} s")
    print(
        f"compile: basinlab lambdify + jit {compile_seconds:.2f} s, "
        f"NumPy lambdify {numpy_build:.2f} s"
    )
    print(
        f"measured Euler runs: steps {steps}, errors {[f'{e:.2e}' for e in errors]}, "
        f"seconds {[f'{w:.2f}' for w in walls]}; fitted C = {constant:.3g}"
    )
    print(
        f"integrate: basinlab Tsit5 rtol={arguments.rtol:g}: {ours_seconds:.3f} s, "
        f"error {ours_error:.2e}"
    )
    print(
        f"integrate: NumPy Euler dt={needed:.2e} ({ALPHA / needed:.3g} steps){note}: "
        f"{euler_seconds:.1f} s, error {euler_error:.2e}"
    )
    print(
        f"ratio (Euler / basinlab, integration at equal error): "
        f"{euler_seconds / ours_seconds:.0f}x{note}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
