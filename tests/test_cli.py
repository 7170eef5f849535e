import subprocess

import matplotlib
import numpy as np
import numpyro.distributions as dist
import pytest
import sympy as sp
from _command_line import EXECUTABLE, run, run_here, run_python

import basinlab as bl

matplotlib.use("Agg")
MODEL = "alignment_double_well"


def test_models_lists_the_catalogue():
    out = run("models")
    assert out.returncode == 0, out.stderr
    assert "alignment_double_well" in out.stdout and "bistable_cycle" in out.stdout


def test_analyze_prints_the_fixed_point_table():
    out = run("analyze", "alignment_double_well", "--param", "bias=0.5")
    assert out.returncode == 0, out.stderr
    assert "(1/2, 3/2)" in out.stdout and "saddle (index 1)" in out.stdout
    assert out.stdout.count("stable node") == 2


def test_analyze_and_fractions_of_the_reward_perceptron_at_its_defaults(tmp_path, capsys):
    # Its field is defined for |S| <= sqrt(Q) only; the searches once left that domain.
    from basinlab import _cli

    assert _cli.main(["analyze", "reward_perceptron"]) == 0
    arguments = ["fractions", "reward_perceptron", "--n", "64", "--no-progress"]
    assert _cli.main([*arguments, "--out", str(tmp_path)]) == 0
    assert "UNCONVERGED" in capsys.readouterr().out


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
    assert "no start settled" not in out.stdout


def test_a_map_where_nothing_settles_says_why(tmp_path):
    # The capability race's clock state grows for ever: it has no attractor. Bounds
    # skip the survey for a window, which would itself find nothing that settles.
    out = run(
        "map",
        "capability_race",
        *("--resolution", "4", "--bounds", "0", "1", "0", "1", "--t1", "20"),
        *("--out", str(tmp_path), "--no-progress"),
    )
    assert out.returncode == 0, out.stderr
    assert "note: no start settled by t1" in out.stdout


def _modules_loaded_by(*arguments):
    code = (
        "import sys\n"
        "from basinlab._cli import main\n"
        "try:\n"
        f"    main({list(arguments)!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'jax', 'sympy', 'xarray'}))"
    )
    out = run_python(code, timeout=60)
    return out.stdout.strip().splitlines()[-1]


def test_help_and_usage_errors_load_neither_jax_nor_sympy():
    assert _modules_loaded_by("--help") == "[]"
    assert _modules_loaded_by("map", MODEL, "--resolution", "1") == "[]"
    assert _modules_loaded_by("fractions", MODEL, "--seed", "-1") == "[]"
    # An unknown model is refused from the catalogue's names alone.
    assert _modules_loaded_by("map", "no-such-model") == "[]"
    assert _modules_loaded_by("continue", "no-such-model", "--param", "bias=0:1:3") == "[]"


def test_model_errors_are_found_before_jax_is_loaded():
    assert _modules_loaded_by("map", MODEL, "--x", "z") == "['sympy']"
    assert _modules_loaded_by("map", MODEL, "--resolution", "10000000") == "['sympy']"
    assert _modules_loaded_by("demo", "--n", "0") == "[]"
    # Listing and analysing models is symbolic work: it never needs JAX.
    assert _modules_loaded_by("models") == "['sympy']"
    assert _modules_loaded_by("analyze", MODEL) == "['sympy']"


def test_progress_bars_count_trajectories_for_any_size(tmp_path):
    out = run("map", MODEL, "--resolution", "16", "--out", str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert "integrating" in out.stderr and "256/256" in out.stderr


def test_progress_advances_batch_by_batch_and_through_following(monkeypatch):
    from basinlab.simulations._engine import _progress

    advanced = []
    original = _progress.Progress.advance

    def record(self, count):
        advanced.append((self._bar.desc if self._bar else None, count))
        original(self, count)

    monkeypatch.setattr(_progress.Progress, "advance", record)
    p0 = dist.Uniform(np.array([-3.0, -3.0]), np.array([3.0, 3.0])).to_event(1)
    bl.basin_fractions(bl.models.bistable_cycle(), p0, n=3000, seed=0, batch_size=256, t1=40.0)
    integrating = [count for label, count in advanced if label == "integrating"]
    following = [count for label, count in advanced if label == "following unsettled"]
    assert sum(integrating) == 3000 and len(integrating) >= 10  # one chunk, many batches
    assert sum(following) > 1000  # the trajectories on the outer cycle


def test_default_window_shows_the_limit_cycle(tmp_path):
    out = run_here(
        "map", "bistable_cycle", "--resolution", "24", "--out", str(tmp_path), "--no-progress"
    )
    assert out.returncode == 0, out.stderr
    result = bl.load(tmp_path / "bistable_cycle_map.nc")
    for axis in ("x", "y"):
        ticks = result[axis].values
        assert ticks[0] <= -2.2 and ticks[-1] >= 2.2  # the cycle r = 2, with a margin
    assert "limit cycle" in " ".join(map(str, result["attractor_kind"].values))


def test_equal_aspect_when_the_axes_share_units():
    a, c = sp.symbols("a c", real=True)
    same = bl.Model("same", [a, c], [-a, -c])
    other = bl.Model("other", [a, c], [-a, -c], units={"a": "nats", "c": "steps"})
    for model, aspect in ((same, 1.0), (other, "auto")):
        result = bl.basin_map(model, "a", "c", ((-1, 1), (-3, 3)), resolution=6, progress=False)
        _, ax = bl.plot_basin_map(result)
        assert ax.get_aspect() == aspect
    _, ax = bl.plot_basin_map(result)
    assert ax.get_xlabel() == "a [nats]" and ax.get_ylabel() == "c [steps]"


@pytest.mark.slow
def test_testbed_writes_curves_and_a_plot_and_resumes(tmp_path):
    arguments = ("testbed", "linear", "--dim", "3", "--fast", "--out", str(tmp_path))
    out = run_here(*arguments, "--no-progress")
    assert out.returncode == 0, out.stderr
    assert "least_squares" in out.stdout and "k = 3" in out.stdout
    assert (tmp_path / "testbed.png").stat().st_size > 10_000
    record = bl.load(tmp_path / "testbed.nc")
    assert "transformer" in record["learner"].values
    again = run_here(*arguments, "--no-progress")
    assert again.returncode == 0, again.stderr
    assert bl.load(tmp_path / "testbed.nc")["loss"].equals(record["loss"])
    other = run_here("testbed", "linear", "--dim", "4", "--fast", "--out", str(tmp_path))
    assert other.returncode == 2 and "other settings" in other.stderr
    # --overwrite replaces the result and the checkpoint that another seed made.
    reseeded = run_here(*arguments, "--seed", "7", "--overwrite", "--no-progress")
    assert reseeded.returncode == 0, reseeded.stderr
    assert bl.load(tmp_path / "testbed.nc").attrs["seed"] == 7
    bad = run_here("testbed", "quadratic", "--out", str(tmp_path))
    assert bad.returncode == 2 and "invalid choice: 'quadratic'" in bad.stderr


def test_the_cli_names_every_testbed_class():
    from basinlab._cli import TESTBED_CLASSES
    from basinlab.simulations.testbed import CLASSES

    assert tuple(CLASSES) == TESTBED_CLASSES


def test_the_cli_knows_how_many_nonzero_weights_the_sparse_class_draws():
    from basinlab._requests import SPARSE_NONZEROS
    from basinlab.simulations.testbed import function_class

    assert function_class("sparse_linear", 5).nonzeros == SPARSE_NONZEROS


def test_the_cli_names_every_training_task():
    from basinlab._cli import TRAINING_TASKS
    from basinlab.simulations.training import TRAINING_TASKS as REGISTERED

    assert tuple(REGISTERED) == TRAINING_TASKS


def test_runs_takes_text_settings_as_text_and_numbers_as_numbers():
    from basinlab._cli import _assignments
    from basinlab.simulations.training import training_task

    given = ["order=misaligned_first", "fraction=0.2", "dim=3"]
    settings = _assignments(given, "setting", text_allowed=True)
    assert settings == {"order": "misaligned_first", "fraction": 0.2, "dim": 3.0}
    task, _ = training_task("in_context_mixture", settings, steps=10)
    assert (task.order, task.fraction, task.dim, task.planned_steps) == (
        "misaligned_first",
        0.2,
        3,
        10,
    )


# 64 runs in chunks of one batch of 16: the budget holds one batch and no more.
_RUNS = ("runs", "reward_perceptron", "--n", "64", "--set", "dim=50", "--memory", "5e-5")


def test_runs_killed_mid_work_resume_to_the_same_record(tmp_path):
    import signal
    import time

    killed, whole = tmp_path / "killed", tmp_path / "whole"
    run = subprocess.Popen(
        [str(EXECUTABLE), *_RUNS, "--no-progress", "--out", str(killed)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and not any(killed.rglob("chunk_*.npz")):
        time.sleep(0.05)
    run.send_signal(signal.SIGKILL)
    run.wait(timeout=60)
    finished_before = len(list(killed.rglob("chunk_*.npz")))
    assert 1 <= finished_before < 4, "the kill came too late to test a resume"
    resumed = run_here(*_RUNS, "--no-progress", "--out", str(killed))
    assert resumed.returncode == 0, resumed.stderr
    assert "aligned" in resumed.stdout and "theory" in resumed.stdout
    assert len(list(killed.rglob("chunk_*.npz"))) == 4
    # The uninterrupted run also predicts with the SDE, which leaves the runs alone.
    uninterrupted = run_here(*_RUNS, "--fluctuations", "--no-progress", "--out", str(whole))
    assert uninterrupted.returncode == 0, uninterrupted.stderr
    assert "theory: the SDE of finite size" in uninterrupted.stdout
    again, fresh = bl.load(killed / "runs.nc"), bl.load(whole / "runs.nc")
    for name in ("R", "S", "Q", "overlap", "holds", "label"):
        np.testing.assert_array_equal(again[name].values, fresh[name].values)
    assert (killed / "runs.png").stat().st_size > 0
