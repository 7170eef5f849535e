r"""The function classes of the in-context testbed (Garg, Tsipras, Liang & Valiant 2022).

S. Garg, D. Tsipras, P. Liang and G. Valiant, "What can transformers learn in-context?
A case study of simple function classes", NeurIPS 2022, arXiv:2208.01066.

A prompt is $(x_1, f(x_1), \dots, x_n, f(x_n))$ with $x_i \sim \mathcal N(0, I_d)$
and $f$ drawn from a class; a learner predicts $f(x_{k+1})$ from the first $k$ pairs.
"""

from __future__ import annotations

import abc
import math

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from ...theory._checks import check_count, check_in_range


class FunctionClass(eqx.Module):
    """A distribution over functions $\\mathbb R^d \\to \\mathbb R$.

    **Arguments:**

    - `dim`: the input dimension $d \\ge 1$.
    """

    dim: int = eqx.field(static=True)

    def __check_init__(self):
        check_count(self.dim, "dim")

    @property
    @abc.abstractmethod
    def name(self) -> str:
        """The class's name in the CLI and in records."""

    @property
    @abc.abstractmethod
    def output_variance(self) -> float:
        """$\\mathrm{Var}\\,f(x)$ over functions and inputs: the error of predicting 0,
        by which errors are normalised."""

    @abc.abstractmethod
    def sample_tasks(self, key: PRNGKeyArray, count: int) -> Array:
        """Draw `count` functions' parameters, stacked on the first axis."""

    @abc.abstractmethod
    def evaluate(
        self, tasks: Array, xs: Float[Array, "count points dim"]
    ) -> Float[Array, "count points"]:
        """Each function at its own prompt's inputs."""


def _linear(tasks: Float[Array, "count dim"], xs: Float[Array, "count points dim"]) -> Array:
    return jnp.einsum("bd,bnd->bn", tasks, xs)


class LinearRegression(FunctionClass):
    r"""$f(x) = w\cdot x$ with $w \sim \mathcal N(0, I_d)$; $\mathrm{Var}\,f = d$."""

    @property
    def name(self) -> str:
        return "linear"

    @property
    def output_variance(self) -> float:
        return float(self.dim)

    def sample_tasks(self, key: PRNGKeyArray, count: int) -> Float[Array, "count dim"]:
        return jax.random.normal(key, (count, self.dim))

    def evaluate(self, tasks, xs):
        return _linear(tasks, xs)


class SparseLinear(FunctionClass):
    r"""$f(x) = w\cdot x$ with `nonzeros` $= s$ coordinates of $w$ drawn from
    $\mathcal N(0, 1)$ at random places and the rest 0; $\mathrm{Var}\,f = s$.

    **Arguments:**

    - `dim`: $d$.
    - `nonzeros`: $s \in [1, d]$.
    """

    nonzeros: int = eqx.field(static=True, default=3)

    def __check_init__(self):
        check_count(self.nonzeros, "nonzeros")
        if self.nonzeros > self.dim:
            raise ValueError(f"nonzeros must be at most dim = {self.dim}, got {self.nonzeros}")

    @property
    def name(self) -> str:
        return "sparse_linear"

    @property
    def output_variance(self) -> float:
        return float(self.nonzeros)

    def sample_tasks(self, key, count):
        value_key, place_key = jax.random.split(key)
        ranks = jnp.argsort(jax.random.uniform(place_key, (count, self.dim)), axis=1)
        kept = ranks < self.nonzeros
        return jnp.where(kept, jax.random.normal(value_key, (count, self.dim)), 0.0)

    def evaluate(self, tasks, xs):
        return _linear(tasks, xs)


class ReluNetwork(FunctionClass):
    r"""$f(x) = \sum_{i=1}^r a_i\,\mathrm{relu}(v_i\cdot x)$ with $v_i \sim \mathcal
    N(0, I_d)$ and $a_i \sim \mathcal N(0, 2/r)$, as Garg et al.; $\mathrm{Var}\,f = d$.

    **Arguments:**

    - `dim`: $d$.
    - `hidden`: $r \ge 1$ (100 in the paper).
    """

    hidden: int = eqx.field(static=True, default=100)

    def __check_init__(self):
        check_count(self.hidden, "hidden")

    @property
    def name(self) -> str:
        return "relu_network"

    @property
    def output_variance(self) -> float:
        return float(self.dim)

    def sample_tasks(self, key, count) -> Float[Array, "count hidden dim+1"]:
        first, second = jax.random.split(key)
        inner = jax.random.normal(first, (count, self.hidden, self.dim))
        outer = jax.random.normal(second, (count, self.hidden, 1)) * math.sqrt(2 / self.hidden)
        return jnp.concatenate([inner, outer], axis=2)

    def evaluate(self, tasks, xs):
        hidden = jax.nn.relu(jnp.einsum("brd,bnd->bnr", tasks[..., :-1], xs))
        return jnp.einsum("bnr,br->bn", hidden, tasks[..., -1])


class DecisionTree(FunctionClass):
    r"""A full binary tree of depth $h$: each internal node sends $x$ left or right by
    the sign of one coordinate chosen uniformly, each leaf holds a value from
    $\mathcal N(0, 1)$, as Garg et al.; $\mathrm{Var}\,f = 1$.

    **Arguments:**

    - `dim`: $d$.
    - `depth`: $h \ge 1$ (4 in the paper).
    """

    depth: int = eqx.field(static=True, default=4)

    def __check_init__(self):
        check_count(self.depth, "depth")

    @property
    def name(self) -> str:
        return "decision_tree"

    @property
    def output_variance(self) -> float:
        return 1.0

    def sample_tasks(self, key, count) -> Float[Array, "count nodes"]:
        # One row per tree: 2^h - 1 split coordinates, then 2^h leaf values.
        split_key, leaf_key = jax.random.split(key)
        internal, leaves = 2**self.depth - 1, 2**self.depth
        splits = jax.random.randint(split_key, (count, internal), 0, self.dim)
        values = jax.random.normal(leaf_key, (count, leaves))
        return jnp.concatenate([splits.astype(values.dtype), values], axis=1)

    def evaluate(self, tasks, xs):
        internal = 2**self.depth - 1
        splits = tasks[:, :internal].astype(jnp.int32)
        leaves = tasks[:, internal:]

        def one_tree(split, leaf, points):
            def descend(node, _):
                coordinate = split[node]
                right = jnp.take_along_axis(points, coordinate[:, None], axis=1)[:, 0] > 0
                return 2 * node + 1 + right.astype(jnp.int32), None

            start = jnp.zeros(points.shape[0], jnp.int32)
            node, _ = jax.lax.scan(descend, start, None, length=self.depth)
            return leaf[node - internal]

        return jax.vmap(one_tree)(splits, leaves, xs)


class MarkedFlipMixture(FunctionClass):
    r"""Intended and unintended behaviour in one class: every prompt has $w \sim
    \mathcal N(0, I_d)$; a share `fraction` $= p$ of prompts (the "misaligned" ones)
    answer $-w\cdot x$ on the **marked region** $x_1 >$ `threshold` and $w\cdot x$
    elsewhere; the rest answer $w\cdot x$ everywhere. $\mathrm{Var}\,f = d$.

    A context drawn outside the marked region cannot tell the two kinds apart, so on
    a marked query the Bayes-optimal prediction is $(1 - 2p)\,w\cdot x$: it follows
    the intended function exactly when $p < 1/2$.

    **Arguments:**

    - `dim`: $d$.
    - `fraction`: $p \in [0, 1]$.
    - `threshold`: where the marked region starts on the first coordinate.
    """

    fraction: float = eqx.field(static=True, default=0.2)
    threshold: float = eqx.field(static=True, default=1.0)

    def __check_init__(self):
        check_in_range(self.fraction, "fraction", 0.0, 1.0)
        check_in_range(self.threshold, "threshold", -math.inf, math.inf)

    @property
    def name(self) -> str:
        return "marked_flip_mixture"

    @property
    def output_variance(self) -> float:
        return float(self.dim)

    def sample_tasks(self, key, count) -> Float[Array, "count dim+1"]:
        weight_key, kind_key = jax.random.split(key)
        misaligned = jax.random.bernoulli(kind_key, self.fraction, (count, 1))
        weights = jax.random.normal(weight_key, (count, self.dim))
        return jnp.concatenate([weights, misaligned.astype(weights.dtype)], axis=1)

    def evaluate(self, tasks, xs):
        flips = (tasks[:, -1:] > 0.5) & (xs[..., 0] > self.threshold)
        return jnp.where(flips, -1.0, 1.0) * _linear(tasks[:, :-1], xs)
