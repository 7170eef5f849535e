import pathlib

import jax
import jupytext
import matplotlib
import nbclient
import nbformat
import pytest

NOTEBOOKS = sorted((pathlib.Path(__file__).parent.parent / "notebooks").glob("[0-9][0-9]_*.py"))

matplotlib.use("Agg")


def test_every_notebook_is_collected():
    assert [n.name for n in NOTEBOOKS] == [
        "00_alignment_double_well.py",
        "01_deep_linear_learning_order.py",
        "02_teacher_student_plateaus.py",
        "03_certified_basins.py",
        "04_calibration.py",
        "05_robustness_of_the_aligned_basin.py",
        "06_the_alignment_basin.py",
        "07_drift_under_iterated_training.py",
        "08_alignment_lagging_capability.py",
        "09_wrong_reward_labels.py",
        "10_in_context_testbed.py",
        "11_basins_of_real_networks.py",
        "12_attractors_without_prior_knowledge.py",
        "13_degeneracy_and_warning_signs.py",
    ]


# Each runs a whole notebook: up to a minute or more.
@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, monkeypatch):
    # Cell after cell in one namespace of its own, in this process, as a kernel runs
    # them, without a kernel's start and imports per notebook (the notebooks set no
    # global state). test_a_notebook_runs_in_a_jupyter_kernel covers the kernel.
    import matplotlib.pyplot as plt

    monkeypatch.setenv("BASINLAB_FAST", "1")
    monkeypatch.chdir(path.parent)
    namespace = {"__name__": "__main__"}
    try:
        for index, cell in enumerate(jupytext.read(path).cells):
            if cell.cell_type == "code":
                exec(compile(cell.source, f"{path.name}, cell {index}", "exec"), namespace)
    finally:
        plt.close("all")
        # A notebook compiles hundreds of programs; see conftest's _release_compiled_code.
        jax.clear_caches()
    # A notebook that ignored BASINLAB_FAST would have run its full settings.
    assert namespace["FAST"] is True


@pytest.mark.slow
def test_a_notebook_runs_in_a_jupyter_kernel(monkeypatch):
    monkeypatch.setenv("BASINLAB_FAST", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    path = NOTEBOOKS[0]
    notebook = jupytext.read(path)
    # A last cell reports the size the notebook ran at.
    notebook.cells.append(nbformat.v4.new_code_cell("print('FAST =', FAST)"))
    client = nbclient.NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    errors = [
        output
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert not errors
    assert notebook.cells[-1].outputs[0]["text"].strip() == "FAST = True"
