"""Running the command line from the tests: in a fresh interpreter, as a user would,
or in the test's own process, where commands that repeat one piece of work share
its compiled code; and Python scripts that need an interpreter of their own."""

import contextlib
import io
import os
import pathlib
import subprocess
import sys

EXECUTABLE = pathlib.Path(sys.executable).parent / "basinlab"
# The suite compiles with XLA:CPU's older loop-fusion emitters (see conftest.py).
FAST_COMPILE_FLAG = "--xla_cpu_use_fusion_emitters=false"


def _in_new_process(command, cwd, env, timeout):
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
        env=None if env is None else {**os.environ, **env},
    )


def run(*arguments, cwd=None, env=None):
    """`basinlab ARGUMENTS` in a new process, with its output captured; `env` adds to
    this process's environment."""
    return _in_new_process([str(EXECUTABLE), *arguments], cwd, env, 300)


def run_python(script, *arguments, cwd=None, env=None, timeout=300):
    """The Python code `script` in a new interpreter (`python -c script ARGUMENTS`),
    with its output captured; `env` adds to this process's environment."""
    return _in_new_process([sys.executable, "-c", script, *arguments], cwd, env, timeout)


def run_here(*arguments, cwd=None):
    """`run` in this process: the command line's own entry point, with its output
    captured."""
    from basinlab import _cli

    stdout, stderr = io.StringIO(), io.StringIO()
    folder = contextlib.nullcontext() if cwd is None else contextlib.chdir(cwd)
    with folder, contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            code = _cli.main(list(arguments))
        except SystemExit as exit:  # argparse's usage errors
            code = exit.code
    return subprocess.CompletedProcess(arguments, code, stdout.getvalue(), stderr.getvalue())


def host_devices(count):
    """The environment of a new process in which JAX sees `count` CPU devices, keeping
    this process's other XLA flags."""
    flags = f"{os.environ.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count={count}"
    return {"XLA_FLAGS": flags.strip()}


def product_compiler():
    """The environment of a new process that compiles as the product does: without
    the suite's `FAST_COMPILE_FLAG`."""
    flags = os.environ.get("XLA_FLAGS", "").split()
    return {"XLA_FLAGS": " ".join(f for f in flags if f != FAST_COMPILE_FLAG)}
