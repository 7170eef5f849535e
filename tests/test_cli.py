import pathlib
import subprocess
import sys

import pytest

EXECUTABLE = pathlib.Path(sys.executable).parent / "basinlab"


def run(*arguments, cwd=None):
    return subprocess.run(
        [str(EXECUTABLE), *arguments], capture_output=True, text=True, cwd=cwd, timeout=300
    )


def test_models_lists_the_catalogue():
    out = run("models")
    assert out.returncode == 0, out.stderr
    assert "alignment_double_well" in out.stdout and "bistable_cycle" in out.stdout


def test_analyze_prints_the_fixed_point_table():
    out = run("analyze", "alignment_double_well", "--param", "bias=0.5")
    assert out.returncode == 0, out.stderr
    assert "(1/2, 3/2)" in out.stdout and "saddle (index 1)" in out.stdout
    assert out.stdout.count("stable node") == 2


def test_map_writes_picture_and_data_and_prints_fractions(tmp_path):
    out = run(
        "map",
        "alignment_double_well",
        "--resolution",
        "16",
        "--out",
        str(tmp_path),
        "--no-progress",
    )
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "alignment_double_well_map.png").stat().st_size > 10_000
    assert (tmp_path / "alignment_double_well_map.nc").exists()
    assert "95% Wilson" in out.stdout and "ends where aligned holds" in out.stdout


@pytest.mark.parametrize(
    "arguments, message",
    [
        (("analyze", "no_such_model"), "unknown model 'no_such_model'"),
        (("analyze", "alignment_double_well", "--param", "bias"), "malformed assignment 'bias'"),
        (("analyze", "alignment_double_well", "--param", "bias=high"), "'high' is not a number"),
        (("analyze", "alignment_double_well", "--param", "bias=nan"), "must be finite"),
        (
            ("analyze", "alignment_double_well", "--param", "temperature=1"),
            "no parameter 'temperature'",
        ),
        (("map", "alignment_double_well", "--x", "z"), "'z' is not a state"),
        (
            ("map", "alignment_double_well", "--resolution", "1"),
            "resolution must be an integer of at least 2",
        ),
        (("map", "alignment_double_well", "--bounds", "1", "-1", "0", "1"), "empty or inverted"),
        (("map", "alignment_double_well", "--bounds", "0", "0", "0", "1"), "empty or inverted"),
        (("map", "alignment_double_well", "--resolution", "many"), "invalid int value"),
        (
            ("map", "alignment_double_well", "--bounds", "nan", "1", "0", "1"),
            "bounds must be finite",
        ),
        (("map", "alignment_double_well", "--fixed", "a=1"), "cannot also be fixed"),
        (("fractions", "alignment_double_well", "--bounds", "0", "1"), "needs a low and a high"),
        (("fractions", "alignment_double_well", "--n", "0"), "positive integer"),
        (("frobnicate",), "invalid choice"),
    ],
)
def test_bad_input_is_one_line_and_a_nonzero_exit(arguments, message, tmp_path):
    out = (
        run(*arguments, "--out", str(tmp_path))
        if arguments[0] in ("map", "fractions")
        else run(*arguments)
    )
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1, out.stderr
    assert out.stderr.startswith("basinlab: error:") and message in out.stderr
    assert "Traceback" not in out.stderr
