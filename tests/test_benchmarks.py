"""The benchmark scripts run, at sizes small enough for a CPU, and their checks pass."""

import json
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def run(script: str, tmp_path: Path, *arguments: str) -> dict:
    """Run a benchmark and return the measurements it writes with --json."""
    record = tmp_path / "measured.json"
    finished = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *arguments, "--json", str(record)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    return json.loads(record.read_text())


def test_gpu_ensemble_lean_kernel_matches_vmapped_diffrax(tmp_path):
    measured = run(
        "gpu_ensemble.py",
        tmp_path,
        *("--sizes", "256", "--labels-side", "16", "--repeats", "1", "--float64"),
    )
    # Tsit5 at rtol = atol = 1e-8 in both loops, with the same controller: the two
    # agree to within ten times the tolerance (the script alone allows 1e-3).
    (lorenz,) = measured["lorenz"]
    assert lorenz["largest_relative_difference"] < 1e-7


def test_ensemble_throughput_peer_labels_agree(tmp_path):
    measured = run(
        "ensemble_throughput.py",
        tmp_path,
        *("--n", "4096", "--n-scipy", "20", "--no-lsoda"),
    )
    assert measured["peers"]["solve_ivp"]["label_agreement"] == 1.0


def test_training_ensemble_matches_a_loop_of_single_runs(tmp_path):
    measured = run(
        "training_ensemble.py",
        tmp_path,
        # The mixture's agreement with single runs is test_training_ensemble's.
        *("--task", "reward_perceptron", "--dim", "40", "--steps", "200", "--n", "16"),
        *("--loop-runs", "2", "--batch-size", "8"),
    )
    assert [task["task"] for task in measured["tasks"]] == ["reward_perceptron"]
    for task in measured["tasks"]:
        assert task["largest_relative_gap"] < 1e-9
        assert task["records_in_8_gb"] * task["record_bytes_per_run"] <= 8 * 2**30
