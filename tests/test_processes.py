"""Several real JAX processes on this machine, joined through a localhost coordinator,
sharing one folder: each returns the whole result, the same as one process alone,
whether they start together or not, whatever the count, and across a kill."""

import collections
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
from _command_line import EXECUTABLE, run_here
from _process_worker import PIECES, fractions_fine

import basinlab as bl

WORKER = pathlib.Path(__file__).with_name("_process_worker.py")
# A pause after each chunk written, so that a kill lands between chunks.
_PAUSE = {"BASINLAB_TEST_PAUSE_AFTER_WRITE": "3"}


def _free_port():
    with socket.socket() as probe:
        probe.bind(("localhost", 0))
        return probe.getsockname()[1]


_STARTED: list[subprocess.Popen] = []


@pytest.fixture(autouse=True)
def _no_process_outlives_its_test():
    yield
    while _STARTED:
        process = _STARTED.pop()
        if process.poll() is None:
            process.kill()
            process.wait(timeout=60)


def _popen(command, env=None, cwd=None):
    """`command` started in a new process with its output captured; `env` adds to this
    process's environment. The process is killed at the end of the test if still
    running."""
    process = subprocess.Popen(
        [str(part) for part in command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
    )
    _STARTED.append(process)
    return process


def _start(processes, index, port, shared, out, work, delay=0.0, env=None):
    arguments = (processes, index, port, shared, out, work, delay)
    return _popen([sys.executable, WORKER, *arguments], env=env)


def _finish(process, timeout=300):
    stdout, stderr = process.communicate(timeout=timeout)
    assert process.returncode == 0, stderr[-3000:]
    return stdout


@pytest.fixture(scope="module")
def alone():
    """Every piece of work done in this process alone, without a shared folder."""
    return {name: piece(None) for name, piece in PIECES.items()}


def _assert_same(got, alone, name):
    if name == "training":
        np.testing.assert_array_equal(got["label"].values, alone["label"].values)
        for key in ("R", "S", "Q", "overlap"):
            np.testing.assert_allclose(got[key].values, alone[key].values, rtol=1e-12)
        return
    for key in got.data_vars:
        mine, theirs = got[key].values, alone[key].values
        if np.issubdtype(mine.dtype, np.floating):
            np.testing.assert_allclose(mine, theirs, rtol=1e-9, atol=1e-12, err_msg=key)
        else:
            np.testing.assert_array_equal(mine, theirs, err_msg=key)


def _written(out):
    lines = [line for path in out.glob("written-*.txt") for line in path.read_text().split()]
    pairs = list(zip(lines[::2], lines[1::2], strict=True))
    return collections.Counter(pairs)


def _slurm_job(tasks):
    """A Slurm job's environment for each of `tasks` tasks on this machine: JAX's
    detection takes the coordinator's port from the job id, so one whose port is free."""
    for job in range(100, 4096, 37):
        with socket.socket() as probe:
            try:
                probe.bind(("localhost", 65535 - 2**12 + 1 + job))
                break
            except OSError:
                continue
    common = {"SLURM_JOB_ID": str(job), "SLURM_STEP_NODELIST": "localhost"}
    common |= {"SLURM_NTASKS": str(tasks), "SLURM_STEP_NUM_NODES": "1"}
    return [common | {"SLURM_PROCID": str(k), "SLURM_LOCALID": str(k)} for k in range(tasks)]


def test_two_processes_started_apart_each_return_the_whole_result(tmp_path, alone):
    # Two tasks of a Slurm job (its environment alone says which is which); task 1
    # starts 3 s after task 0; 5 chunks of fractions do not split evenly.
    shared, out = tmp_path / "shared", tmp_path / "out"
    work = ",".join(PIECES)
    runs = [
        _start(2, k, "slurm", shared, out, work, delay=3.0 * k, env=environment)
        for k, environment in enumerate(_slurm_job(2))
    ]
    for run in runs:
        _finish(run)
    for name in PIECES:
        for k in range(2):
            _assert_same(bl.load(out / f"{name}-{k}.nc"), alone[name], name)
    written = _written(out)
    assert set(written.values()) == {1}, "a chunk was computed twice"
    # Both processes computed a share of every piece of work.
    for k in range(2):
        assert (out / f"written-{k}.txt").read_text().strip()


def _kill_after_its_first_chunk(victim, log):
    """SIGKILL `victim` once its log of chunks written has a line."""
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and not (log.exists() and log.read_text().strip()):
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=60)


def test_three_processes_resume_after_one_is_killed(tmp_path):
    # 10 chunks of fractions over 3 processes (not a multiple): process 2 owns chunks
    # 2, 5 and 8, and is killed after writing its first and started again.
    port, shared, out = _free_port(), tmp_path / "shared", tmp_path / "out"
    runs = [_start(3, k, port, shared, out, "fractions_fine") for k in range(2)]
    victim = _start(3, 2, port, shared, out, "fractions_fine", env=_PAUSE)
    log = out / "written-2.txt"
    _kill_after_its_first_chunk(victim, log)
    # Its chunks run two at a time (a thread per core): one or two are on disk.
    assert 1 <= len(log.read_text().split()) // 2 < 3, "the kill came too late to test a resume"
    restarted = _start(3, 2, port, shared, out, "fractions_fine")
    for run in [*runs, restarted]:
        _finish(run)
    reference = fractions_fine(None)
    for k in range(3):
        _assert_same(bl.load(out / f"fractions_fine-{k}.nc"), reference, "fractions_fine")
    written = _written(out)
    assert sorted(written.values()) == [1] * 10, "a chunk was lost or computed twice"


def test_a_process_that_dies_for_good_stops_the_others_in_bounded_time(tmp_path):
    port, shared, out = _free_port(), tmp_path / "shared", tmp_path / "out"
    quick = {"BASINLAB_TEST_PEER_TIMEOUT": "5"}
    survivor = _start(2, 0, port, shared, out, "fractions_fine", env=quick)
    victim = _start(2, 1, port, shared, out, "fractions_fine", env=quick | _PAUSE)
    _kill_after_its_first_chunk(victim, out / "written-1.txt")
    killed = time.monotonic()
    _, stderr = survivor.communicate(timeout=120)
    assert survivor.returncode != 0
    assert "has shown no sign of life in the shared folder for 5 s" in stderr
    assert time.monotonic() - killed < 60


def test_a_wrong_process_id_or_an_absent_coordinator_is_refused_in_bounded_time():
    with pytest.raises(ValueError, match=r"process_id must lie in \[0, 2\)"):
        bl.join_processes(2, 2, "localhost:1234")
    with pytest.raises(ValueError, match="HOST:PORT"):
        bl.join_processes(2, 1, "localhost")
    with pytest.raises(ValueError, match="all of processes, process_id and coordinator"):
        bl.join_processes(2, 1)
    started = time.monotonic()
    with pytest.raises(ConnectionError, match="cannot reach the coordinator"):
        bl.join_processes(2, 1, f"localhost:{_free_port()}", timeout=1.0)
    assert time.monotonic() - started < 10


def _command(out, index, port, *extra):
    arguments = ("fractions", "alignment_double_well", "--n", "3000", "--no-progress")
    joining = ("--processes", "2", "--process-id", str(index), "--coordinator", f"localhost:{port}")
    return _popen([EXECUTABLE, *arguments, "--out", out, *joining, *extra])


def test_the_command_line_says_in_one_line_that_folders_are_not_shared(tmp_path):
    port = _free_port()
    runs = [_command(tmp_path / f"out-{k}", k, port, "--join-timeout", "5") for k in range(2)]
    for run in runs:
        _, stderr = run.communicate(timeout=300)
        assert run.returncode == 2
        errors = [line for line in stderr.splitlines() if line.startswith("basinlab: error:")]
        assert len(errors) == 1 and "is not shared" in errors[0], stderr[-2000:]


def test_the_slurm_example_is_a_valid_script():
    script = pathlib.Path(__file__).parents[1] / "examples" / "slurm_fractions.sh"
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    assert "srun basinlab fractions" in script.read_text()


def test_the_readmes_two_processes_run(tmp_path):
    from _readme import TWO_PROCESSES, readme_arguments

    port = str(_free_port())
    # The command lines, each in its own process, at once.
    commands = [readme_arguments(line) for line in TWO_PROCESSES]
    commands = [[a.replace("23456", port) for a in command] for command in commands]
    runs = [_popen([EXECUTABLE, *command, "--no-progress"], cwd=tmp_path) for command in commands]
    for run in runs:
        _finish(run)
    name = "alignment_double_well_fractions.nc"
    from_cli = bl.load(tmp_path / "shared" / name)
    copy = bl.load(tmp_path / "shared" / ".processes" / "1" / name)
    alone = run_here(*commands[0][:4], "--no-progress", "--out", str(tmp_path / "alone"))
    assert alone.returncode == 0, alone.stderr
    for result in (copy, bl.load(tmp_path / "alone" / name)):
        for key in ("count", "outcome_name"):
            np.testing.assert_array_equal(result[key].values, from_cli[key].values)
