"""The benchmark scripts run, at sizes small enough for a CPU, and their checks pass."""

import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def run(script: str, *arguments: str) -> str:
    finished = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *arguments],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    return finished.stdout


def test_gpu_ensemble_runs_on_a_cpu_at_small_sizes():
    output = run("gpu_ensemble.py", "--sizes", "256", "--labels-side", "16", "--repeats", "1")
    # The script itself fails when the two Lorenz solvers differ by more than 1e-3.
    assert "256 trajectories: lean" in output and "vmapped diffrax" in output
    assert "float64:" in output and "float32:" in output and "labels/s" in output


def test_ensemble_throughput_runs_at_small_sizes():
    output = run("ensemble_throughput.py", "--n", "4096", "--n-scipy", "20", "--n-lsoda", "64")
    # The script itself fails when a peer's labels agree on fewer than 99.9%.
    assert "basinlab lean float64" in output and "solve_ivp" in output
