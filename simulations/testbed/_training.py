r"""Training the in-context transformer on prompts drawn afresh at every step, with
Garg et al.'s curriculum as an option, checkpoints and a record of the run."""

from __future__ import annotations

import dataclasses
import functools
import json
import pathlib

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import xarray as xr
from jaxtyping import Array, Float, PRNGKeyArray

from ...theory._checks import check_count, check_positive, check_seed
from ...theory._resources import require_training_memory
from .._engine._progress import Progress
from .._engine._provenance import versions
from ._baselines import baseline_predictions, error_curves
from ._checkpoint import read_checkpoint, write_checkpoint
from ._function_classes import FunctionClass
from ._prompts import sample_prompts
from ._transformer import InContextTransformer, parameter_count, predict_in_context

CHECKPOINT = "checkpoint.eqx"


@dataclasses.dataclass(frozen=True)
class Curriculum:
    r"""Garg et al.'s curriculum: train first on the leading `start_dim` coordinates
    (the others zeroed) and `start_points` pairs, and every `every` steps add one
    coordinate and two pairs, up to the full $d$ and prompt length.

    **Arguments:**

    - `start_dim`, `start_points`: the first stage, at least 1.
    - `every`: steps per stage, at least 1.

    **Raises:**

    - `ValueError`: a value below 1.
    """

    start_dim: int = 2
    start_points: int = 5
    every: int = 500

    def __post_init__(self):
        for name in ("start_dim", "start_points", "every"):
            check_count(getattr(self, name), name)

    def stage(self, step: Array, dim: int, points: int) -> tuple[Array, Array]:
        """The active dimensions and pairs at `step`."""
        stage = step // self.every
        return (
            jnp.minimum(self.start_dim + stage, dim),
            jnp.minimum(self.start_points + 2 * stage, points),
        )


def _training_prompts(
    function_class: FunctionClass,
    key: PRNGKeyArray,
    batch: int,
    points: int,
    active_dim: Array,
) -> tuple[Array, Array]:
    prompts = sample_prompts(function_class, key, batch, points)
    xs = jnp.where(jnp.arange(function_class.dim) < active_dim, prompts.xs, 0.0)
    return xs, function_class.evaluate(prompts.tasks, xs)


def _loss(model, xs, ys, active_points, scale):
    predicted = jax.vmap(model)(xs, ys)
    counted = jnp.arange(ys.shape[1]) < active_points
    return jnp.sum(jnp.where(counted, (predicted - ys) ** 2, 0.0)) / (
        ys.shape[0] * active_points * scale
    )


@eqx.filter_jit
def training_update(
    model: InContextTransformer,
    state: optax.OptState,
    optimiser: optax.GradientTransformation,
    xs: Float[Array, "batch points dim"],
    ys: Float[Array, "batch points"],
    active_points: Array | int,
    scale: float,
) -> tuple[InContextTransformer, optax.OptState, Float[Array, ""]]:
    """One optimiser step on one batch of prompts; returns the loss before the step.

    The loss is the squared error of the predictions at the first `active_points`
    positions, divided by `scale` (the class's output variance).
    """
    loss, grads = eqx.filter_value_and_grad(_loss)(model, xs, ys, active_points, scale)
    updates, state = optimiser.update(grads, state, eqx.filter(model, eqx.is_inexact_array))
    return eqx.apply_updates(model, updates), state, loss


@functools.cache
def _adam(learning_rate: float, steps: int) -> optax.GradientTransformation:
    """Adam with a linear warm-up over 5% of the steps and a cosine decay to 1/20.

    One object per setting, because `_step` is compiled once per optimiser it is
    given: a new one per run would compile every seed of an experiment again.
    """
    warmup = max(1, steps // 20)
    schedule = (
        optax.constant_schedule(learning_rate)
        if steps <= warmup  # no room to warm up and decay
        else optax.warmup_cosine_decay_schedule(
            0.0, learning_rate, warmup, steps, end_value=learning_rate / 20
        )
    )
    return optax.adam(schedule)


@eqx.filter_jit
def _step(model, state, optimiser, function_class, key, step, batch, points, curriculum):
    dim = function_class.dim
    active_dim, active_points = (
        (dim, points) if curriculum is None else curriculum.stage(step, dim, points)
    )
    xs, ys = _training_prompts(function_class, key, batch, points, active_dim)
    return training_update(
        model, state, optimiser, xs, ys, active_points, function_class.output_variance
    )


def train_in_context(
    function_class: FunctionClass,
    points: int | None = None,
    steps: int = 5000,
    *,
    batch: int = 64,
    learning_rate: float = 2e-3,
    width: int = 64,
    depth: int = 3,
    heads: int = 4,
    curriculum: Curriculum | None = None,
    seed: int = 0,
    out: str | pathlib.Path | None = None,
    checkpoint_every: int = 1000,
    log_every: int = 50,
    eval_batch: int = 512,
    progress: bool = True,
    start: InContextTransformer | None = None,
    overwrite: bool = False,
) -> tuple[InContextTransformer, xr.Dataset]:
    r"""Train an [`InContextTransformer`][] on fresh prompts of a function class.

    Each step draws `batch` new prompts, so there is no training set to overfit; the
    loss is the mean squared error over every position, divided by the class's output
    variance. Adam, its rate warmed up linearly over the first 5% of the steps and then
    decayed along a cosine to 1/20 of its peak (a one-step run takes the peak rate).
    With `out`, a checkpoint (model, optimiser, step and the loss so far, in one file
    with a checksum) is written atomically every `checkpoint_every` steps and a rerun
    with the same settings resumes from it; the key of each step is folded from the
    seed and the step, so a resumed run is the run that was not interrupted. A
    damaged checkpoint is reported with a warning and training starts again.

    At the end the model is evaluated on `eval_batch` held-out prompts of the full
    size against the least-squares, averaging, 3-nearest-neighbour and zero
    baselines.

    **Arguments:**

    - `function_class`: the [`FunctionClass`][] of the training prompts.
    - `points`: pairs per prompt; $2d + 1$ by default.
    - `steps`: optimisation steps.
    - `batch`, `learning_rate`: of Adam.
    - `width`, `depth`, `heads`: of the transformer.
    - `curriculum`: a [`Curriculum`][], or `None` to train at full size throughout.
    - `seed`: of the initialisation and of every prompt.
    - `out`: a folder for checkpoints, or `None`.
    - `checkpoint_every`, `log_every`: in steps.
    - `eval_batch`: held-out prompts for the final error curves.
    - `progress`: show a progress bar.
    - `start`: a model to go on training (a phase of a curriculum of classes);
      its own `width`, `depth` and `heads` then stand, and the seed sets only the
      prompts.
    - `overwrite`: replace a checkpoint in `out` that other settings wrote, instead
      of refusing it.

    **Returns:**

    The trained model, and an `xarray.Dataset` with `loss` over `step`, and `error`,
    `error_sem` over `(learner, shown)` (see
    [`basinlab.simulations.testbed.error_curves`][]); the attrs hold every setting,
    the parameter count and the package versions.

    **Raises:**

    - `ValueError`: a size or count below 1, a learning rate that is not positive,
      `checkpoint_every` not a multiple of `log_every`, a `start` of another $d$ or
      prompt length, a checkpoint in `out` written with other settings (unless
      `overwrite`), or a run too large for the memory available.
    - `TypeError`: a seed that is not an integer.
    """
    points = 2 * function_class.dim + 1 if points is None else points
    for value, name in (
        (points, "points"),
        (steps, "steps"),
        (batch, "batch"),
        (checkpoint_every, "checkpoint_every"),
        (log_every, "log_every"),
        (eval_batch, "eval_batch"),
    ):
        check_count(value, name)
    check_positive(learning_rate, "learning_rate")
    seed = check_seed(seed)
    if start is None:
        require_training_memory(function_class.dim, points, width, depth, heads, batch, eval_batch)
    if checkpoint_every % log_every:
        raise ValueError(
            f"checkpoint_every = {checkpoint_every} must be a multiple of log_every = {log_every}"
        )
    settings = {
        "function_class": function_class.name,
        "function_class_repr": repr(function_class),
        "dim": function_class.dim,
        "points": points,
        "steps": steps,
        "batch": batch,
        "learning_rate": learning_rate,
        "width": width,
        "depth": depth,
        "heads": heads,
        "curriculum": None if curriculum is None else dataclasses.asdict(curriculum),
        "seed": seed,
        "log_every": log_every,
        "start": None if start is None else "given",
    }
    if start is not None and (start.dim, start.max_points) != (function_class.dim, points):
        raise ValueError(
            f"start is a model of d = {start.dim} and {start.max_points} points, "
            f"not d = {function_class.dim} and {points}"
        )
    init_key, data_key, held_out_key = jax.random.split(jax.random.PRNGKey(seed), 3)
    model = (
        InContextTransformer(function_class.dim, points, width, depth, heads, key=init_key)
        if start is None
        else start
    )
    optimiser = _adam(learning_rate, steps)
    state = optimiser.init(eqx.filter(model, eqx.is_inexact_array))
    done, losses = 0, []
    folder = None if out is None else pathlib.Path(out)
    saved = None if folder is None else read_checkpoint(folder / CHECKPOINT, (model, state))
    if saved is not None:
        header, tree = saved
        if header.get("settings") == json.loads(json.dumps(settings)):
            (model, state), done, losses = tree, header["step"], header["losses"]
        elif not overwrite:
            raise ValueError(
                f"{folder / CHECKPOINT} was written by a run with other settings; "
                "use another folder, the same settings, or overwrite"
            )

    def save(step: int) -> None:
        header = {"settings": settings, "step": step, "losses": losses}
        write_checkpoint(folder / CHECKPOINT, header, (model, state))

    with Progress(steps, "training", progress, unit="step") as bar:
        bar.advance(done)
        running = []
        for step in range(done, steps):
            key = jax.random.fold_in(data_key, step)
            model, state, loss = _step(
                model,
                state,
                optimiser,
                function_class,
                key,
                jnp.asarray(step),
                batch,
                points,
                curriculum,
            )
            running.append(loss)
            if (step + 1) % log_every == 0:
                losses.append(float(jnp.mean(jnp.stack(running))))
                running = []
            if folder is not None and (step + 1) % checkpoint_every == 0:
                save(step + 1)
            bar.advance(1)
        if running:  # the steps after the last full logging interval
            losses.append(float(jnp.mean(jnp.stack(running))))
    if folder is not None and done < steps:
        save(steps)

    held_out = sample_prompts(function_class, held_out_key, eval_batch, points)
    predictions = {"transformer": np.asarray(predict_in_context(model, held_out.xs, held_out.ys))}
    for method in ("least_squares", "averaging", "nearest_neighbours", "zero"):
        predictions[method] = baseline_predictions(held_out, method)
    curves = error_curves(held_out, predictions)
    logged = np.minimum(np.arange(1, len(losses) + 1) * log_every, steps)
    record = curves.assign(loss=("step", np.array(losses)), step=logged)
    record.attrs.update(
        {
            "experiment": "in_context",
            **settings,
            "curriculum": json.dumps(settings["curriculum"]),
            "start": json.dumps(settings["start"]),
            "parameters": parameter_count(model),
            "versions": json.dumps(versions()),
        }
    )
    return model, record
