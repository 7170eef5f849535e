import gc
import os

import hypothesis
import jax
import pytest

hypothesis.settings.register_profile(
    "ci", derandomize=True, deadline=None, database=None, max_examples=25, print_blob=True
)
hypothesis.settings.register_profile("dev", deadline=None, max_examples=25)
hypothesis.settings.load_profile("ci" if os.environ.get("CI") else "dev")


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
