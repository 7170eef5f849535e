"""The in-context testbed: prompt distributions and baselines against closed forms."""

import equinox as eqx
import jax
import numpy as np
import optax
import pytest

import basinlab.simulations.testbed._mixture_basin as mixture_module
import basinlab.simulations.testbed._training as training_module
from basinlab.simulations import DamagedChunkWarning
from basinlab.simulations.testbed import (
    BASELINES,
    Curriculum,
    InContextTransformer,
    Prompts,
    baseline_predictions,
    error_curves,
    function_class,
    marked_query_inputs,
    mixture_basin,
    sample_prompts,
    train_in_context,
    training_update,
)

KEY = jax.random.PRNGKey(0)


@pytest.mark.parametrize(
    "name, options",
    [
        ("linear", {}),
        ("sparse_linear", {"nonzeros": 3}),
        ("relu_network", {}),
        ("decision_tree", {}),
    ],
)
def test_each_class_has_its_stated_output_variance_and_is_seeded(name, options):
    cls = function_class(name, 8, **options)
    prompts = sample_prompts(cls, KEY, 20_000, 2)
    variance = np.var(np.asarray(prompts.ys))
    # Four standard errors of a sample variance with a fourth moment at most ~15 var^2.
    assert variance == pytest.approx(cls.output_variance, rel=4 * np.sqrt(15 / 40_000))
    again = sample_prompts(cls, KEY, 20_000, 2)
    np.testing.assert_array_equal(prompts.ys, again.ys)
    other = sample_prompts(cls, jax.random.PRNGKey(1), 20_000, 2)
    assert not np.allclose(prompts.ys, other.ys)


def test_class_outputs_follow_their_definitions():
    sparse = sample_prompts(function_class("sparse_linear", 10, nonzeros=4), KEY, 50, 3)
    assert np.all(np.count_nonzero(np.asarray(sparse.tasks), axis=1) == 4)
    relu = sample_prompts(function_class("relu_network", 6, hidden=7), KEY, 5, 4)
    tasks, xs = np.asarray(relu.tasks), np.asarray(relu.xs)
    by_hand = np.einsum(
        "br,bnr->bn", tasks[..., -1], np.maximum(xs @ tasks[..., :-1].transpose(0, 2, 1), 0)
    )
    np.testing.assert_allclose(relu.ys, by_hand, rtol=1e-5, atol=1e-6)
    tree = sample_prompts(function_class("decision_tree", 5, depth=2), KEY, 30, 6)
    tasks, xs = np.asarray(tree.tasks), np.asarray(tree.xs)
    for task, points, outputs in zip(tasks, xs, np.asarray(tree.ys)):
        splits, leaves = task[:3].astype(int), task[3:]
        for x, y in zip(points, outputs):
            node = 0
            for _ in range(2):
                node = 2 * node + 1 + int(x[splits[node]] > 0)
            assert y == pytest.approx(leaves[node - 3])


def test_least_squares_error_is_the_unseen_share_of_the_dimensions():
    d, points = 6, 10
    prompts = sample_prompts(function_class("linear", d), KEY, 4000, points)
    curves = error_curves(
        prompts, {"least_squares": baseline_predictions(prompts, "least_squares")}
    )
    error = curves["error"].sel(learner="least_squares").values
    sem = curves["error_sem"].sel(learner="least_squares").values
    expected = np.clip((d - np.arange(points)) / d, 0, None)
    assert np.all(np.abs(error - expected) < 4 * sem + 1e-6)
    assert np.all(error[d:] < 1e-6)


def test_averaging_error_is_one_plus_d_over_k():
    # E|S w - w|^2 / d with S the sample covariance of k Gaussian inputs.
    d, points = 4, 9
    prompts = sample_prompts(function_class("linear", d), jax.random.PRNGKey(3), 40_000, points)
    curves = error_curves(prompts, {"averaging": baseline_predictions(prompts, "averaging")})
    error = curves["error"].values[0, 1:]
    sem = curves["error_sem"].values[0, 1:]
    expected = (1 + d) / np.arange(1, points)
    assert np.all(np.abs(error - expected) < 4 * sem)


def test_ridge_tends_to_least_squares_and_lasso_wins_on_sparse_tasks():
    prompts = sample_prompts(function_class("sparse_linear", 10, nonzeros=2), KEY, 64, 10)
    least = baseline_predictions(prompts, "least_squares")
    ridge = baseline_predictions(prompts, "ridge", penalty=1e-6)
    np.testing.assert_allclose(ridge[:, 1:], least[:, 1:], atol=1e-3)
    curves = error_curves(prompts, {"ls": least, "lasso": baseline_predictions(prompts, "lasso")})
    assert np.all(
        curves["error"].sel(learner="lasso")[5:9] < curves["error"].sel(learner="ls")[5:9]
    )


def test_nearest_neighbour_repeats_the_output_of_a_repeated_input():
    prompts = sample_prompts(function_class("relu_network", 3), KEY, 8, 5)
    xs = prompts.xs.at[:, 4].set(prompts.xs[:, 1])
    ys = prompts.ys.at[:, 4].set(prompts.ys[:, 1])
    repeated = Prompts(xs, ys, prompts.tasks, prompts.function_class)
    predicted = baseline_predictions(repeated, "nearest_neighbours", neighbours=1)
    np.testing.assert_allclose(predicted[:, 4], ys[:, 1], rtol=1e-6)
    assert np.all(predicted[:, 0] == 0)
    assert set(BASELINES) >= {"least_squares", "ridge", "lasso", "nearest_neighbours", "averaging"}


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: function_class("quadratic", 3), "unknown function class 'quadratic'"),
        (lambda: function_class("linear", 0), "dim must be a positive integer"),
        (lambda: function_class("sparse_linear", 3, nonzeros=4), "nonzeros must be at most dim"),
        (lambda: function_class("decision_tree", 3, depth=0), "depth must be a positive"),
        (lambda: sample_prompts(function_class("linear", 3), KEY, 4, 0), "points must be a"),
        (lambda: sample_prompts(function_class("linear", 3), KEY, 0, 4), "batch must be a"),
        (
            lambda: baseline_predictions(
                sample_prompts(function_class("linear", 3), KEY, 2, 3), "oracle"
            ),
            "unknown baseline 'oracle'",
        ),
    ],
)
def test_bad_testbed_input_is_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call()


TINY = dict(points=6, width=16, depth=1, heads=2, batch=16, log_every=10, eval_batch=32)


def test_the_training_step_lowers_the_loss_of_its_batch():
    cls = function_class("linear", 3)
    prompts = sample_prompts(cls, KEY, 16, 6)
    model = InContextTransformer(3, 6, width=16, depth=1, heads=2, key=jax.random.PRNGKey(5))
    optimiser = optax.adam(3e-3)
    state = optimiser.init(eqx.filter(model, eqx.is_inexact_array))
    losses = []
    for _ in range(60):
        model, state, loss = training_update(
            model, state, optimiser, prompts.xs, prompts.ys, 6, cls.output_variance
        )
        losses.append(float(loss))
    assert losses[-1] < 0.5 * losses[0]
    assert np.all(np.diff(losses[:5]) < 0)


def test_training_is_reproducible_by_seed():
    cls = function_class("linear", 3)
    _, one = train_in_context(cls, steps=60, seed=1, progress=False, **TINY)
    _, two = train_in_context(cls, steps=60, seed=1, progress=False, **TINY)
    _, other = train_in_context(cls, steps=60, seed=2, progress=False, **TINY)
    np.testing.assert_array_equal(one["loss"].values, two["loss"].values)
    np.testing.assert_array_equal(one["error"].values, two["error"].values)
    assert not np.allclose(one["loss"].values, other["loss"].values)
    assert set(one["learner"].values) >= {"transformer", "least_squares", "zero"}
    assert one.attrs["parameters"] > 0 and one.attrs["experiment"] == "in_context"


def test_an_interrupted_run_resumes_to_the_same_result(tmp_path, monkeypatch):
    cls = function_class("linear", 3)
    settings = dict(steps=100, seed=3, progress=False, checkpoint_every=50, **TINY)
    _, whole = train_in_context(cls, **settings)
    real_step, calls = training_module._step, []

    def failing_step(*arguments):
        calls.append(1)
        if len(calls) > 70:
            raise KeyboardInterrupt
        return real_step(*arguments)

    monkeypatch.setattr(training_module, "_step", failing_step)
    with pytest.raises(KeyboardInterrupt):
        train_in_context(cls, out=tmp_path, **settings)
    # Model, optimiser, step and losses are one file, written as one unit.
    assert [p.name for p in tmp_path.iterdir()] == [training_module.CHECKPOINT]
    monkeypatch.setattr(training_module, "_step", real_step)
    _, resumed = train_in_context(cls, out=tmp_path, **settings)
    np.testing.assert_allclose(resumed["loss"], whole["loss"], rtol=1e-5)
    np.testing.assert_allclose(resumed["error"], whole["error"], rtol=1e-4)
    with pytest.raises(ValueError, match="other settings"):
        train_in_context(cls, out=tmp_path, **settings | {"seed": 4})
    _, replaced = train_in_context(cls, out=tmp_path, overwrite=True, **settings | {"seed": 4})
    _, alone = train_in_context(cls, **settings | {"seed": 4})
    np.testing.assert_array_equal(replaced["loss"].values, alone["loss"].values)


@pytest.mark.parametrize(
    "damage, problem",
    [
        (lambda raw: raw[: len(raw) // 2], "checksum mismatch"),
        (lambda raw: raw.replace(b'"step": 20', b'"step": 10', 1), "checksum mismatch"),
        (lambda raw: b"garbage" + raw, "not a basinlab training checkpoint"),
    ],
)
def test_a_damaged_checkpoint_is_reported_and_training_starts_again(damage, problem, tmp_path):
    cls = function_class("linear", 3)
    settings = dict(steps=20, seed=1, progress=False, checkpoint_every=10, **TINY)
    _, whole = train_in_context(cls, out=tmp_path, **settings)
    path = tmp_path / training_module.CHECKPOINT
    path.write_bytes(damage(path.read_bytes()))
    with pytest.warns(DamagedChunkWarning, match=f"checkpoint.eqx .*{problem}"):
        _, again = train_in_context(cls, out=tmp_path, **settings)
    np.testing.assert_array_equal(again["loss"].values, whole["loss"].values)


def test_a_run_shorter_than_its_warm_up_and_its_logging_interval_trains():
    _, record = train_in_context(
        function_class("linear", 3), steps=1, checkpoint_every=10, progress=False, **TINY
    )
    assert record["step"].values.tolist() == [1] and np.isfinite(record["loss"].values[0])


def test_the_curriculum_grows_dimensions_and_prompts():
    curriculum = Curriculum(start_dim=2, start_points=3, every=10)
    assert [int(v) for v in curriculum.stage(np.int32(0), 5, 11)] == [2, 3]
    assert [int(v) for v in curriculum.stage(np.int32(25), 5, 11)] == [4, 7]
    assert [int(v) for v in curriculum.stage(np.int32(1000), 5, 11)] == [5, 11]
    cls = function_class("linear", 3)
    _, record = train_in_context(
        cls, steps=40, curriculum=curriculum, progress=False, seed=0, **TINY
    )
    assert np.all(np.isfinite(record["loss"].values))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(points=0), "points must be a positive"),
        (dict(steps=0), "steps must be a positive"),
        (dict(learning_rate=-1.0), "learning_rate must be a positive"),
        (dict(heads=3, width=16), "heads = 3 must divide width = 16"),
        (dict(checkpoint_every=15, log_every=10), "must be a multiple of log_every"),
        (dict(seed=0.5), "seed must be an integer"),
    ],
)
def test_bad_training_settings_are_refused(kwargs, message):
    settings = TINY | dict(steps=10, progress=False) | kwargs
    with pytest.raises((ValueError, TypeError), match=message):
        train_in_context(function_class("linear", 3), **settings)


def test_the_marked_mixture_flips_only_misaligned_prompts_on_the_marked_region():
    cls = function_class("marked_flip_mixture", 4, fraction=0.3, threshold=0.5)
    prompts = sample_prompts(cls, KEY, 4000, 6)
    tasks, xs, ys = (np.asarray(a) for a in (prompts.tasks, prompts.xs, prompts.ys))
    plain = np.einsum("bd,bnd->bn", tasks[:, :4], xs)
    flipped = (tasks[:, 4:] > 0.5) & (xs[..., 0] > 0.5)
    np.testing.assert_allclose(ys, np.where(flipped, -plain, plain), rtol=1e-5, atol=1e-5)
    share = tasks[:, 4].mean()
    assert abs(share - 0.3) < 4 * np.sqrt(0.3 * 0.7 / 4000)
    marked = np.asarray(marked_query_inputs(KEY, 200, 5, 4, 0.5))
    assert np.all(marked[:, :-1, 0] <= 0.5) and np.all(marked[:, -1, 0] >= 0.5)


def test_the_mixture_basin_counts_seeds_and_resumes_from_its_runs(tmp_path, monkeypatch):
    settings = dict(steps=20, out=tmp_path, progress=False, **TINY)
    basin = mixture_basin([0.0, 1.0], [0, 1, 2], dim=3, **settings)
    assert basin["intended"].shape == (2, 3)
    np.testing.assert_allclose(basin["basin_fraction"], basin["intended"].mean("seed"))
    assert np.all(basin["basin_low"] <= basin["basin_fraction"])
    assert np.all(basin["basin_fraction"] <= basin["basin_high"])
    errors = basin["intended_error"] - basin["unintended_error"]
    assert np.array_equal(basin["intended"].values == 1, errors.values < 0)
    assert len(list((tmp_path / "runs").glob("*.json"))) == 6

    def no_training(*arguments, **options):
        raise AssertionError("a finished run was trained again")

    monkeypatch.setattr(mixture_module, "train_in_context", no_training)
    again = mixture_basin([0.0, 1.0], [0, 1, 2], dim=3, **settings)
    np.testing.assert_array_equal(again["intended_error"], basin["intended_error"])


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: function_class("marked_flip_mixture", 3, fraction=1.5), "fraction must lie in"),
        (lambda: mixture_basin([-0.1], [0], progress=False), "mixture fraction must lie in"),
        (lambda: mixture_basin([0.5], [0, 0], progress=False), "seeds must not repeat"),
        (lambda: mixture_basin([], [0], progress=False), "at least one mixture fraction"),
    ],
)
def test_bad_mixtures_are_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize(
    "order, phases",
    [
        ("mixed", [(0.25, 40, None)]),
        ("misaligned_first", [(1.0, 10, None), (0.0, 30, "model")]),
        ("misaligned_last", [(0.0, 30, None), (1.0, 10, "model")]),
    ],
)
def test_mixture_orders_train_the_same_share_of_misaligned_steps(order, phases, monkeypatch):
    calls = []
    real = mixture_module.train_in_context

    def recording(function_class, **options):
        given = options.get("start")
        calls.append(
            (function_class.fraction, options["steps"], None if given is None else "model")
        )
        return real(function_class, **options)

    monkeypatch.setattr(mixture_module, "train_in_context", recording)
    basin = mixture_basin([0.25], [0], dim=3, order=order, steps=40, progress=False, **TINY)
    assert calls == phases
    assert basin.attrs["order"] == order
    with pytest.raises(ValueError, match="unknown order 'random'"):
        mixture_basin([0.25], [0], order="random", progress=False)
