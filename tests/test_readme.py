"""Every code block of README.md runs, so the README cannot rot.

Python blocks run as scripts, each in a fresh interpreter; shell blocks run their
`basinlab` commands, in order, in one folder. Slow sizes are shrunk by the
substitutions below unless `BASINLAB_README_FULL=1` is set; each substitution must
match, so a README edit that changes a size shows up here.
"""

import os
import pathlib
import re
import shlex
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"^```(\w+)\n(.*?)^```", README, flags=re.MULTILINE | re.DOTALL)
EXECUTABLE = pathlib.Path(sys.executable).parent / "basinlab"
FULL = os.environ.get("BASINLAB_README_FULL") == "1"

SHRINK = {
    "python": [
        ("np.linspace(0, 0.6, 25), box, n=20_000", "np.linspace(0, 0.6, 5), box, n=300"),
        ("n=1000, t1=30_000", "n=20, t1=30_000"),
        ("(model, (1, 2), n=256)", "(model, (1, 2), n=32, refinements=2)"),
        ("resolution=256", "resolution=32"),
        ("n=100_000", "n=4_000"),
        ("resolution=601", "resolution=61"),
        ("n=20_000", "n=2_000"),
        ("dim=1000", "dim=200"),
        ("t1=80", "t1=16"),
        # The sizes of `basinlab calibrate teacher-student --fast`: the same compiled
        # sampler, which JAX's persistent cache then shares.
        ("num_warmup=1000", "num_warmup=100"),
        ("num_samples=1000", "num_samples=100"),
        ("steps=8000)", "steps=30, width=16, depth=1, heads=2, progress=False)"),
        (
            "dim=5, prompt_length=20)",
            "dim=5, prompt_length=20, t1=10.0, log_points=11, progress=False)",
        ),
        ("size=(200_000, 2)", "size=(3_000, 2)"),
    ],
    "sh": [
        ("--resolution 512", "--resolution 24"),
        ("--n 100000", "--n 1000"),
        ("calibrate teacher-student", "calibrate teacher-student --fast"),
        ("basinlab demo", "basinlab demo --resolution 24 --n 500"),
        ("bias=0:0.6:25 --n 2000", "bias=0:0.6:4 --n 200"),
        ("testbed linear", "testbed linear --fast"),
    ],
}
# `make demo` runs the demo through the Makefile; `make test` is this very suite, which
# CI runs through .ci/run.
MAKE = {"make demo": "basinlab demo", "make test": None}


def _shrunk(kind: str, text: str, used: set) -> str:
    if FULL:
        return text
    for old, new in SHRINK[kind]:
        if old in text:
            text = text.replace(old, new)
            used.add(old)
    return text


def test_the_readme_has_the_blocks_this_test_runs():
    kinds = [kind for kind, _ in BLOCKS]
    assert set(kinds) == {"python", "sh"} and kinds.count("python") >= 4
    assert "make demo" in BLOCKS[0][1] and "make test" in BLOCKS[0][1]


def test_every_shrinking_substitution_is_used():
    if FULL:
        pytest.skip("running the README at full size")
    used: set = set()
    commands = [_command(line) for kind, text in BLOCKS if kind == "sh" for line in _lines(text)]
    for kind, text in BLOCKS:
        if kind == "python":
            _shrunk("python", text, used)
    for command in filter(None, commands):
        _shrunk("sh", command, used)
    expected = {old for pairs in SHRINK.values() for old, _ in pairs}
    assert used == expected, expected - used


def _lines(text: str) -> list[str]:
    return [line.split("#")[0].strip() for line in text.splitlines() if line.split("#")[0].strip()]


def _command(line: str) -> str | None:
    return MAKE.get(line, line) if line.startswith("make ") else line


PYTHON = [text for kind, text in BLOCKS if kind == "python"]
SHELL = [text for kind, text in BLOCKS if kind == "sh"]


def _cases(blocks: list[str], kind: str) -> list:
    """The blocks as test cases; those that calibrate are marked slow (minutes each)."""
    return [
        pytest.param(text, id=f"{kind}{i}", marks=pytest.mark.slow)
        if "calibrat" in text
        else pytest.param(text, id=f"{kind}{i}")
        for i, text in enumerate(blocks)
    ]


@pytest.mark.parametrize("code", _cases(PYTHON, "python"))
def test_python_block_runs(code, tmp_path):
    script = _shrunk("python", code, set())
    environment = dict(os.environ, MPLBACKEND="Agg")
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=900,
        env=environment,
    )
    assert out.returncode == 0, out.stderr[-3000:]


@pytest.mark.parametrize("block", _cases(SHELL, "sh"))
def test_shell_block_runs(block, tmp_path):
    for line in _lines(block):
        command = _command(line)
        if command is None:
            continue
        arguments = shlex.split(_shrunk("sh", command, set()))
        assert arguments[0] == "basinlab", line
        out = subprocess.run(
            [str(EXECUTABLE), *arguments[1:]],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert out.returncode == 0, f"{line}\n{out.stderr[-3000:]}"


def test_make_demo_runs_basinlab_demo():
    recipe = (ROOT / "Makefile").read_text().split("\ndemo:")[1].split("\n\n")[0]
    assert recipe.strip().splitlines()[-1].strip() == "$(BIN)/basinlab demo"
