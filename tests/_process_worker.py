"""One process of a multi-process run in the tests.

`python _process_worker.py PROCESSES PROCESS_ID PORT SHARED OUT WORK [DELAY]` waits
DELAY seconds, joins the run (from Slurm's environment when PORT is `slurm`), does
each piece of WORK (comma-separated names of `PIECES`) with its chunks in the folder
SHARED, and saves what it got in OUT, with a log of the chunks it wrote itself. The
test imports the pieces to compute the same work in one process.
`BASINLAB_TEST_PEER_TIMEOUT` sets the join's timeout, and
`BASINLAB_TEST_PAUSE_AFTER_WRITE` a pause after each chunk written."""

import os
import pathlib
import sys
import time

import numpy as np


def _model():
    import basinlab as bl

    return bl.models.alignment_double_well()


def _fractions(shared, n, seed, chunk_size):
    import numpyro.distributions as dist

    import basinlab as bl

    p0 = dist.Normal(np.zeros(2), 1.0)
    return bl.basin_fractions(
        _model(), p0, n=n, seed=seed, chunk_size=chunk_size, progress=False, checkpoint_dir=shared
    )


def fractions(shared):
    """Fractions in 5 chunks."""
    return _fractions(shared, n=320, seed=0, chunk_size=64)


def basin_map(shared):
    import basinlab as bl

    return bl.basin_map(
        _model(),
        "a",
        "c",
        bounds=((-2, 2), (-2, 2)),
        resolution=16,
        chunk_size=64,
        progress=False,
        checkpoint_dir=shared,
    )


def continuation(shared):
    import numpyro.distributions as dist

    import basinlab as bl

    p0 = dist.Normal(np.zeros(2), 1.0)
    settings = bl.SolverSettings(chunk_size=64)
    return bl.continuation(
        _model(),
        "bias",
        [0.0, 0.1, 0.2],
        p0,
        n=128,
        settings=settings,
        progress=False,
        checkpoint_dir=shared,
    )


def training(shared):
    from basinlab.simulations.training import RewardPerceptronTask, train_ensemble

    task = RewardPerceptronTask(dim=50, episode_length=3, proxy_overlap=0.3, penalty=0.5)
    return train_ensemble(
        task,
        n=80,
        steps=200,
        log_every=50,
        seed=3,
        chunk_size=16,
        batch_size=8,
        progress=False,
        checkpoint_dir=shared,
    )


def fractions_fine(shared):
    """Fractions in 10 chunks, for a kill between chunks."""
    return _fractions(shared, n=320, seed=1, chunk_size=32)


PIECES = {"fractions": fractions, "map": basin_map, "continuation": continuation}
PIECES["training"] = training
_ALL = {**PIECES, "fractions_fine": fractions_fine}


def main(processes, process_id, port, shared, out, work, delay=0.0):
    time.sleep(float(delay))
    import basinlab as bl
    from basinlab.simulations._engine._checkpoint import ChunkStore

    timeout = float(os.environ.get("BASINLAB_TEST_PEER_TIMEOUT", "60"))
    pause = float(os.environ.get("BASINLAB_TEST_PAUSE_AFTER_WRITE", "0"))
    if port == "slurm":  # the count and index from Slurm's environment, as JAX reads them
        bl.join_processes(timeout=timeout)
    else:
        bl.join_processes(int(processes), int(process_id), f"localhost:{port}", timeout=timeout)
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    log = out / f"written-{process_id}.txt"
    write = ChunkStore.write

    def logged(store, index, arrays):
        write(store, index, arrays)
        with log.open("a") as file:
            file.write(f"{store.directory.name} {index}\n")
        time.sleep(pause)  # so that a test can kill this process between chunks

    ChunkStore.write = logged
    for name in work.split(","):
        result = _ALL[name](str(pathlib.Path(shared) / name))
        bl.save(result, out / f"{name}-{process_id}.nc")
    print(f"process {process_id} of {processes}: done", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
