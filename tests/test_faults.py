"""Faults from the audit: a hostile or broken file system, interruptions, damaged
files. Each must end in the right result or a one-line error, and leave no partial
or corrupted file behind."""

import os
import subprocess

import h5py
import numpy as np
import numpyro.distributions as dist
import pytest
from _command_line import EXECUTABLE, run_python
from _command_line import run as cli

import basinlab as bl
from basinlab._output_folder import LOCK_NAME, OutputFolder


def assert_one_line_error(out, message):
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stderr.count("\n") == 1, out.stderr
    assert out.stderr.startswith("basinlab: error:"), out.stderr
    assert message in out.stderr, out.stderr


def test_a_lock_file_that_is_a_symbolic_link_is_refused_and_its_target_kept(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    out = tmp_path / "out"
    out.mkdir()
    (out / LOCK_NAME).symlink_to(victim)
    with pytest.raises(OSError, match="is a symbolic link"):
        OutputFolder(out).__enter__()
    run = cli("fractions", "alignment_double_well", "--n", "20", "--out", str(out))
    assert_one_line_error(run, "is a symbolic link")
    assert victim.read_text() == "precious"
    assert sorted(p.name for p in out.iterdir()) == [LOCK_NAME]


def test_a_lock_file_that_is_not_a_regular_file_is_refused(tmp_path):
    os.mkfifo(tmp_path / LOCK_NAME)
    with pytest.raises(OSError, match="not a regular file"):
        OutputFolder(tmp_path).__enter__()


@pytest.fixture(scope="module")
def small_map():
    model = bl.models.alignment_double_well()
    return bl.basin_map(model, "a", "c", ((-2, 2), (-1, 3)), resolution=12, progress=False)


def test_a_flipped_byte_in_the_labels_is_caught_on_load(small_map, tmp_path):
    path = bl.save(small_map, tmp_path / "map.nc")
    assert bl.load(path).identical(small_map)
    with h5py.File(path, "r") as handle:
        offset = handle["label"].id.get_offset()  # contiguous: no HDF5 checksum of its own
    raw = bytearray(path.read_bytes())
    raw[offset] ^= 0x01
    path.write_bytes(bytes(raw))
    with pytest.raises(bl.ResultFileError, match="do not match the checksum"):
        bl.load(path)


def test_every_result_kind_round_trips_its_checksum(small_map, tmp_path):
    p0 = dist.Uniform(np.array([-2.0, -1.0]), np.array([2.0, 3.0])).to_event(1)
    model = bl.models.alignment_tilted_well()
    results = {
        "map": small_map,
        "fractions": bl.basin_fractions(model, p0, n=64, seed=0, progress=False),
        "continuation": bl.continuation(model, "bias", [0.0, 0.5], p0, n=64, progress=False),
    }
    for name, result in results.items():
        path = bl.save(result, tmp_path / f"{name}.nc")
        assert bl.load(path).identical(result), name


def test_chunks_of_a_float32_run_are_never_read_by_a_float64_run(tmp_path):
    import diffrax
    import jax.numpy as jnp

    model = bl.models.alignment_double_well()
    starts = np.random.default_rng(0).uniform([-2, -1], [2, 3], size=(64, 2))
    single = bl.integrate(
        bl.compile_model(model, dtype=jnp.float32), starts, checkpoint_dir=tmp_path, progress=False
    )
    double = bl.integrate(model, starts, checkpoint_dir=tmp_path, progress=False)
    fresh = bl.integrate(model, starts, progress=False)
    assert single.attrs["dtype"] == "float32" and double.attrs["dtype"] == "float64"
    np.testing.assert_array_equal(double["t_final"].values, fresh["t_final"].values)
    np.testing.assert_array_equal(double["y_final"].values, fresh["y_final"].values)
    # Another solver, or the same solver with other settings, has chunks of its own.
    other = bl.integrate(
        model, starts, checkpoint_dir=tmp_path, progress=False, solver=diffrax.Dopri5()
    )
    alone = bl.integrate(model, starts, progress=False, solver=diffrax.Dopri5())
    np.testing.assert_array_equal(other["t_final"].values, alone["t_final"].values)
    assert len(list(tmp_path.iterdir())) == 3


def test_numerical_blow_ups_under_noise_are_diverged_not_escapes():
    from basinlab.simulations import DIVERGED, NoiseSettings

    noisy = bl.models.alignment_double_well(bias=0.0).with_noise(bl.Noise.isotropic(0.05, 2))
    coarse = NoiseSettings(brownian="increments", dt=1.0)  # far too coarse for a^3
    with pytest.warns(UserWarning, match="runs diverged"):
        runs = bl.escape_times(noisy, (-1, 0), n=64, t1=20, settings=coarse, progress=False)
    blown_up = runs["destination"].values == DIVERGED
    assert blown_up.sum() == runs.attrs["diverged"] > 0
    assert not np.any(runs["escaped"].values[blown_up])
    assert runs.attrs["escaped"] == int(np.sum(runs["destination"].values >= 0))


def test_escape_times_refuses_more_runs_than_memory_holds():
    noisy = bl.models.alignment_double_well(bias=0.0).with_noise(bl.Noise.isotropic(0.05, 2))
    with pytest.raises(ValueError, match="1000000000000 runs needs about"):
        bl.escape_times(noisy, (-1, 0), n=10**12, progress=False)


def test_an_interrupt_that_python_drops_still_stops_the_work():
    # Ctrl-C inside a finaliser or a garbage-collection callback (JAX registers one) is
    # dropped by Python; the next step of the work must still stop.
    script = (
        "import gc, signal, sys\n"
        "from basinlab.simulations._engine._progress import Progress, interrupt_handler\n"
        "class C:\n"
        "    def __del__(self): interrupt_handler(signal.SIGINT, None)\n"
        "C(); gc.collect(); print('went on', flush=True)\n"
        "try:\n"
        "    Progress(10, 'work', False).advance(1)\n"
        "except KeyboardInterrupt:\n"
        "    print('stopped'); sys.exit(0)\n"
        "sys.exit(1)\n"
    )
    out = run_python(script)
    assert out.returncode == 0 and out.stdout.split() == ["went", "on", "stopped"], out
    assert "KeyboardInterrupt" in out.stderr  # Python reports what it dropped


def test_ctrl_c_stops_a_run_keeps_its_chunks_and_exits_130(tmp_path):
    import signal
    import threading
    import time

    # Short solves (the orbits on the cycle never settle): the first chunk comes sooner.
    arguments = [
        "fractions",
        "bistable_cycle",
        "--n",
        "200000",
        "--t1",
        "40",
        "--out",
        str(tmp_path),
    ]
    run = subprocess.Popen(
        [str(EXECUTABLE), *arguments], stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(run.stderr), daemon=True)
    reader.start()
    chunks = tmp_path / ".chunks"
    # Generous: a loaded machine compiles slowly; on an idle one this takes seconds.
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and not any(chunks.rglob("chunk_*.npz")):
        time.sleep(0.2)
    assert any(chunks.rglob("chunk_*.npz")), "no chunk was written"
    # Again and again, as an impatient user does, until the run says it stopped.
    while run.poll() is None and time.monotonic() < deadline:
        if any(line.startswith("basinlab: interrupted") for line in lines):
            break
        run.send_signal(signal.SIGINT)
        time.sleep(0.3)
    assert run.wait(timeout=60) == 130, "".join(lines)
    reader.join(timeout=10)
    assert lines[-1].startswith("basinlab: interrupted"), lines[-3:]
    assert not any("Traceback" in line for line in lines)
    assert any(chunks.rglob("chunk_*.npz"))
    assert not (tmp_path / "bistable_cycle_fractions.nc").exists()


def test_a_disk_that_fills_up_while_a_result_is_saved_gives_one_clear_error(tmp_path):
    # A file-size limit makes the write fail as a full disk does, in a child process:
    # HDF5 writing straight to such a disk once failed in hundreds of lines, then crashed.
    script = (
        "import resource, signal, sys\n"
        "import basinlab as bl\n"
        "m = bl.basin_map(bl.models.alignment_double_well(), 'a', 'c', ((-2, 2), (-1, 3)),\n"
        "                 resolution=24, progress=False)\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))\n"
        "try:\n"
        "    bl.save(m, sys.argv[1])\n"
        "except OSError as error:\n"
        "    print(error)\n"
        "    sys.exit(3)\n"
    )
    target = tmp_path / "map.nc"
    out = run_python(script, str(target))
    assert out.returncode == 3, out.stdout + out.stderr
    assert f"could not write {target}" in out.stdout and "nothing was written" in out.stdout
    assert out.stdout.count("\n") == 1 and "Traceback" not in out.stderr
    assert list(tmp_path.iterdir()) == []
