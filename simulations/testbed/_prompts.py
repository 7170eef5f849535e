"""Prompts of the in-context testbed: seeded batches of (x, f(x)) pairs."""

from __future__ import annotations

import equinox as eqx
import jax
from jaxtyping import Array, Float, PRNGKeyArray

from ...theory._checks import check_count
from ...theory._legacy_arguments import legacy_arguments
from .._engine._random_key import random_key
from ._function_classes import (
    DecisionTree,
    FunctionClass,
    LinearRegression,
    MarkedFlipMixture,
    ReluNetwork,
    SparseLinear,
)

CLASSES = {
    "linear": LinearRegression,
    "sparse_linear": SparseLinear,
    "relu_network": ReluNetwork,
    "decision_tree": DecisionTree,
    "marked_flip_mixture": MarkedFlipMixture,
}


def function_class(name: str, dim: int, **options) -> FunctionClass:
    """A function class by name.

    **Arguments:**

    - `name`: one of `linear`, `sparse_linear`, `relu_network`, `decision_tree`,
      `marked_flip_mixture`.
    - `dim`: the input dimension $d$.
    - `**options`: the class's own settings (`nonzeros`, `hidden`, `depth`,
      `fraction`, `threshold`).

    **Returns:**

    The [`FunctionClass`][].

    **Raises:**

    - `ValueError`: an unknown name, or a setting the class refuses.
    - `TypeError`: an option the class does not have.
    """
    if name not in CLASSES:
        raise ValueError(f"unknown function class {name!r}; known: {', '.join(CLASSES)}")
    return CLASSES[name](dim, **options)


class Prompts(eqx.Module):
    """A batch of prompts: inputs, outputs, and the functions that made them.

    **Arguments:**

    - `xs`: inputs, `(batch, points, dim)`.
    - `ys`: outputs, `(batch, points)`.
    - `tasks`: each prompt's function parameters, stacked on the first axis.
    - `function_class`: the class they were drawn from.
    """

    xs: Float[Array, "batch points dim"]
    ys: Float[Array, "batch points"]
    tasks: Array
    function_class: FunctionClass = eqx.field(static=True)

    def __check_init__(self):
        assert self.xs.ndim == 3 and self.ys.shape == self.xs.shape[:2]
        assert self.xs.shape[2] == self.function_class.dim

    @property
    def points(self) -> int:
        return self.xs.shape[1]


@legacy_arguments(renamed={"key": "seed"})
def sample_prompts(
    function_class: FunctionClass, seed: int | PRNGKeyArray, batch: int, points: int
) -> Prompts:
    r"""Draw `batch` prompts of `points` pairs: a function per prompt and inputs
    $x \sim \mathcal N(0, I_d)$.

    **Arguments:**

    - `function_class`: the [`FunctionClass`][].
    - `seed`: an int or a JAX PRNG key; the same seed gives the same prompts.
    - `batch`, `points`: at least 1.

    **Returns:**

    [`Prompts`][].

    **Raises:**

    - `ValueError`: `batch` or `points` below 1.
    """
    check_count(batch, "batch")
    check_count(points, "points")
    task_key, input_key = jax.random.split(random_key(seed))
    tasks = function_class.sample_tasks(task_key, batch)
    xs = jax.random.normal(input_key, (batch, points, function_class.dim))
    return Prompts(xs, function_class.evaluate(tasks, xs), tasks, function_class)
