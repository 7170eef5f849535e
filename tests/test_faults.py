"""Faults from the audit: a hostile or broken file system, interruptions, damaged
files. Each must end in the right result or a one-line error, and leave no partial
or corrupted file behind."""

import os
import pathlib
import subprocess
import sys

import pytest

from basinlab._output_folder import LOCK_NAME, OutputFolder

EXECUTABLE = pathlib.Path(sys.executable).parent / "basinlab"


def cli(*arguments, cwd=None, env=None):
    return subprocess.run(
        [str(EXECUTABLE), *arguments],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        env=None if env is None else {**os.environ, **env},
    )


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
