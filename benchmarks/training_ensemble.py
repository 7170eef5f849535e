"""Training ensembles: n runs at once against a Python loop of one compiled run.

Two tasks: the RL perceptron (`RewardPerceptronTask`, D = `--dim`, T = 3 actions
per episode, proxy overlap 0.7, flip 0.1, penalty 0.5) and the in-context mixture
(`InContextMixtureTask`, a width-32, one-block transformer on d = 2 prompts, batch
64). Both sides train the same runs with the same keys. The peer calls one compiled
single run (`eqx.filter_jit` of the ensemble's own per-run function) in a Python
loop; basinlab's `train_ensemble` vmaps the runs in batches inside compiled chunks.
Rates are measured after a warm-up call of each, in the same process.

The memory per run is `run_bytes` (a run's record and four copies of its state);
the largest ensemble in 8 GB is the number of runs whose records fit there, as
`train_ensemble` returns them all at once, while its chunks stay within
`--chunk-size`. The exit status is 1 when the two sides' final logged quantities
differ by more than 1e-9 (relative).

Usage: python benchmarks/training_ensemble.py [--task reward_perceptron|in_context_mixture]
[--dim 500] [--steps 2000] [--mixture-steps 200] [--n 256] [--loop-runs 8]
[--batch-size 64] [--chunk-size 256] [--json FILE]
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

TASKS = ("reward_perceptron", "in_context_mixture")


def measure(task, steps: int, n: int, loop_runs: int, batch_size: int, chunk_size: int) -> dict:
    """Runs per second of a loop of single runs and of the ensemble, and their gap."""
    from basinlab.simulations.training import run_bytes, run_keys, train_ensemble
    from basinlab.simulations.training._ensemble import one_run

    log_every = steps // 4
    single = eqx.filter_jit(lambda key: one_run(task, key, None, 4, log_every)[:3])
    keys = run_keys(0, np.arange(loop_runs))
    jax.block_until_ready(single(keys[0]))
    started = time.perf_counter()
    looped = [jax.block_until_ready(single(key)) for key in keys]
    loop_rate = loop_runs / (time.perf_counter() - started)

    settings = dict(
        steps=steps,
        log_every=log_every,
        seed=0,
        chunk_size=chunk_size,
        batch_size=batch_size,
        progress=False,
    )
    train_ensemble(task, n=batch_size, **settings)  # compiles
    started = time.perf_counter()
    record = train_ensemble(task, n=n, **settings)
    ensemble_rate = n / (time.perf_counter() - started)
    gap = max(
        abs(float(path[name][-1]) / float(record[name].values[i, -1]) - 1)
        for i, (path, _, _) in enumerate(looped)
        for name in path
    )
    record_bytes = sum(v.values[0].nbytes for v in record.data_vars.values())
    return {
        "task": task.name,
        "settings": task.settings(),
        "steps": steps,
        "batch_size": batch_size,
        "loop_runs_per_second": loop_rate,
        "ensemble_runs_per_second": ensemble_rate,
        "ratio": ensemble_rate / loop_rate,
        "largest_relative_gap": gap,
        "record_bytes_per_run": record_bytes,
        "run_bytes": run_bytes(task, steps, log_every),
        "records_in_8_gb": 8 * 2**30 // record_bytes,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=TASKS, action="append")
    parser.add_argument("--dim", type=int, default=500)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--mixture-steps", type=int, default=200)
    parser.add_argument("--n", type=int, default=256)
    parser.add_argument("--loop-runs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--chunk-size", type=int, default=256)
    parser.add_argument("--json", help="also write the measurements to this JSON file")
    arguments = parser.parse_args()

    from basinlab.simulations.training import InContextMixtureTask, RewardPerceptronTask

    machine = (
        f"{platform.machine()}, Python {platform.python_version()}, "
        f"jax {jax.__version__}, {jax.devices()[0].platform}"
    )
    print(machine)
    results = []
    for name in arguments.task or TASKS:
        if name == "reward_perceptron":
            task = RewardPerceptronTask(
                dim=arguments.dim, episode_length=3, proxy_overlap=0.7, flip=0.1, penalty=0.5
            )
            steps = arguments.steps
        else:
            steps = arguments.mixture_steps
            task = InContextMixtureTask(
                dim=2, width=32, batch=64, fraction=0.3, planned_steps=steps
            )
        measured = measure(
            task,
            steps,
            arguments.n,
            arguments.loop_runs,
            arguments.batch_size,
            arguments.chunk_size,
        )
        results.append(measured)
        print(
            f"{name}, {steps} steps: loop {measured['loop_runs_per_second']:.2f} runs/s, "
            f"ensemble {measured['ensemble_runs_per_second']:.2f} runs/s (batch "
            f"{arguments.batch_size}), ratio {measured['ratio']:.1f}x; final values agree "
            f"to {measured['largest_relative_gap']:.1e} (relative)"
        )
        print(
            f"  memory per run {measured['run_bytes']} bytes (record "
            f"{measured['record_bytes_per_run']} bytes): {measured['records_in_8_gb']:,} runs "
            "fit in 8 GB"
        )
    if arguments.json:
        pathlib.Path(arguments.json).write_text(
            json.dumps({"machine": machine, "tasks": results}, indent=1)
        )
    return 0 if all(r["largest_relative_gap"] < 1e-9 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
