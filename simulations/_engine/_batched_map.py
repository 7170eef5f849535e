"""`jax.lax.map` in vectorised batches, for outputs of any size, zero included."""

from __future__ import annotations

import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
from jaxtyping import Array, PyTree


def map_in_batches(
    function: Callable[[PyTree[Array]], PyTree[Array]], xs: PyTree[Array], batch_size: int
) -> PyTree[Array]:
    """Apply `function` to each row of `xs`, vectorised `batch_size` rows at a time.

    `jax.lax.map` with `batch_size` reshapes every output to `(batches, batch_size,
    ...)`, which divides by the output's size and fails for outputs of size zero
    (the predicates of a model that has none, say). Such outputs are taken out of the
    mapped function and filled in as empty arrays of the right shape.

    **Arguments:**

    - `function`: maps one row (a PyTree of arrays without the leading axis).
    - `xs`: a PyTree of arrays with a common leading axis.
    - `batch_size`: rows evaluated together by `vmap`.

    **Returns:**

    The outputs stacked along a new leading axis, as `jax.lax.map` would.
    """
    rows = jax.tree.leaves(xs)[0].shape[0]
    first = jax.tree.map(lambda x: x[0], xs)
    shapes, structure = jax.tree.flatten(jax.eval_shape(function, first))
    empty = [math.prod(s.shape) == 0 for s in shapes]
    if not any(empty):
        return jax.lax.map(function, xs, batch_size=batch_size)

    def filled(x):
        outputs = jax.tree.leaves(function(x))
        return [out for out, skip in zip(outputs, empty) if not skip]

    mapped = iter(jax.lax.map(filled, xs, batch_size=batch_size) if not all(empty) else [])
    outputs = [
        jnp.zeros((rows, *s.shape), s.dtype) if skip else next(mapped)
        for s, skip in zip(shapes, empty)
    ]
    return jax.tree.unflatten(structure, outputs)
