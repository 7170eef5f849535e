"""Ensembles split over several devices and several processes give the same results."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from _command_line import host_devices

import basinlab as bl
from basinlab.simulations._engine._processes import chunk_share

# 1001 starts: not a multiple of the devices, so the padding of batches is exercised.
STARTS = np.random.default_rng(5).uniform([-2.0, -1.0], [2.0, 3.0], size=(1001, 2))

_RUN = textwrap.dedent(
    """
    import sys
    import numpy as np
    import jax
    import basinlab as bl

    out, progress, lean = sys.argv[1], sys.argv[2] == "progress", sys.argv[3] == "lean"
    starts = np.load(out + ".starts.npy")
    result = bl.integrate(
        bl.models.alignment_double_well(), starts, progress=progress, batch_size=256,
        chunk_size=200, lean=lean,
    )
    np.savez(out, devices=len(jax.local_devices()), y=result["y_final"].values,
             t=result["t_final"].values, status=result["status"].values)
    """
)


def _launch(tmp_path, name, devices, progress=False, lean=True):
    out = str(tmp_path / name)
    np.save(out + ".starts.npy", STARTS)
    environment = {**os.environ, **host_devices(devices)}
    verbosity = "progress" if progress else "quiet"
    solver = "lean" if lean else "diffrax"
    return out, subprocess.Popen(
        [sys.executable, "-c", _RUN, out, verbosity, solver],
        env=environment,
    )


def _finish(out, process):
    assert process.wait(timeout=300) == 0
    return np.load(out + ".npz")


def _unsharded(lean=True):
    return bl.integrate(
        bl.models.alignment_double_well(),
        STARTS,
        progress=False,
        batch_size=256,
        chunk_size=200,
        lean=lean,
    )


# With a progress bar, the compiled loop calls back to the host from every device.
@pytest.mark.parametrize("progress", [False, True])
def test_sharded_ensemble_equals_the_unsharded_one(tmp_path, progress):
    sharded = _finish(*_launch(tmp_path, "sharded", devices=4, progress=progress))
    assert int(sharded["devices"]) == 4
    one = _unsharded()
    np.testing.assert_array_equal(sharded["status"], one["status"].values)
    np.testing.assert_array_equal(sharded["y"], one["y_final"].values)
    np.testing.assert_array_equal(sharded["t"], one["t_final"].values)


def test_sharded_diffrax_path_agrees_with_the_unsharded_one(tmp_path):
    # The diffrax path splits each batch of every pass over the devices. XLA compiles
    # the split solve differently, so it agrees to rounding rather than bit for bit:
    # one trajectory of 1001 took slightly different steps, ending 3e-14 apart in
    # state and 2e-10 apart (relative) in time.
    sharded = _finish(*_launch(tmp_path, "sharded", devices=4, lean=False))
    assert int(sharded["devices"]) == 4
    one = _unsharded(lean=False)
    np.testing.assert_array_equal(sharded["status"], one["status"].values)
    np.testing.assert_allclose(sharded["y"], one["y_final"].values, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(sharded["t"], one["t_final"].values, rtol=1e-6)


# Several processes sharing one result: real ones, in test_processes.py.


@pytest.mark.parametrize("chunks, count", [(1, 1), (6, 2), (7, 3), (2, 5), (100, 7)])
def test_chunk_shares_cover_each_chunk_once_and_balance(chunks, count):
    shares = [chunk_share(chunks, index, count) for index in range(count)]
    assert sorted(i for share in shares for i in share) == list(range(chunks))
    sizes = [len(share) for share in shares]
    assert max(sizes) - min(sizes) <= 1
    assert all(share == sorted(share) for share in shares)


@pytest.mark.parametrize(
    "chunks, index, count, message",
    [(0, 0, 1, "at least one chunk"), (3, 2, 2, "outside"), (3, -1, 2, "outside")],
)
def test_bad_chunk_shares(chunks, index, count, message):
    with pytest.raises(ValueError, match=message):
        chunk_share(chunks, index, count)
