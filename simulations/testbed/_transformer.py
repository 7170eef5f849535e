r"""A small decoder-only transformer that reads a prompt and predicts each next output
in context, in the manner of Garg et al. (2022), written with equinox."""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from ...theory._checks import check_count


class _Block(eqx.Module):
    """Pre-norm: causal self-attention, then a GELU MLP, each added to the stream."""

    attention_norm: eqx.nn.LayerNorm
    attention: eqx.nn.MultiheadAttention
    mlp_norm: eqx.nn.LayerNorm
    mlp: eqx.nn.MLP

    def __init__(self, width: int, heads: int, key: PRNGKeyArray):
        attention_key, mlp_key = jax.random.split(key)
        self.attention_norm = eqx.nn.LayerNorm(width)
        self.attention = eqx.nn.MultiheadAttention(heads, width, key=attention_key)
        self.mlp_norm = eqx.nn.LayerNorm(width)
        self.mlp = eqx.nn.MLP(width, width, 4 * width, 1, activation=jax.nn.gelu, key=mlp_key)

    def __call__(self, stream: Float[Array, "tokens width"]) -> Float[Array, "tokens width"]:
        tokens = stream.shape[0]
        causal = jnp.tril(jnp.ones((tokens, tokens), bool))
        normed = jax.vmap(self.attention_norm)(stream)
        stream = stream + self.attention(normed, normed, normed, mask=causal)
        return stream + jax.vmap(self.mlp)(jax.vmap(self.mlp_norm)(stream))


class InContextTransformer(eqx.Module):
    r"""A GPT-style decoder on the token sequence $x_1, y_1, x_2, y_2, \dots$ (each
    $y_i$ written as $(y_i, 0, \dots, 0) \in \mathbb R^d$), read out at the $x$
    tokens: the output at $x_k$ predicts $y_k$ from the $k - 1$ pairs before it.

    **Arguments:**

    - `dim`: the input dimension $d$.
    - `max_points`: the longest prompt, in pairs.
    - `width`: the residual stream's width (64 to 128 for CPU runs).
    - `depth`: the number of blocks.
    - `heads`: attention heads per block; divides `width`.
    - `key`: the PRNG key of the initialisation.

    **Raises:**

    - `ValueError`: a size below 1, or `heads` that does not divide `width`.
    """

    read_in: eqx.nn.Linear
    positions: Float[Array, "tokens width"]
    blocks: tuple[_Block, ...]
    final_norm: eqx.nn.LayerNorm
    read_out: eqx.nn.Linear
    dim: int = eqx.field(static=True)
    max_points: int = eqx.field(static=True)

    def __init__(
        self,
        dim: int,
        max_points: int,
        width: int = 64,
        depth: int = 3,
        heads: int = 4,
        *,
        key: PRNGKeyArray,
    ):
        for value, name in ((dim, "dim"), (max_points, "max_points"), (width, "width")):
            check_count(value, name)
        check_count(depth, "depth")
        check_count(heads, "heads")
        if width % heads:
            raise ValueError(f"heads = {heads} must divide width = {width}")
        keys = jax.random.split(key, depth + 3)
        self.dim, self.max_points = dim, max_points
        self.read_in = eqx.nn.Linear(dim, width, key=keys[0])
        self.positions = 0.02 * jax.random.normal(keys[1], (2 * max_points, width))
        self.blocks = tuple(_Block(width, heads, k) for k in keys[3:])
        self.final_norm = eqx.nn.LayerNorm(width)
        self.read_out = eqx.nn.Linear(width, 1, key=keys[2])

    def __call__(
        self, xs: Float[Array, "points dim"], ys: Float[Array, " points"]
    ) -> Float[Array, " points"]:
        """The prediction of each $y_k$ from $x_k$ and the pairs before it."""
        points = xs.shape[0]
        y_tokens = jnp.zeros_like(xs).at[:, 0].set(ys)
        tokens = jnp.stack([xs, y_tokens], axis=1).reshape(2 * points, self.dim)
        stream = jax.vmap(self.read_in)(tokens) + self.positions[: 2 * points]
        for block in self.blocks:
            stream = block(stream)
        stream = jax.vmap(self.final_norm)(stream)
        return jax.vmap(self.read_out)(stream[::2])[:, 0]


def predict_in_context(
    model: InContextTransformer,
    xs: Float[Array, "batch points dim"],
    ys: Float[Array, "batch points"],
) -> Float[Array, "batch points"]:
    """The model's predictions for a batch of prompts (see [`InContextTransformer`][]).

    **Raises:**

    - `ValueError`: prompts longer than the model's `max_points` or of another $d$.
    """
    if xs.shape[-1] != model.dim or xs.shape[1] > model.max_points:
        raise ValueError(
            f"prompts of {xs.shape[1]} points in d = {xs.shape[-1]} do not fit a model of "
            f"d = {model.dim} and at most {model.max_points} points"
        )
    return _batched(model, xs, ys)


@eqx.filter_jit
def _batched(model, xs, ys):
    return jax.vmap(model)(xs, ys)


def parameter_count(model: eqx.Module) -> int:
    """The number of trainable scalars."""
    leaves = jax.tree_util.tree_leaves(eqx.filter(model, eqx.is_inexact_array))
    return sum(math.prod(leaf.shape) for leaf in leaves)
