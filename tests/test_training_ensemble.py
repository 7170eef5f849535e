"""Many training runs at once: each run a function of its key alone, the same as a
loop of single runs, resumable from its chunks, and refusing bad input."""

import textwrap

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _command_line import product_compiler, run_python

from basinlab.simulations._basin._wilson import wilson_interval
from basinlab.simulations._engine._checkpoint import ChunkStore
from basinlab.simulations.training._ensemble import ensemble_fractions, run_keys, train_ensemble
from basinlab.simulations.training._reward_perceptron_task import RewardPerceptronTask

TASK = RewardPerceptronTask(dim=50, episode_length=3, proxy_overlap=0.3, flip=0.2, penalty=0.5)
SIZE = dict(steps=200, log_every=50, seed=3, progress=False)


def test_an_ensemble_is_a_loop_of_single_runs():
    record = train_ensemble(TASK, n=5, chunk_size=4, batch_size=2, **SIZE)
    step = eqx.filter_jit(lambda w, key, index: TASK.step(w, key, index))
    for run, key in enumerate(run_keys(3, np.arange(5))):
        init_key, data_key = jax.random.split(key)
        w = TASK.init(init_key)
        for index in range(200):
            w = step(w, jax.random.fold_in(data_key, index), jnp.asarray(index))
        observed = TASK.observe(w)
        for name in ("R", "S", "Q", "overlap"):
            assert record[name].values[run, -1] == pytest.approx(float(observed[name]), 1e-12)
        assert record["holds"].sel(outcome="aligned").values[run] == bool(
            observed["overlap"] > TASK.aligned_cosine
        )


# Bitwise equality across chunk sizes is a property of XLA's code generation, so it is
# checked with the compiler the product runs with, not the suite's quicker one.
_CHUNKS = textwrap.dedent(
    """
    import numpy as np

    from basinlab.simulations.training._ensemble import train_ensemble
    from basinlab.simulations.training._reward_perceptron_task import RewardPerceptronTask

    task = RewardPerceptronTask(dim=50, episode_length=3, proxy_overlap=0.3, flip=0.2)
    size = dict(n=21, steps=100, log_every=50, seed=1, batch_size=4, progress=False)
    one = train_ensemble(task, chunk_size=32, **size)
    many = train_ensemble(task, chunk_size=8, **size)
    for name in ("R", "S", "Q", "overlap", "holds"):
        np.testing.assert_array_equal(one[name].values, many[name].values)
    """
)


def test_runs_do_not_depend_on_the_chunk_they_are_trained_in():
    done = run_python(_CHUNKS, env=product_compiler())
    assert done.returncode == 0, done.stderr[-3000:]


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
    count = int(record["holds"].sel(outcome="aligned").sum())
    assert int(fractions["count"].sel(outcome="aligned")) == count
    low, high = wilson_interval(np.array([count]), 12, 0.9)
    assert float(fractions["fraction_low"].sel(outcome="aligned")) == pytest.approx(low[0])
    assert float(fractions["fraction_high"].sel(outcome="aligned")) == pytest.approx(high[0])


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
