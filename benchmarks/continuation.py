"""Continuation against a loop of `basin_fractions`: the default model over the bias.

`basinlab.continuation` follows the basin fractions of the alignment double well over
`--values` values of the bias in [0, 1.2]. The peers do the same work by calling
`basinlab.basin_fractions` once per value with the same starts (same `p0`, `n` and
seed): first as a researcher would write it, passing the `Model` (so each call
compiles its own solver), then with one compiled model shared by every call. The
ratios are the peers' wall time over continuation's, all measured in this run after
one warm-up of continuation's compiled solver.

The script exits non-zero if, at any value, the fraction that continuation gives an
attractor differs from the fraction `basin_fractions` gives the stable point at the
same place by more than the extra seeded starts could explain (they are not counted,
so the two should agree exactly).

Usage: python benchmarks/continuation.py [--n 4000] [--values 25]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

import jax.numpy as jnp
import numpy as np
import numpyro.distributions as dist

import basinlab as bl


def loop_fractions(model, values, box, n, seed) -> list[dict[tuple, float]]:
    """One `basin_fractions` call per value; the fraction of each attractor by location."""
    rows = []
    for value in values:
        result = bl.basin_fractions(
            model, box, n=n, seed=seed, params={"bias": value}, progress=False
        )
        fractions = result["fraction"].values
        rows.append(
            {
                tuple(np.round(location, 6)): float(fractions[i])
                for i, location in enumerate(result["attractor_location"].values)
            }
        )
    return rows


def timed(function, *arguments) -> tuple[float, object]:
    start = time.perf_counter()
    value = function(*arguments)
    return time.perf_counter() - start, value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4000, help="starts per value")
    parser.add_argument("--values", type=int, default=25, help="values of the bias")
    parser.add_argument("--seed", type=int, default=0)
    arguments = parser.parse_args()

    model = bl.models.alignment_double_well()
    compiled = bl.compile_model(model)
    values = np.linspace(0.0, 1.2, arguments.values)
    box = dist.Uniform(jnp.array([-2.0, -1.0]), jnp.array([2.0, 3.0])).to_event(1)
    n, seed = arguments.n, arguments.seed

    def run_continuation():
        return bl.continuation(compiled, "bias", values, box, n=n, seed=seed, progress=False)

    warm_up, _ = timed(run_continuation)
    continuation_time, result = timed(run_continuation)
    model_loop_time, _ = timed(loop_fractions, model, values, box, n, seed)
    compiled_loop_time, rows = timed(loop_fractions, compiled, values, box, n, seed)

    worst = 0.0
    for k, row in enumerate(rows):
        for identity in result["attractor"].values:
            if not result["present"].values[k, identity]:
                continue
            location = tuple(np.round(result["location"].values[k, identity], 6))
            nearest = min(row, key=lambda key: np.max(np.abs(np.subtract(key, location))))
            worst = max(worst, abs(row[nearest] - result["fraction"].values[k, identity]))

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    print(f"values: {len(values)}, starts per value: {n}")
    print(f"continuation, first call (compiles): {warm_up:.2f} s")
    print(f"continuation: {continuation_time:.2f} s")
    print(
        f"loop of basin_fractions(Model): {model_loop_time:.2f} s "
        f"(ratio {model_loop_time / continuation_time:.2f}x)"
    )
    print(
        f"loop of basin_fractions(CompiledModel): {compiled_loop_time:.2f} s "
        f"(ratio {compiled_loop_time / continuation_time:.2f}x)"
    )
    print(f"largest fraction difference: {worst:.2e}")
    return 0 if worst <= 1 / n else 1


if __name__ == "__main__":
    sys.exit(main())
