"""One name per concept across the public API, and the old spellings kept for one release."""

import importlib
import inspect

import jax
import numpy as np
import pytest

import basinlab as bl
from basinlab.simulations import gaussian_refit, testbed, training
from basinlab.simulations._engine._random_key import random_key
from basinlab.theory._legacy_arguments import legacy_arguments

PUBLIC = (
    "basinlab.theory",
    "basinlab.theory.models",
    "basinlab.simulations",
    "basinlab.simulations.training",
    "basinlab.simulations.testbed",
    "basinlab.proofs",
)
# The spellings the vocabulary replaced (README, "One name per concept").
OLD_NAMES = {
    "t_max",
    "horizon",
    "time_max",
    "alpha_max",
    "runs",
    "rays",
    "balls",
    "generations",
    "minimum",
    "n_iter",
    "iterations",
    "D",
    "N",
    "key",
}


def _public_functions():
    for module_name in PUBLIC:
        module = importlib.import_module(module_name)
        for name in sorted(dir(module)):
            value = getattr(module, name)
            if not name.startswith("_") and inspect.isfunction(value):
                yield f"{module_name}.{name}", value


FUNCTIONS = dict(_public_functions())


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_public_functions_use_the_vocabulary(name):
    parameters = inspect.signature(FUNCTIONS[name]).parameters
    assert not OLD_NAMES & set(parameters), name
    if "params" in parameters:
        assert parameters["params"].kind is inspect.Parameter.KEYWORD_ONLY, name
    if "settings" in parameters:
        assert parameters["settings"].kind is inspect.Parameter.KEYWORD_ONLY, name


def test_the_scan_sees_the_api():
    # A guard for the guard: the parametrisation above must cover the main entry points.
    assert {"basinlab.simulations.basin_map", "basinlab.theory.fixed_points"} <= set(FUNCTIONS)
    assert "basinlab.simulations.training.teacher_student_run" in FUNCTIONS


def _spy():
    calls = []

    @legacy_arguments(positional=("n", "seed"), renamed={"runs": "n", "t_max": "t1"})
    def spy(model, *, n=1, seed=0, t1=1.0):
        calls.append((model, n, seed, t1))
        return calls[-1]

    return spy


def test_old_positional_arguments_map_onto_keywords_with_a_warning():
    spy = _spy()
    with pytest.warns(bl.BasinlabDeprecationWarning, match=r"pass n, seed by keyword"):
        assert spy("m", 5, 7) == ("m", 5, 7, 1.0)


def test_old_keyword_names_map_onto_new_ones_with_a_warning():
    spy = _spy()
    with pytest.warns(bl.BasinlabDeprecationWarning) as caught:
        assert spy("m", t_max=3.0, runs=4) == ("m", 4, 0, 3.0)
    messages = {str(w.message).split(";")[0] for w in caught}
    assert messages == {"spy(): runs= is now called n=", "spy(): t_max= is now called t1="}


def test_new_spellings_do_not_warn():
    # pyproject's filterwarnings turns the deprecation warning into an error here.
    assert _spy()("m", n=2, t1=5.0) == ("m", 2, 0, 5.0)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda spy: spy("m", 1, 2, 3), "takes at most 3 positional arguments"),
        (lambda spy: spy("m", 1, n=2), "multiple values for 'n'"),
        (lambda spy: spy("m", runs=1, n=2), "both runs= and its new name n="),
    ],
)
def test_ambiguous_old_calls_are_refused(call, message):
    with pytest.raises(TypeError, match=message):
        call(_spy())


def test_a_decorator_that_names_a_positional_parameter_is_refused():
    with pytest.raises(AssertionError):

        @legacy_arguments(positional=("n",))
        def positional(model, n=1):
            return n


def test_fixed_points_with_params_by_position_warns_and_agrees():
    model = bl.models.alignment_double_well()
    params = {"bias": 0.1}
    new = bl.fixed_points(model, params=params)
    with pytest.warns(bl.BasinlabDeprecationWarning, match="params"):
        old = bl.fixed_points(model, params)
    assert [p.location for p in old] == [p.location for p in new]


def test_eyring_kramers_minimum_is_now_attractor():
    model = bl.models.alignment_double_well()
    new = bl.eyring_kramers(model, (1, 2), (0, 1), 0.1)
    with pytest.warns(bl.BasinlabDeprecationWarning, match="minimum= is now called attractor="):
        old = bl.eyring_kramers(model, minimum=(1, 2), saddle=(0, 1), temperature=0.1)
    assert old.rate == new.rate


def test_gaussian_refit_old_generations_and_runs_give_the_same_paths():
    new = gaussian_refit(10, 0, steps=3, n=50, seed=1)
    with pytest.warns(bl.BasinlabDeprecationWarning):
        by_position = gaussian_refit(10, 0, 3, 50, 1)
    with pytest.warns(bl.BasinlabDeprecationWarning, match="(generations|runs)= is now called"):
        by_old_name = gaussian_refit(10, 0, generations=3, runs=50, seed=1)
    for old in (by_position, by_old_name):
        np.testing.assert_array_equal(old["variance"].values, new["variance"].values)


def test_old_training_names_reach_the_new_checks():
    with pytest.warns(bl.BasinlabDeprecationWarning, match="D= is now called dim="):
        with pytest.raises(ValueError, match="dim must be"):
            training.linear_attention_run(D=0, progress=False)
    with pytest.warns(bl.BasinlabDeprecationWarning, match="alpha_max= is now called t1="):
        with pytest.raises(ValueError, match="t1 must be"):
            training.teacher_student_run(alpha_max=-1.0, progress=False)


def test_a_seed_and_its_key_draw_the_same_prompts():
    linear = testbed.function_class("linear", 3)
    by_seed = testbed.sample_prompts(linear, 4, 2, 5)
    by_key = testbed.sample_prompts(linear, jax.random.PRNGKey(4), 2, 5)
    by_typed_key = testbed.sample_prompts(linear, jax.random.key(4), 2, 5)
    for other in (by_key, by_typed_key):
        np.testing.assert_array_equal(by_seed.xs, other.xs)
        np.testing.assert_array_equal(by_seed.ys, other.ys)
    with pytest.warns(bl.BasinlabDeprecationWarning, match="key= is now called seed="):
        old = testbed.sample_prompts(linear, key=jax.random.PRNGKey(4), batch=2, points=5)
    np.testing.assert_array_equal(by_seed.xs, old.xs)


@pytest.mark.parametrize("bad", [1.5, -1, "0", np.zeros(3, np.uint32), np.zeros(2, np.float32)])
def test_random_key_refuses_what_is_neither_a_seed_nor_a_key(bad):
    with pytest.raises((TypeError, ValueError)):
        random_key(jax.numpy.asarray(bad) if isinstance(bad, np.ndarray) else bad)
