import gc
import os
import pathlib

from _command_line import FAST_COMPILE_FLAG

# XLA's compiled code is kept on disk and shared by the two workers and every process
# they start (the command line, README examples, a notebook's Jupyter kernel), so each
# program is compiled once per run. Set before JAX is imported, so that child processes
# inherit it.
os.environ.setdefault(
    "JAX_COMPILATION_CACHE_DIR", str(pathlib.Path(__file__).parent.parent / ".jax_cache")
)
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
# JAX never writes a program with a host callback to that cache, and Equinox's runtime
# checks (inside every diffrax solve) are host callbacks when they raise. With `nan`
# they are plain code: a failed check gives NaN instead of an exception. basinlab's
# solves run with throw=False and report failure through their statuses, which treat
# NaN as a failure, so the tests see the same outcomes, and a second test of the same
# model and shapes loads its solver instead of compiling it again (a repeated
# calibration: 54 s down to 6 s).
os.environ.setdefault("EQX_ON_ERROR", "nan")
# Most of the suite's time is XLA:CPU compiling programs that then run for well under
# a second. XLA's older loop-fusion emitters compile them in about half the time (a
# teacher-student calibration: 34 s of compilation down to 16 s) from the same HLO;
# the product keeps XLA's default, under which the lean kernel runs faster
# (benchmarks/RESULTS.md).
# Tests of bitwise equality across batch shapes run under the product's compiler.
os.environ["XLA_FLAGS"] = " ".join(
    dict.fromkeys([*os.environ.get("XLA_FLAGS", "").split(), FAST_COMPILE_FLAG])
)

import hypothesis
import jax
import pytest

# A plugin may have imported JAX before this file: set its configuration too.
jax.config.update("jax_compilation_cache_dir", os.environ["JAX_COMPILATION_CACHE_DIR"])
jax.config.update(
    "jax_persistent_cache_min_compile_time_secs",
    float(os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"]),
)

hypothesis.settings.register_profile(
    "ci", derandomize=True, deadline=None, database=None, max_examples=25, print_blob=True
)
hypothesis.settings.register_profile("dev", deadline=None, max_examples=25)
hypothesis.settings.load_profile("ci" if os.environ.get("CI") else "dev")


# The command line's teacher-student example compiles the NUTS sampler that the
# README's calibration block and notebook 04 then load from JAX's persistent cache,
# if they start after it has finished.
_COMPILES_FIRST = ("test_cli_calibrates_the_teacher_student_example",)
_LOADS_LATER = ("test_python_block_runs[python", "test_notebook_runs[04_calibration]")


def pytest_collection_modifyitems(items):
    """Run the slow tests first: a minutes-long test left to one worker at the end
    would leave the other core idle. Among them, a test that compiles a program goes
    first and those that reuse it last."""

    def order(item):
        slow = item.get_closest_marker("slow") is not None
        first = item.name.startswith(_COMPILES_FIRST)
        later = slow and item.name.startswith(_LOADS_LATER)
        return (not slow, not first, later)

    items.sort(key=order)


@pytest.fixture(scope="module", autouse=True)
def _release_compiled_code():
    """Drop JAX's compiled executables after each test module.

    Every XLA:CPU executable keeps about six memory mappings until it is dropped. A
    worker that runs hundreds of tests compiles thousands of kernels and would reach
    Linux's limit of 65,530 mappings per process (`vm.max_map_count`), where the next
    compilation dies with a segmentation fault.
    """
    yield
    jax.clear_caches()
    gc.collect()
