"""Speed-up of a basin-fractions job over two JAX processes against one, on one machine.

Each process is pinned to its own core (`os.sched_setaffinity`) and the two join
through a localhost coordinator (`basinlab.join_processes`), sharing one checkpoint
folder, exactly as on a cluster. The peer is the same job in one process pinned to
one core, measured in the same run. Also printed: the chunks' size on disk (the
shared-filesystem traffic per chunk: one write by its owner, one read by each other
process) and the time to join. `basin_fractions` shares the integration of its
starts; each process then labels the whole ensemble itself. `integrate` alone is
timed too.

    python benchmarks/multi_process.py [--n 200000] [--chunk-size 16384]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import time


def _child(arguments: argparse.Namespace) -> None:
    os.sched_setaffinity(0, {arguments.core})
    import numpy as np
    import numpyro.distributions as dist

    import basinlab as bl

    started = time.perf_counter()
    if arguments.processes > 1:
        bl.join_processes(arguments.processes, arguments.process_id, f"localhost:{arguments.port}")
    joined = time.perf_counter()
    model = bl.models.alignment_double_well()
    p0 = dist.Normal(np.zeros(2), 1.0)
    # Compiling is done once per process, as on a cluster; it is timed apart, on one
    # chunk of the same shape.
    bl.basin_fractions(
        model, p0, n=arguments.chunk_size, seed=1, chunk_size=arguments.chunk_size, progress=False
    )
    compiled = time.perf_counter()
    result = bl.basin_fractions(
        model,
        p0,
        n=arguments.n,
        seed=0,
        chunk_size=arguments.chunk_size,
        progress=False,
        checkpoint_dir=arguments.folder,
    )
    done = time.perf_counter()
    starts = np.random.default_rng(0).normal(size=(arguments.n, 2))
    bl.integrate(
        model,
        starts,
        chunk_size=arguments.chunk_size,
        progress=False,
        checkpoint_dir=str(pathlib.Path(arguments.folder) / "integrate"),
    )
    integrated = time.perf_counter()
    chunks = sorted(pathlib.Path(arguments.folder).glob("[!i]*/chunk_*.npz"))
    print(
        json.dumps(
            {
                "join_s": joined - started,
                "compile_s": compiled - joined,
                "fractions_s": done - compiled,
                "integrate_s": integrated - done,
                "count": result["count"].values.tolist(),
                "chunks": len(chunks),
                "chunk_bytes": sum(c.stat().st_size for c in chunks) / max(len(chunks), 1),
            }
        ),
        flush=True,
    )


def _run(processes: int, arguments: argparse.Namespace, folder: str) -> list[dict]:
    with socket.socket() as probe:
        probe.bind(("localhost", 0))
        port = probe.getsockname()[1]
    shared = ("--processes", processes, "--port", port, "--folder", folder, "--n", arguments.n)
    shared += ("--chunk-size", arguments.chunk_size)
    children = [
        subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--child",
                *map(str, (*shared, "--core", k, "--process-id", k)),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        for k in range(processes)
    ]
    outputs = [child.communicate()[0] for child in children]
    if any(child.returncode for child in children):
        raise RuntimeError(f"a process failed: {outputs}")
    return [json.loads(output.strip().splitlines()[-1]) for output in outputs]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--chunk-size", type=int, default=16_384)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--core", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--processes", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--process-id", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        _child(arguments)
        return
    with tempfile.TemporaryDirectory() as alone, tempfile.TemporaryDirectory() as shared:
        (one,) = _run(1, arguments, alone)
        two = _run(2, arguments, shared)
    if any(t["count"] != one["count"] for t in two):
        raise RuntimeError("the processes' fractions differ from one process's")
    print(f"machine: {os.cpu_count()} cores; n = {arguments.n}, {one['chunks']} chunks")
    for what in ("fractions", "integrate"):
        slowest = max(t[f"{what}_s"] for t in two)
        print(
            f"{what}: 1 process on 1 core {one[f'{what}_s']:.2f} s, 2 processes on 1 core "
            f"each {slowest:.2f} s (the slower): {one[f'{what}_s'] / slowest:.2f}x"
        )
    print("fraction counts identical in every process")
    print(f"per chunk on disk: {one['chunk_bytes'] / 1e6:.2f} MB")
    print(f"join: {max(t['join_s'] for t in two):.2f} s; compile: {one['compile_s']:.2f} s")


if __name__ == "__main__":
    main()
