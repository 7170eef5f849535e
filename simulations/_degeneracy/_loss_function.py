"""The loss an SGLD chain samples: a model's population loss, or per-sample losses on data."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree
from jaxtyping import Array, Float, PyTree

from ...theory import Model
from ...theory._checks import check_count
from .._engine._compile import CompiledModel, cached_compile


class LossFunction(eqx.Module):
    """A loss of a flat parameter vector, evaluated on a minibatch of sample indices:
    a model's population loss (the indices are ignored), or the mean of per-sample
    losses on data.

    **Fields:**

    - `start`: $w^*$ as a flat vector.
    - `n`: the number of samples (nominal, for a population loss).
    - `name`: what the loss is, for results.
    """

    start: Float[Array, " d"]
    n: int = eqx.field(static=True)
    name: str = eqx.field(static=True)
    compiled: CompiledModel | None = None
    p: Float[Array, " m"] | None = None
    # Not static: a loss that is itself a pytree (a module's method) keeps its arrays
    # traced; filter_jit holds a plain function static all the same.
    per_sample: Callable | None = None
    unravel: Callable | None = eqx.field(static=True, default=None)
    data: PyTree | None = None

    def __check_init__(self):
        assert self.start.ndim == 1 and self.n >= 1
        assert (self.compiled is None) != (self.per_sample is None)

    @property
    def population(self) -> bool:
        """Whether the loss is exact: no data, no minibatch noise."""
        return self.compiled is not None

    def sample_losses(self, w: Float[Array, " d"], indices: Array) -> Float[Array, " batch"]:
        """The per-sample losses at `w` of the samples `indices` (data losses only)."""
        batch = jax.tree_util.tree_map(lambda x: x[indices], self.data)
        return jnp.reshape(self.per_sample(self.unravel(w), batch), (-1,))

    def batch_loss(self, w: Float[Array, " d"], indices: Array) -> Float[Array, ""]:
        """The mean loss at `w` over the samples `indices`."""
        if self.compiled is not None:
            return self.compiled.observables(w, self.p)[
                self.compiled.observable_names.index("loss")
            ]
        return jnp.mean(self.sample_losses(w, indices))

    def curvatures(self, points: Float[Array, "k d"]) -> tuple[Array, Array]:
        """The largest Hessian eigenvalue in modulus and the smallest (signed) of the
        full loss at each of `points`, by power iteration on Hessian-vector products
        (the smallest on $|h|_{max} I - H$)."""
        return _extreme_curvatures(self, points)


# Power iterations: enough for a few digits of the extreme eigenvalues of small models.
_POWER_ITERATIONS = 100


@eqx.filter_jit
def _extreme_curvatures(loss: LossFunction, points: Float[Array, "k d"]) -> tuple[Array, Array]:
    indices = jnp.arange(loss.n)
    gradient = jax.grad(loss.batch_loss)
    start = jax.random.normal(jax.random.key(0), points.shape[1:], points.dtype)
    start = start / jnp.linalg.norm(start)

    def extremes(w):
        def product(v):
            return jax.jvp(lambda x: gradient(x, indices), (w,), (v,))[1]

        def largest(shift):
            def iterate(_, v):
                hv = shift * v - product(v)
                size = jnp.linalg.norm(hv)
                return jnp.where(size > 0, hv / jnp.where(size > 0, size, 1.0), v)

            v = jax.lax.fori_loop(0, _POWER_ITERATIONS, iterate, start)
            return v @ (shift * v - product(v))

        top = jnp.abs(largest(0.0))
        return top, top - largest(top)

    return jax.vmap(extremes)(points)


def _model_loss(
    model: Model | CompiledModel,
    attractor: object,
    n: int | None,
    params: Mapping[str, float] | None,
) -> LossFunction:
    compiled = model if isinstance(model, CompiledModel) else cached_compile(model)
    if "loss" not in compiled.observable_names or compiled.model.loss is None:
        raise ValueError(
            f"model {compiled.name!r} has no loss; the learning coefficient is of a "
            "gradient flow's loss (Model.gradient_flow)"
        )
    if n is None:
        raise ValueError(
            "a model's loss is a population loss: give the sample size n it stands for"
        )
    n = check_count(n, "n", minimum=2)
    p = compiled.param_vector(params)
    start = jnp.asarray(np.asarray(getattr(attractor, "numeric", attractor), float), jnp.float64)
    if start.shape != (compiled.model.dim,):
        raise ValueError(
            f"the attractor has shape {start.shape}, but {compiled.name!r} has "
            f"{compiled.model.dim} states"
        )
    return LossFunction(start, n, compiled.name, compiled=compiled, p=p)


def _data_loss(
    loss: Callable[[PyTree, PyTree], Array], attractor: PyTree, data: PyTree
) -> LossFunction:
    leaves = jax.tree_util.tree_leaves(data)
    if not leaves:
        raise ValueError("data has no arrays")
    sizes = {np.shape(leaf)[0] if np.ndim(leaf) else None for leaf in leaves}
    if len(sizes) != 1 or None in sizes:
        raise ValueError(
            f"every array in data must have the samples along its first axis, one length; "
            f"got lengths {sorted(str(s) for s in sizes)}"
        )
    n = check_count(sizes.pop(), "the number of samples", minimum=2)
    data = jax.tree_util.tree_map(jnp.asarray, data)
    start, unravel = ravel_pytree(jax.tree_util.tree_map(jnp.asarray, attractor))
    start = start.astype(jnp.float64)
    name = getattr(loss, "__name__", type(loss).__name__)
    function = LossFunction(start, n, name, per_sample=loss, unravel=unravel, data=data)
    batch = jax.tree_util.tree_map(lambda x: x[:2], data)
    probe = jax.eval_shape(loss, unravel(start), batch)
    if getattr(probe, "shape", None) != (2,):
        raise ValueError(
            f"loss(w, batch) must return one loss per sample, shape (batch,); for a batch "
            f"of 2 it returned shape {getattr(probe, 'shape', type(probe).__name__)}"
        )
    return function


def loss_function(
    loss: object,
    attractor: object,
    data: PyTree | None,
    n: int | None,
    params: Mapping[str, float] | None,
) -> LossFunction:
    """The loss to sample, from a model or from a per-sample loss and its data.

    **Raises:**

    - `TypeError`: `loss` is neither a model nor callable.
    - `ValueError`: data are given with a model or missing with a callable, the
      shapes disagree, or a model's loss lacks `n`.
    """
    if isinstance(loss, Model | CompiledModel):
        if data is not None:
            raise ValueError("a model's loss is a population loss and takes no data")
        return _model_loss(loss, attractor, n, params)
    if not callable(loss):
        raise TypeError(
            f"loss must be a gradient-flow Model or a function loss(w, batch), got "
            f"{type(loss).__name__}"
        )
    if data is None:
        raise ValueError("a loss function needs its data: data=(inputs, outputs, ...)")
    if n is not None:
        raise ValueError("n is the number of samples in data; give one or the other")
    if params is not None:
        raise ValueError("params are a model's; a loss function takes none")
    return _data_loss(loss, attractor, data)
