"""Training ensembles: n RL-perceptron runs at once against a loop of one compiled run.

Both sides train the same runs (`RewardPerceptronTask`, T = 3 actions per episode,
proxy overlap 0.7, flip 0.1, penalty 0.5) with the same keys. The peer calls one
compiled single run (`eqx.filter_jit` of the ensemble's own per-run function) in a
Python loop; basinlab's `train_ensemble` vmaps the runs in batches inside compiled
chunks. Rates are measured after a warm-up call of each, in the same process. The
memory per run is `run_bytes` (a run's record and four copies of its state); the
largest ensemble in 8 GB is the number of runs whose records fit there, as
`train_ensemble` returns them all at once, while its chunks stay within `--chunk-size`.
The exit status is 1 when the two sides' final overlaps differ by more than 1e-9.

Usage: python benchmarks/training_ensemble.py [--dim 500] [--steps 2000] [--n 256]
[--loop-runs 8] [--batch-size 64] [--chunk-size 256] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import pathlib
import platform
import sys
import time

import equinox as eqx
import jax
import numpy as np


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dim", type=int, default=500)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--n", type=int, default=256)
    parser.add_argument("--loop-runs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--chunk-size", type=int, default=256)
    parser.add_argument("--json", help="also write the measurements to this JSON file")
    arguments = parser.parse_args()

    from basinlab.simulations.training import (
        RewardPerceptronTask,
        run_bytes,
        run_keys,
        train_ensemble,
    )
    from basinlab.simulations.training._ensemble import _one_run

    task = RewardPerceptronTask(
        dim=arguments.dim, episode_length=3, proxy_overlap=0.7, flip=0.1, penalty=0.5
    )
    steps, log_every = arguments.steps, arguments.steps // 4
    single = eqx.filter_jit(lambda key: _one_run(task, key, None, 4, log_every))
    keys = run_keys(0, np.arange(arguments.loop_runs))
    jax.block_until_ready(single(keys[0]))
    started = time.perf_counter()
    looped = [jax.block_until_ready(single(key)) for key in keys]
    loop_rate = arguments.loop_runs / (time.perf_counter() - started)

    settings = dict(
        steps=steps,
        log_every=log_every,
        seed=0,
        chunk_size=arguments.chunk_size,
        batch_size=arguments.batch_size,
        progress=False,
    )
    train_ensemble(task, n=arguments.batch_size, **settings)  # compiles
    started = time.perf_counter()
    record = train_ensemble(task, n=arguments.n, **settings)
    ensemble_rate = arguments.n / (time.perf_counter() - started)
    gap = max(
        abs(float(path["overlap"][-1]) - float(record["overlap"].values[i, -1]))
        for i, (path, _, _) in enumerate(looped)
    )
    record_bytes = sum(v.values[0].nbytes for v in record.data_vars.values())
    per_run = run_bytes(task, steps, log_every)
    budget = 8 * 2**30
    measured = {
        "machine": f"{platform.machine()}, Python {platform.python_version()}, "
        f"jax {jax.__version__}, {jax.devices()[0].platform}",
        "dim": arguments.dim,
        "steps": steps,
        "loop_runs_per_second": loop_rate,
        "ensemble_runs_per_second": ensemble_rate,
        "ratio": ensemble_rate / loop_rate,
        "largest_final_overlap_gap": gap,
        "record_bytes_per_run": record_bytes,
        "run_bytes": per_run,
        "records_in_8_gb": budget // record_bytes,
    }
    print(measured["machine"])
    print(
        f"D = {arguments.dim}, {steps} episodes: loop {loop_rate:.1f} runs/s, ensemble "
        f"{ensemble_rate:.1f} runs/s (batch {arguments.batch_size}), ratio "
        f"{measured['ratio']:.1f}x; final overlaps agree to {gap:.1e}"
    )
    print(
        f"memory per run {per_run} bytes (record {record_bytes} bytes): "
        f"{measured['records_in_8_gb']:,} runs fit in 8 GB"
    )
    if arguments.json:
        pathlib.Path(arguments.json).write_text(json.dumps(measured, indent=1))
    return 0 if gap < 1e-9 else 1


if __name__ == "__main__":
    sys.exit(main())
