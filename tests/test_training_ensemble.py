"""Many training runs at once: each run a function of its key alone, the same as a
loop of single runs, resumable from its chunks, and refusing bad input."""

import textwrap

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import xarray as xr
from _command_line import host_devices, product_compiler, run_python

from basinlab.simulations import first_violation, holds_all_along, wilson_interval
from basinlab.simulations._engine._checkpoint import ChunkStore
from basinlab.simulations.training import (
    InContextMixtureTask,
    RewardPerceptronTask,
    TeacherStudentTask,
    ensemble_fractions,
    minimal_fine_tuning_shock,
    predicted_fractions,
    run_keys,
    train_ensemble,
    weight_plane_map,
)

TASK = RewardPerceptronTask(dim=50, episode_length=3, proxy_overlap=0.3, flip=0.2, penalty=0.5)
SIZE = dict(steps=200, log_every=50, seed=3, progress=False)


@pytest.mark.parametrize(
    "task",
    [
        TASK,
        TeacherStudentTask(dim=40, students=2, teachers=3, init_scale=0.3),
        InContextMixtureTask(
            dim=2,
            fraction=0.5,
            order="misaligned_last",
            width=8,
            heads=2,
            batch=4,
            planned_steps=20,
            test_prompts=16,
        ),
    ],
    ids=lambda task: task.name,
)
def test_an_ensemble_is_a_loop_of_single_runs(task):
    steps = task.planned_steps if isinstance(task, InContextMixtureTask) else SIZE["steps"]
    size = {**SIZE, "steps": steps, "log_every": steps // 4}
    record = train_ensemble(task, n=5, chunk_size=4, batch_size=2, **size)
    step = eqx.filter_jit(lambda w, key, index: task.step(w, key, index))
    for run, key in enumerate(run_keys(3, np.arange(5))):
        init_key, data_key = jax.random.split(key)
        w = task.init(init_key)
        for index in range(steps):
            w = step(w, jax.random.fold_in(data_key, index), jnp.asarray(index))
        observed = task.observe(w)
        for name, value in observed.items():
            assert record[name].values[run, -1] == pytest.approx(float(value), 1e-12), name
        assert record["label"].values[run] == int(task.end_state(observed))
        for name, holds in task.predicates(observed).items():
            assert record["holds"].sel(predicate=name).values[run, -1] == bool(holds)


# Bitwise equality across chunk sizes, workers and devices is a property of XLA's code
# generation, so it is checked with the compiler the product runs with, not the
# suite's quicker one; two host devices need an interpreter of their own.
_SPLITS = textwrap.dedent(
    """
    import sys

    import jax
    import numpy as np

    from basinlab.simulations.training import RewardPerceptronTask, train_ensemble

    task = RewardPerceptronTask(dim=50, episode_length=3, proxy_overlap=0.3, flip=0.2)
    size = dict(n=21, steps=100, log_every=50, seed=1, batch_size=4, progress=False)
    many = train_ensemble(task, chunk_size=8, workers=2, **size)
    if len(jax.devices()) == 1:
        one = train_ensemble(task, chunk_size=32, workers=1, **size)
        for name in ("R", "S", "Q", "overlap", "holds", "label"):
            np.testing.assert_array_equal(one[name].values, many[name].values)
    np.savez(sys.argv[1], devices=len(jax.devices()), overlap=many["overlap"].values)
    """
)


def test_runs_do_not_depend_on_chunks_workers_or_devices(tmp_path):
    results = {}
    for count in (1, 2):
        path = tmp_path / f"{count}.npz"
        done = run_python(_SPLITS, str(path), env={**product_compiler(), **host_devices(count)})
        assert done.returncode == 0, done.stderr[-3000:]
        results[count] = np.load(path)
        assert int(results[count]["devices"]) == count
    np.testing.assert_array_equal(results[1]["overlap"], results[2]["overlap"])


def test_finished_chunks_are_read_back(tmp_path):
    first = train_ensemble(TASK, n=6, chunk_size=4, batch_size=2, checkpoint_dir=tmp_path, **SIZE)
    files = sorted(tmp_path.rglob("chunk_*.npz"))
    assert len(files) == 2
    store = ChunkStore(files[1].parent)
    arrays = store.read(1)
    arrays["path/Q"] = np.full_like(arrays["path/Q"], -7.0)
    store.write(1, arrays)
    resumed = train_ensemble(TASK, n=6, chunk_size=4, batch_size=2, checkpoint_dir=tmp_path, **SIZE)
    assert np.all(resumed["Q"].values[4:] == -7.0)
    np.testing.assert_array_equal(resumed["R"].values, first["R"].values)


def test_fractions_count_the_runs_with_wilson_intervals():
    record = train_ensemble(TASK, n=12, chunk_size=8, batch_size=4, **SIZE)
    fractions = ensemble_fractions(record, confidence=0.9)
    ends_aligned = record["overlap"].values[:, -1] > TASK.aligned_cosine
    count = int(ends_aligned.sum())
    assert list(fractions["outcome_name"].values) == ["aligned", "unaligned"]
    np.testing.assert_array_equal(fractions["count"].values, [count, 12 - count])
    low, high = wilson_interval(np.array([count, 12 - count]), 12, 0.9)
    np.testing.assert_allclose(fractions["fraction_low"].values, low)
    np.testing.assert_allclose(fractions["fraction_high"].values, high)
    assert int(fractions["predicate_count"].sel(predicate="aligned")) == count
    along = (record["overlap"].values > TASK.aligned_cosine).all(axis=1).sum()
    assert int(fractions["all_along_count"].sel(predicate="aligned")) == along


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(n=0, steps=100, log_every=50), "n"),
        (dict(n=2, steps=100, log_every=30), "multiple of log_every"),
        (dict(n=2, steps=100, log_every=50, chunk_size=0), "chunk_size"),
        (dict(n=2, steps=100, log_every=50, batch_size=0), "batch_size"),
    ],
)
def test_bad_ensemble_settings_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        train_ensemble(TASK, progress=False, **kwargs)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(proxy_overlap=1.5), "proxy_overlap"),
        (dict(flip=-0.1), "flip"),
        (dict(dim=1), "dim"),
        (dict(reward=0.0), "reward"),
    ],
)
def test_bad_task_settings_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        RewardPerceptronTask(**kwargs)


def test_path_predicates_read_a_record():
    record = train_ensemble(TASK, n=6, chunk_size=8, batch_size=2, **SIZE)
    above = record["overlap"].values > TASK.aligned_cosine
    np.testing.assert_array_equal(holds_all_along(record, "aligned").values, above.all(axis=1))
    first = first_violation(record, "aligned").values
    steps = record["step"].values
    for run in range(6):
        failed = np.flatnonzero(~above[run])
        expected = steps[failed[0]] if failed.size else np.nan
        np.testing.assert_equal(first[run], expected)


# Far from the boundary of the bistable RL perceptron (T = 5, penalty 0.8: stuck below
# an initial cosine of about 0.62, aligned above), each run's own start predicts its end.
_BISTABLE = dict(dim=100, episode_length=5, penalty=0.8)


@pytest.mark.parametrize("cosine, aligned", [(0.35, 0.0), (0.85, 1.0)])
def test_the_theory_predicts_the_end_of_runs_far_from_the_boundary(cosine, aligned):
    task = RewardPerceptronTask(
        **_BISTABLE, initial_overlap=cosine, init_scale=float(np.sqrt(1 - cosine**2))
    )
    record = train_ensemble(task, n=32, steps=1500, log_every=500, progress=False)
    measured, predicted = ensemble_fractions(record), predicted_fractions(task, record)
    assert float(predicted["fraction"].sel(outcome=0)) == aligned
    low, high = (float(measured[f"fraction_{end}"].sel(outcome=0)) for end in ("low", "high"))
    assert low <= aligned <= high
    assert predicted.attrs["agreement"] >= 0.9


def test_the_theory_follows_pre_training_then_fine_tuning():
    # No bistability here (T = 2, no penalty), so the mean run follows the ODE: its
    # final order parameters check the two phases, the slots of S and I and alpha.
    task = RewardPerceptronTask(
        dim=400,
        episode_length=2,
        proxy_overlap=0.6,
        flip=0.1,
        init_scale=1.0,
        pretrain_steps=800,
    )
    record = train_ensemble(task, n=16, steps=2000, log_every=1000, progress=False)
    start = {name: record[name].values[:, 0] for name in ("R", "S", "Q")}
    predicted = task.predict_order_parameters(start, 2000)
    for name in ("R", "S", "Q"):
        measured = record[name].values[:, -1]
        spread = measured.std() / np.sqrt(measured.size)
        assert abs(measured.mean() - predicted[name].mean()) < 4 * spread + 0.02, name
    # Pre-training moved the runs toward the true teacher, fine-tuning toward the proxy.
    assert record["overlap"].values[:, 1].mean() > 0.6


def test_the_sde_spreads_runs_from_one_start_as_their_episodes_do():
    # Every run starts from the same weights, so their spread at the end is the
    # episodes' noise alone: the ODE has none, the SDE of finite D must match it, in
    # the pre-training phase and in the fine-tuning after it.
    task = RewardPerceptronTask(
        dim=100, episode_length=2, proxy_overlap=0.6, flip=0.1, penalty=0.3, pretrain_steps=100
    )
    start = np.asarray(task.init(jax.random.key(0)))
    n, steps = 128, 300
    record = train_ensemble(
        task, n=n, steps=steps, log_every=steps, starts=np.tile(start, (n, 1)), progress=False
    )
    observed = task.observe(jnp.asarray(start))
    initial = {name: np.array([float(observed[name])]) for name in ("R", "S", "Q")}
    theory = task.predict_order_parameters(initial, steps, paths=512, seed=1)
    for name in ("R", "S", "Q"):
        measured, sampled = record[name].values[:, -1], theory[name][0]
        assert abs(measured.std() / sampled.std() - 1) < 0.25, name
        error = np.hypot(measured.std() / np.sqrt(n), sampled.std() / np.sqrt(sampled.size))
        assert abs(measured.mean() - sampled.mean()) < 4 * error, name


def test_near_the_boundary_the_measured_share_lies_in_the_sdes_range():
    # At a start cosine of 0.6, just below the ODE's boundary (about 0.62), episode
    # noise decides where many runs end.
    task = RewardPerceptronTask(**_BISTABLE, initial_overlap=0.6, init_scale=0.8)
    record = train_ensemble(task, n=64, steps=1500, log_every=500, progress=False)
    measured = ensemble_fractions(record)
    predicted = predicted_fractions(task, record, fluctuations=True, paths=8, seed=2)
    share = float(measured["fraction"].sel(outcome=0))
    low, high = (float(predicted[f"fraction_{end}"].sel(outcome=0)) for end in ("low", "high"))
    assert low <= share <= high
    chances = predicted["probability_predicted"].values
    np.testing.assert_allclose(chances.sum(axis=1), 1.0)
    assert predicted["count"].sum() == pytest.approx(64)


def test_a_record_of_another_task_is_refused():
    record = train_ensemble(TASK, n=2, chunk_size=2, batch_size=2, **SIZE)
    other = RewardPerceptronTask(dim=50, episode_length=3, flip=0.3)
    with pytest.raises(ValueError, match="other settings"):
        predicted_fractions(other, record)
    with pytest.raises(ValueError, match="record of train_ensemble"):
        ensemble_fractions(record.assign_attrs(kind="trajectories"))


def test_given_starts_train_as_drawn_ones():
    record = train_ensemble(TASK, n=4, chunk_size=4, batch_size=2, **SIZE)
    keys = run_keys(3, np.arange(4))
    starts = np.stack([np.asarray(TASK.init(jax.random.split(key)[0])) for key in keys])
    given = train_ensemble(TASK, n=4, chunk_size=4, batch_size=2, starts=starts, **SIZE)
    np.testing.assert_allclose(given["Q"].values, record["Q"].values, rtol=1e-12)
    np.testing.assert_array_equal(given["label"].values, record["label"].values)


def test_chunks_of_other_starts_are_not_read_back(tmp_path):
    starts = np.ones((4, 50))
    settings = dict(n=4, chunk_size=4, batch_size=2, checkpoint_dir=tmp_path, **SIZE)
    first = train_ensemble(TASK, starts=starts, **settings)
    other = train_ensemble(TASK, starts=2 * starts, **settings)
    assert not np.allclose(first["Q"].values[:, 0], other["Q"].values[:, 0])
    np.testing.assert_allclose(other["Q"].values[:, 0], 4.0)


@pytest.mark.parametrize(
    "starts, match",
    [(np.ones((3, 50)), "4 states of the task"), (np.full((4, 50), np.nan), "finite")],
)
def test_bad_starts_are_refused(starts, match):
    with pytest.raises(ValueError, match=match):
        train_ensemble(TASK, n=4, starts=starts, **SIZE)


def test_a_plane_map_has_its_starts_where_asked_and_the_theory_far_from_the_boundary():
    task = RewardPerceptronTask(**_BISTABLE)
    a, b = np.array([0.3, 2.0]), np.array([0.4, 1.8])
    plane = weight_plane_map(
        task,
        np.zeros(100),
        tuple(task.plane),
        a,
        b,
        steps=1000,
        log_every=500,
        streams=4,
        progress=False,
    )
    grid_a, grid_b = np.meshgrid(a, b, indexing="ij")
    np.testing.assert_allclose(plane["start_R"].values, grid_a, atol=1e-12)
    np.testing.assert_allclose(plane["start_Q"].values, grid_a**2 + grid_b**2, atol=1e-12)
    np.testing.assert_allclose(plane["fraction"].sum("end_state"), 1.0)
    # cosine 0.98 (a = 2, b = 0.4) learns; cosine 0.16 (a = 0.3, b = 1.8) stays stuck.
    assert plane["label_predicted"].sel(a=2.0, b=0.4) == 0
    assert plane["label_predicted"].sel(a=0.3, b=1.8) == 1
    assert plane["fraction"].sel(end_state="aligned", a=2.0, b=0.4) == 1.0
    assert plane["fraction"].sel(end_state="aligned", a=0.3, b=1.8) == 0.0


def test_the_steepest_shock_is_the_smallest_and_the_theory_brackets_it_closely():
    task = RewardPerceptronTask(**_BISTABLE)
    trained = np.asarray(task.plane_starts([3.0], [0.6])[0])  # cosine 0.98, Q = 9.4
    directions = np.vstack([task.toward_misalignment(trained), np.eye(100)[[7, 42]]])
    shock = minimal_fine_tuning_shock(
        task,
        trained,
        directions,
        steps=1000,
        log_every=500,
        streams=3,
        bisections=6,
        progress=False,
    )
    steepest, random = shock.isel(direction=0), shock.isel(direction=slice(1, None))
    assert 0 < steepest["shock_high"] <= random["shock_low"].min()
    middle = (steepest["shock_low"] + steepest["shock_high"]) / 2
    assert abs(float(steepest["theory_low"]) / float(middle) - 1) < 0.15


def test_the_committee_machine_logs_its_error_and_specialisation_as_sampled():
    task = TeacherStudentTask(dim=60, students=2, teachers=2)
    w = np.asarray(task.init(jax.random.PRNGKey(1))) + 0.7 * np.asarray(task.teacher)
    observed = task.observe(jnp.asarray(w))
    x = np.random.default_rng(0).normal(size=(200_000, 60))
    erf = jax.scipy.special.erf
    student = np.asarray(erf(x @ w.T / np.sqrt(60) / np.sqrt(2))).sum(axis=1)
    teacher = np.asarray(erf(x @ np.asarray(task.teacher).T / np.sqrt(60) / np.sqrt(2))).sum(1)
    squared = (student - teacher) ** 2 / 2
    sampled, error = squared.mean(), squared.std() / np.sqrt(squared.size)
    assert abs(float(observed["eps_g"]) - sampled) < 4 * error
    assert float(task.observe(task.teacher)["specialisation"]) == pytest.approx(1.0)
    symmetric = jnp.tile(task.teacher.mean(axis=0), (2, 1))
    assert float(task.observe(symmetric)["specialisation"]) == pytest.approx(0.0, abs=1e-12)


def test_the_theory_predicts_the_share_that_leaves_the_plateau():
    # At N = 100 about half of the runs specialise within alpha = 60 (60 N steps).
    task = TeacherStudentTask(dim=100)
    record = train_ensemble(task, n=48, steps=6000, log_every=3000, progress=False)
    measured, predicted = ensemble_fractions(record), predicted_fractions(task, record)
    low, high = (float(measured[f"fraction_{end}"].sel(outcome=0)) for end in ("low", "high"))
    assert 0.1 < float(measured["fraction"].sel(outcome=0)) < 0.9
    assert low <= float(predicted["fraction"].sel(outcome=0)) <= high
    assert predicted.attrs["agreement"] >= 0.7


def test_the_mixture_task_lays_out_its_orders_and_predicts_by_the_bayes_threshold():
    index = jnp.arange(100)
    for order, expected in (
        ("mixed", np.full(100, 0.3)),
        ("misaligned_first", (np.arange(100) < 30).astype(float)),
        ("misaligned_last", (np.arange(100) >= 70).astype(float)),
    ):
        task = InContextMixtureTask(fraction=0.3, order=order, planned_steps=100)
        share = jax.vmap(task._misaligned_share)(index)
        np.testing.assert_allclose(share, expected)
    record = xr.Dataset(coords={"run": np.arange(3)})
    below, above = (InContextMixtureTask(fraction=p, planned_steps=10) for p in (0.4, 0.6))
    np.testing.assert_array_equal(below.predict_end_states(record), [0, 0, 0])
    np.testing.assert_array_equal(above.predict_end_states(record), [1, 1, 1])
    with pytest.raises(NotImplementedError, match="order"):
        InContextMixtureTask(order="misaligned_first").predict_end_states(record)
    with pytest.raises(ValueError, match="unknown order"):
        InContextMixtureTask(order="sideways")


def test_two_ensembles_sharing_a_folder_agree_with_one_alone(tmp_path):
    import concurrent.futures

    settings = dict(n=12, chunk_size=4, batch_size=2, checkpoint_dir=tmp_path, **SIZE)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        first, second = pool.map(lambda _: train_ensemble(TASK, **settings), range(2))
    alone = train_ensemble(TASK, n=12, chunk_size=4, batch_size=2, **SIZE)
    for record in (first, second):
        np.testing.assert_array_equal(record["overlap"].values, alone["overlap"].values)
    assert len(list(tmp_path.rglob("chunk_*.npz"))) == 3
