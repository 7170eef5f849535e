"""Several JAX processes sharing one result: each computes its share of the chunks,
writes them to a folder they all see, and reads the others' back."""

from __future__ import annotations

import atexit
import concurrent.futures
import contextlib
import json
import os
import pathlib
import re
import socket
import threading
import time
from collections.abc import Callable

import jax
import numpy as np

from .._storage._atomic import atomic_output
from ._checkpoint import ChunkStore

# How long a process waits for the coordinator, and for its peers' marks in a shared
# folder, before it says what is wrong (seconds). `join_processes` sets it.
_PEER_TIMEOUT = {"seconds": 60.0}
_ADDRESS = re.compile(r"^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.\-]+):(\d{1,5})$")
# The environment variables by which JAX's cluster detection knows a Slurm or Open MPI
# job with more than one task.
_CLUSTER_SIZE = ("SLURM_NTASKS", "OMPI_COMM_WORLD_SIZE")


def _coordinator(address: str) -> tuple[str, int]:
    match = _ADDRESS.match(address) if isinstance(address, str) else None
    if match is None or not 0 < int(match.group(2)) < 65536:
        raise ValueError(f"the coordinator must be HOST:PORT (a port in 1-65535), got {address!r}")
    return match.group(1).strip("[]"), int(match.group(2))


def _wait_until_reachable(host: str, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=1.0):
                return
        except OSError as error:
            if time.monotonic() > deadline:
                raise ConnectionError(
                    f"cannot reach the coordinator at {host}:{port} within {timeout:g} s "
                    f"({error.strerror or error}): is process 0 running there?"
                ) from None
            time.sleep(0.2)


def _check_free(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("", port))
        except OSError:
            raise ConnectionError(
                f"process 0 cannot serve as coordinator on port {port}: the port is in use"
            ) from None


def join_processes(
    processes: int | None = None,
    process_id: int | None = None,
    coordinator: str | None = None,
    *,
    timeout: float = 60.0,
) -> tuple[int, int]:
    r"""Join this process to a run over several processes (hosts, or cores of one
    host), through JAX's distributed runtime.

    Afterwards every ensemble with a `checkpoint_dir` that all processes share
    ([`basinlab.integrate`][], and so `basin_fractions`, `basin_map` and
    `continuation`, and `train_ensemble`) computes every `processes`-th chunk from
    this process's index, writes it there, and reads the other processes' chunks as
    they land, so each process returns the whole result. A process that is killed
    and started again rejoins (JAX's recoverable tasks) and resumes from its chunks
    on disk; the others wait for its chunks meanwhile.

    Given nothing, it reads what JAX's cluster detection reads (Slurm's
    `SLURM_NTASKS` and `SLURM_PROCID`, Open MPI's `OMPI_COMM_WORLD_SIZE` and
    `OMPI_COMM_WORLD_RANK`); outside such a job there is one process and nothing to
    join. It must run before any JAX computation.

    **Arguments:**

    - `processes`: how many processes take part.
    - `process_id`: this process's index, in `[0, processes)`.
    - `coordinator`: `HOST:PORT` where process 0 serves the runtime; every process
      gives the same.
    - `timeout`: seconds to wait for the coordinator to be reachable, for all
      processes to join, for the other processes' marks in a shared folder, and
      for a sign of life from a process whose chunks this one waits for, before
      failing with a message that says which.

    **Returns:**

    `(process_index, process_count)`.

    **Raises:**

    - `ValueError`: a count below 1, an index outside `[0, processes)`, a malformed
      coordinator, some but not all of the three, or JAX already started.
    - `ConnectionError`: the coordinator cannot be reached within `timeout` (or,
      for process 0, its port is taken).
    """
    if not (isinstance(timeout, (int, float)) and 0 < timeout < 1e6):
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    _PEER_TIMEOUT["seconds"] = float(timeout)
    given = [v is not None for v in (processes, process_id, coordinator)]
    if jax.distributed.is_initialized():
        return jax.process_index(), jax.process_count()
    if not any(given):
        if not any(int(os.environ.get(name, "1") or 1) > 1 for name in _CLUSTER_SIZE):
            return 0, 1
        jax.config.update("jax_enable_recoverability", True)
        jax.distributed.initialize(initialization_timeout=int(np.ceil(timeout)))
        _leave_together()
        return jax.process_index(), jax.process_count()
    if not all(given) and processes != 1:
        raise ValueError("give all of processes, process_id and coordinator, or none of them")
    for value, name in ((processes, "processes"), (process_id, "process_id")):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValueError(f"{name} must be an integer, got {value!r}")
    if processes < 1:
        raise ValueError(f"processes must be at least 1, got {processes}")
    index = 0 if process_id is None else process_id
    if not 0 <= index < processes:
        raise ValueError(
            f"process_id must lie in [0, {processes}) for {processes} processes, got {index}"
        )
    if processes == 1:
        return 0, 1
    host, port = _coordinator(coordinator)
    if index == 0:
        _check_free(port)
    else:
        _wait_until_reachable(host, port, timeout)
    from jax._src import xla_bridge

    if xla_bridge.backends_are_initialized():
        raise ValueError("join_processes must run before any JAX computation in this process")
    # Without recoverable tasks the runtime ends every process when one dies, and a
    # restarted one cannot rejoin.
    jax.config.update("jax_enable_recoverability", True)
    jax.distributed.initialize(
        coordinator,
        processes,
        index,
        initialization_timeout=int(np.ceil(timeout)),
        cluster_detection_method="deactivate",
    )
    _leave_together()
    return jax.process_index(), jax.process_count()


def _leave_together() -> None:
    """At exit every process waits (up to the timeout) at one barrier, and process 0
    then gives the others a moment to disconnect: with recoverable tasks the runtime
    does not synchronise its shutdown, and a process still connected when the
    coordinator is gone fails as it disconnects."""
    if jax.process_count() == 1:
        return
    from jax._src.distributed import global_state

    def wait() -> None:
        if global_state.client is None:
            return
        try:
            milliseconds = int(_PEER_TIMEOUT["seconds"] * 1000)
            global_state.client.wait_at_barrier("basinlab_exit", milliseconds)
        except Exception:  # a process that never came back: leave anyway
            pass
        if jax.process_index() == 0:
            time.sleep(1.0)

    # Registered after JAX's own shutdown at exit, so it runs before it.
    atexit.register(wait)


def chunk_share(chunks: int, process_index: int, process_count: int) -> list[int]:
    """The chunks that one process of a multi-process run computes: every
    `process_count`-th, starting at its index, so shares differ by at most one
    chunk and any count of processes works with any count of chunks.

    **Arguments:**

    - `chunks`: how many chunks the work has.
    - `process_index`, `process_count`: this process and how many there are.

    **Returns:**

    The indices of this process's chunks, increasing.

    **Raises:**

    - `ValueError`: a count is below 1, or the index is outside `[0, process_count)`.
    """
    if chunks < 1 or process_count < 1:
        raise ValueError(f"need at least one chunk and one process, got {chunks}, {process_count}")
    if not 0 <= process_index < process_count:
        raise ValueError(f"process index {process_index} is outside [0, {process_count})")
    return list(range(process_index, chunks, process_count))


def _mark(directory: pathlib.Path, process_index: int, process_count: int) -> pathlib.Path:
    return directory / "processes" / f"{process_count}-{process_index}.json"


def check_shared_folder(directory: pathlib.Path, process_index: int, process_count: int) -> None:
    """Leave this process's mark in `directory` and wait until the marks of all
    `process_count` processes are there.

    **Raises:**

    - `ValueError`: after the timeout of [`join_processes`][] some marks are missing,
      so the folder is not one that every process sees.
    """
    mine = _mark(directory, process_index, process_count)
    mine.parent.mkdir(parents=True, exist_ok=True)
    if not mine.exists():
        with atomic_output(mine) as temporary:
            temporary.write_text(json.dumps({"host": socket.gethostname(), "pid": os.getpid()}))
    timeout = _PEER_TIMEOUT["seconds"]
    deadline = time.monotonic() + timeout
    while True:
        seen = [k for k in range(process_count) if _mark(directory, k, process_count).exists()]
        if len(seen) == process_count:
            return
        if time.monotonic() > deadline:
            raise ValueError(
                f"the checkpoint folder {directory.parent} is not shared: after {timeout:g} s "
                f"process {process_index} sees the marks of processes {seen} only, of "
                f"{process_count}; give a folder that every process can read and write"
            )
        time.sleep(0.2)


class _SignsOfLife:
    """While open, touch this process's mark every few seconds, so that the others
    can tell a process at work from one that died."""

    def __init__(self, mark: pathlib.Path):
        self.mark, self.stop = mark, threading.Event()
        self.thread = threading.Thread(target=self._beat, daemon=True)

    def _beat(self) -> None:
        interval = min(_PEER_TIMEOUT["seconds"] / 4, 5.0)
        while not self.stop.wait(interval):
            with contextlib.suppress(OSError):
                os.utime(self.mark)

    def __enter__(self) -> _SignsOfLife:
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop.set()
        self.thread.join()


def _wait_for_chunk(
    store: ChunkStore, index: int, owner: pathlib.Path | None, poll_seconds: float = 0.1
) -> dict[str, np.ndarray]:
    """A chunk another process computes, once it is on disk.

    **Raises:**

    - `ValueError`: its owner's mark (`owner`) has not changed for the timeout of
      [`join_processes`][], measured on this process's clock: the owner stopped.
    """
    timeout = _PEER_TIMEOUT["seconds"]
    last, since = None, time.monotonic()
    while (saved := store.read(index)) is None:
        if owner is not None:
            with contextlib.suppress(OSError):
                stamp = owner.stat().st_mtime_ns
                if stamp != last:
                    last, since = stamp, time.monotonic()
            if time.monotonic() - since > timeout:
                raise ValueError(
                    f"the process that owns chunk {index} has shown no sign of life in the "
                    f"shared folder for {timeout:g} s; start it again (it resumes from its "
                    "chunks on disk), and this run too"
                )
        time.sleep(poll_seconds)
    return saved


def share_chunks(
    store: ChunkStore,
    chunks: int,
    compute: Callable[[int], None],
    received: Callable[[int, dict[str, np.ndarray]], None],
    workers: int,
) -> None:
    """Do this process's share of `chunks` with `compute` (in `workers` threads; it
    writes each chunk to `store`), then hand each chunk of the other processes to
    `received` as it lands. A store without a folder shares nothing: this process
    does every chunk.

    **Raises:**

    - `ValueError`: a folder that the processes do not all see, or another process
      that stopped (see `_wait_for_chunk`).
    """
    process_index, process_count = jax.process_index(), jax.process_count()
    if store.directory is None:
        process_index, process_count = 0, 1
    alive: contextlib.AbstractContextManager = contextlib.nullcontext()
    if process_count > 1:
        check_shared_folder(store.directory, process_index, process_count)
        alive = _SignsOfLife(_mark(store.directory, process_index, process_count))
    own = chunk_share(chunks, process_index, process_count)
    with alive:
        pool = concurrent.futures.ThreadPoolExecutor(workers)
        try:
            list(pool.map(compute, own))
        finally:
            # On an interrupt, chunks not yet started are dropped; those running
            # finish and are written.
            pool.shutdown(wait=True, cancel_futures=True)
        for index in sorted(set(range(chunks)) - set(own)):
            owner = None
            if process_count > 1:
                owner = _mark(store.directory, index % process_count, process_count)
            received(index, _wait_for_chunk(store, index, owner))
