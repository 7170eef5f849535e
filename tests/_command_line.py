"""Running the command line from the tests: in a fresh interpreter, as a user would,
or in the test's own process, where commands that repeat one piece of work share
its compiled code."""

import contextlib
import io
import os
import pathlib
import subprocess
import sys

EXECUTABLE = pathlib.Path(sys.executable).parent / "basinlab"


def run(*arguments, cwd=None, env=None):
    """`basinlab ARGUMENTS` in a new process, with its output captured."""
    return subprocess.run(
        [str(EXECUTABLE), *arguments],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        env=None if env is None else {**os.environ, **env},
    )


def run_here(*arguments):
    """`run` in this process: the command line's own entry point, with its output
    captured."""
    from basinlab import _cli

    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            code = _cli.main(list(arguments))
        except SystemExit as exit:  # argparse's usage errors
            code = exit.code
    return subprocess.CompletedProcess(arguments, code, stdout.getvalue(), stderr.getvalue())
