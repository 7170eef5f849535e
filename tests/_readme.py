"""The README's code blocks, and the sizes its slow examples are shrunk to in tests.

Slow sizes are shrunk by the substitutions below unless `BASINLAB_README_FULL=1` is
set; each substitution must match, so a README edit that changes a size shows up in
`test_readme.py`. A command that another test runs with assertions of its own (in
process, on the same arguments) is listed in `RUN_ELSEWHERE`, so that the suite does
not run it twice.
"""

import os
import pathlib
import re
import shlex

ROOT = pathlib.Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"^```(\w+)\n(.*?)^```", README, flags=re.MULTILINE | re.DOTALL)
FULL = os.environ.get("BASINLAB_README_FULL") == "1"

SHRINK = {
    "python": [
        ("steps=20_000, burn_in=150_000", "steps=1000, burn_in=5000"),
        ("[0.1, 0.2, 0.3, 0.33, 0.36, 0.38],", "[0.3, 0.38],"),
        ("    n=200,\n    t1=100.0,", "    n=12,\n    t1=40.0,"),
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
        ("(-1.5, 1.5)), 300)", "(-1.5, 1.5)), 150)"),
        ("np.linspace(0.5, 2.5, 9)", "np.linspace(0.5, 2.5, 3)"),
        (
            'np.linspace(-1.5, 1.5, 31), "nu", nus, dist.Uniform(-3.0, 3.0).expand([1]), n=500',
            'np.linspace(-1.5, 1.5, 5), "nu", nus, dist.Uniform(-3.0, 3.0).expand([1]), n=100',
        ),
        ("n=200_000, seed=0, checkpoint_dir", "n=3_000, seed=0, checkpoint_dir"),
        ("dim=200, episode_length=5", "dim=50, episode_length=5"),
        ("n=1024, steps=4000, log_every=200", "n=16, steps=500, log_every=50, progress=False"),
        (
            "steps=2000, log_every=200)",
            "steps=200, log_every=100, streams=2, bisections=3, progress=False)",
        ),
    ],
    "sh": [
        ("--resolution 512", "--resolution 24"),
        ("--n 100000", "--n 1000"),
        ("--cells 300 --n 20000", "--cells 300 --n 300"),
        ("--bounds -3 3 -3 5 --cells 120", "--bounds -3 3 -3 5 --cells 80 --n 60 --steps 3"),
        ("--n 200000 --out shared/", "--n 3000 --out shared/"),
        ("calibrate teacher-student", "calibrate teacher-student --fast"),
        ("basinlab demo", "basinlab demo --resolution 24 --n 500"),
        ("bias=0:0.6:25 --n 2000", "bias=0:0.6:4 --n 200"),
        ("testbed linear", "testbed linear --fast"),
        ("runs reward_perceptron --n 4096", "runs reward_perceptron --n 32 --set dim=50"),
        ("runs reward_perceptron --set", "runs reward_perceptron --n 32 --set dim=50 --set"),
    ],
}
# `make demo` runs the demo through the Makefile; `make test` is this very suite, which
# CI runs through .ci/run.
MAKE = {"make demo": "basinlab demo", "make test": None}


def shrunk(kind: str, text: str, used: set) -> str:
    if FULL:
        return text
    for old, new in SHRINK[kind]:
        if old in text:
            text = text.replace(old, new)
            used.add(old)
    return text


def lines(text: str) -> list[str]:
    return [line.split("#")[0].strip() for line in text.splitlines() if line.split("#")[0].strip()]


def command(line: str) -> str | None:
    return MAKE.get(line, line) if line.startswith("make ") else line


# README lines that the named test runs itself, through `readme_arguments`.
RUN_ELSEWHERE = {
    "basinlab prove": "test_proofs.py (the verdicts fixture)",
    "basinlab calibrate teacher-student --out calibration/": (
        "test_calibration.py::test_cli_calibrates_the_teacher_student_example"
    ),
}
# The two processes of the README's multi-process example, which run at once.
TWO_PROCESSES = [
    f"basinlab fractions alignment_double_well --n 200000 --out shared/ --processes 2 "
    f"--process-id {k} --coordinator localhost:23456"
    for k in range(2)
]
for line in TWO_PROCESSES:
    RUN_ELSEWHERE[line] = "test_processes.py::test_the_readmes_two_processes_run"


def readme_arguments(line: str) -> list[str]:
    """The command-line arguments (after `basinlab`) of the README line `line`, shrunk
    as the README test would run it.

    **Raises:**

    - `LookupError`: no shell block of the README has that line.
    """
    found = [
        candidate
        for kind, text in BLOCKS
        if kind == "sh"
        for candidate in lines(text)
        if candidate == line
    ]
    if not found:
        raise LookupError(f"the README has no command {line!r}")
    arguments = shlex.split(shrunk("sh", found[0], set()))
    assert arguments[0] == "basinlab", line
    return arguments[1:]
