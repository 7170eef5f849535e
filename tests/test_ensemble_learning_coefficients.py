"""The learning coefficient at the end of real training runs: runs replayed to their
weights, the regular minimum of a specialised committee machine against d/2, and the
plateau refused as no minimum."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

import basinlab as bl
from basinlab.simulations import training

DIM = 8
SAMPLES = 100_000


@pytest.fixture(scope="module")
def trained():
    # Four runs from asymmetric starts specialise and converge within alpha = 400; two
    # from exactly symmetric starts (w_1 = w_2) cannot break the symmetry and stay on
    # the plateau.
    task = training.TeacherStudentTask(dim=DIM)
    rng = np.random.default_rng(0)
    shared = 0.1 * rng.normal(size=(6, 1, DIM))
    asymmetry = 0.1 * rng.normal(size=(6, 2, DIM)) * np.array([1, 1, 1, 1, 0, 0])[:, None, None]
    starts = shared + asymmetry
    record = training.train_ensemble(
        task, n=6, steps=400 * DIM, log_every=40 * DIM, starts=starts, progress=False
    )
    assert list(record.label.values) == [0, 0, 0, 0, 1, 1]
    return task, record, starts


def test_replayed_runs_end_where_the_record_says(trained):
    task, record, starts = trained
    states = training.final_states(task, record, [1, 4], starts=starts)
    observed = jax.vmap(task.observe)(states)
    for name in ("eps_g", "specialisation"):
        np.testing.assert_allclose(
            observed[name], record[name].values[[1, 4], -1], rtol=1e-6, atol=1e-12
        )
    with pytest.raises(ValueError, match="do not reproduce the record"):
        training.final_states(task, record, [1])  # trained from starts not given
    with pytest.raises(ValueError, match="run indices"):
        training.final_states(task, record, [6], starts=starts)
    with pytest.raises(ValueError, match="other settings"):
        training.final_states(training.TeacherStudentTask(dim=DIM, eta=0.5), record, [1])


def test_a_converged_network_has_half_its_parameters_and_the_plateau_is_refused(trained, tmp_path):
    task, record, starts = trained
    settings = bl.SGLDSettings(
        step_size=2e-4,
        gamma=1.0,
        batch_size=200,
        chains=4,
        steps=4000,
        burn_in=2000,
        gamma_factors=(1.0,),
    )
    result = training.ensemble_learning_coefficients(
        task,
        record,
        per_end_state=2,
        n=SAMPLES,
        settings=settings,
        starts=starts,
        progress=False,
    )
    assert list(result.run.values) == [0, 1, 4, 5]
    np.testing.assert_allclose(result.fraction.values, [4 / 6, 2 / 6])
    # The specialised student is the teacher: L_n's Hessian there is positive definite,
    # so the minimum is regular and its learning coefficient is d/2.
    state = training.final_states(task, record, [0], starts=starts)[0]
    flat, unravel = ravel_pytree(state)
    data = task.draw_samples(jax.random.PRNGKey(7), SAMPLES)
    hessian = jax.hessian(lambda w: jnp.mean(task.sample_losses(unravel(w), data)))(flat)
    assert np.linalg.eigvalsh(np.asarray(hessian)).min() > 0
    exact = flat.size / 2
    specialised = result.sel(run=[0, 1])
    assert np.all(specialised.trusted.values == 1), specialised.diagnosis.values
    for estimate, error in zip(specialised.llc.values, specialised.llc_std_error.values):
        assert abs(estimate - exact) < 4 * error, (estimate, error, exact)
    assert int(result.measured.sel(outcome=0)) == 2
    # The plateau is a saddle of the loss, which training still descends: no minimum.
    plateau = result.sel(run=[4, 5])
    assert np.all(np.isnan(plateau.llc.values))
    for text in plateau.diagnosis.values:
        assert text.startswith("refused: the point is not near a minimum"), text
    assert int(result.refused.sel(outcome=1)) == 2
    assert np.isnan(float(result.llc_mean.sel(outcome=1)))
    loaded = bl.load(bl.save(result, tmp_path / "llc.nc"))
    np.testing.assert_array_equal(loaded.llc.values, result.llc.values)
    assert list(loaded.diagnosis.values) == list(result.diagnosis.values)


def test_a_task_without_a_loss_has_no_learning_coefficient():
    task = training.RewardPerceptronTask(dim=20)
    assert not task.has_loss and training.TeacherStudentTask(dim=DIM).has_loss
    record = training.train_ensemble(task, n=2, steps=4, log_every=2, progress=False)
    with pytest.raises(NotImplementedError, match="no per-sample loss"):
        training.ensemble_learning_coefficients(task, record, progress=False)
