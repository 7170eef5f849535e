"""Every code block of README.md runs, so the README cannot rot.

Python blocks run as scripts, each in a namespace of its own (in a fresh interpreter
when it sets environment variables for JAX); shell blocks run their `basinlab`
commands in this process, in order, in one folder, except those that another test
runs itself (`_readme.RUN_ELSEWHERE`). Slow sizes are shrunk as `_readme.SHRINK` says.
"""

import shlex

import matplotlib
import pytest
from _command_line import run_here, run_python
from _readme import (
    BLOCKS,
    FULL,
    ROOT,
    RUN_ELSEWHERE,
    SHRINK,
    command,
    lines,
    readme_arguments,
    shrunk,
)

matplotlib.use("Agg")


def test_the_readme_has_the_blocks_this_test_runs():
    kinds = [kind for kind, _ in BLOCKS]
    assert set(kinds) == {"python", "sh"} and kinds.count("python") >= 4
    assert "make demo" in BLOCKS[0][1] and "make test" in BLOCKS[0][1]


def test_every_shrinking_substitution_is_used():
    if FULL:
        pytest.skip("running the README at full size")
    used: set = set()
    commands = [command(line) for kind, text in BLOCKS if kind == "sh" for line in lines(text)]
    for kind, text in BLOCKS:
        if kind == "python":
            shrunk("python", text, used)
    for each in filter(None, commands):
        shrunk("sh", each, used)
    expected = {old for pairs in SHRINK.values() for old, _ in pairs}
    assert used == expected, expected - used


PYTHON = [text for kind, text in BLOCKS if kind == "python"]
SHELL = [text for kind, text in BLOCKS if kind == "sh"]


def _cases(blocks: list[str], kind: str) -> list:
    """The blocks as test cases; those that calibrate are marked slow (minutes each)."""
    return [
        pytest.param(text, id=f"{kind}{i}", marks=pytest.mark.slow)
        if "calibrat" in text and not all(line in RUN_ELSEWHERE for line in lines(text))
        else pytest.param(text, id=f"{kind}{i}")
        for i, text in enumerate(blocks)
    ]


@pytest.mark.parametrize("code", _cases(PYTHON, "python"))
def test_python_block_runs(code, tmp_path, monkeypatch):
    script = shrunk("python", code, set())
    if "os.environ" in script:
        # A block that configures JAX before importing it needs an interpreter of its own.
        out = run_python(script, cwd=tmp_path, env={"MPLBACKEND": "Agg"}, timeout=900)
        assert out.returncode == 0, out.stderr[-3000:]
        return
    # The others run here, as a script in a namespace of its own: what a fresh
    # interpreter would do, without its 5-7 s of imports per block.
    monkeypatch.chdir(tmp_path)
    import matplotlib.pyplot as plt

    try:
        exec(compile(script, "README.md", "exec"), {"__name__": "__main__"})
    finally:
        plt.close("all")


@pytest.mark.parametrize("block", _cases(SHELL, "sh"))
def test_shell_block_runs(block, tmp_path, monkeypatch):
    # In this process, through the command line's entry point: the installed
    # `basinlab` executable itself is run by test_cli.
    monkeypatch.chdir(tmp_path)
    for line in lines(block):
        to_run = command(line)
        if to_run is None or line in RUN_ELSEWHERE:
            continue
        arguments = shlex.split(shrunk("sh", to_run, set()))
        assert arguments[0] == "basinlab", line
        out = run_here(*arguments[1:])
        assert out.returncode == 0, f"{line}\n{out.stderr[-3000:]}"


def test_make_demo_runs_basinlab_demo():
    recipe = (ROOT / "Makefile").read_text().split("\ndemo:")[1].split("\n\n")[0]
    assert recipe.strip().splitlines()[-1].strip() == "$(BIN)/basinlab demo"


def test_commands_run_elsewhere_are_in_the_readme():
    for line in RUN_ELSEWHERE:
        assert readme_arguments(line)[0] == line.split()[1]
