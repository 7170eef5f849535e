r"""The in-context testbed's mixture basin as a task to train many times: one small
transformer per seed, all vmapped, trained on intended and misaligned prompts."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr
from jaxtyping import Array, Float, Int, PRNGKeyArray, PyTree

from ...theory._checks import check_count, check_in_range, check_positive
from ..testbed._function_classes import MarkedFlipMixture
from ..testbed._mixture_basin import ORDERS, marked_query_inputs
from ..testbed._training import _adam, training_update
from ..testbed._transformer import InContextTransformer
from ._training_task import TrainingTask


class InContextMixtureTask(TrainingTask):
    r"""A small [`InContextTransformer`][] trained on prompts of
    [`MarkedFlipMixture`][]: a share $p$ = `fraction` of prompts is misaligned
    ($-w\cdot x$ on the marked region $x_1 >$ `threshold`). Out of distribution, with
    a context from outside the region and a query inside it, does the trained model
    follow the intended $w\cdot x$ or the unintended $-w\cdot x$?

    Each step draws `batch` fresh prompts from the run's key and takes one Adam step
    ([`train_in_context`][]'s loss, and its schedule laid out over `planned_steps`:
    warm-up over 5%, cosine decay to 1/20). The `order` says when the misaligned
    prompts come: `"mixed"` (each prompt misaligned with probability $p$),
    `"misaligned_first"` (every prompt of the first $p$ share of the steps) or
    `"misaligned_last"` (of the last $p$ share); unlike
    [`mixture_basin`][]'s phases, one schedule spans the whole run.

    Logged at each logged step, on `test_prompts` fixed out-of-distribution prompts
    (the same for every run): `intended_error` and `unintended_error`, the mean
    squared distance of the prediction at the query to each function divided by $d$.
    The end state and predicate `intended`: the first is smaller.

    The theory: on a marked query the Bayes-optimal prediction is $(1 - 2p)\,w\cdot
    x$, intended exactly when $p < 1/2$ (for the mixed order).
    """

    dim: int = eqx.field(static=True)
    points: int = eqx.field(static=True)
    order: str = eqx.field(static=True)
    threshold: float = eqx.field(static=True)
    width: int = eqx.field(static=True)
    depth: int = eqx.field(static=True)
    heads: int = eqx.field(static=True)
    batch: int = eqx.field(static=True)
    learning_rate: float = eqx.field(static=True)
    planned_steps: int = eqx.field(static=True)
    test_seed: int = eqx.field(static=True)
    fraction: Float[Array, ""]
    skeleton: InContextTransformer
    test_xs: Float[Array, "test points dim"]
    test_intended: Float[Array, "test points"]

    def __init__(
        self,
        *,
        dim: int = 3,
        fraction: float = 0.2,
        order: str = "mixed",
        threshold: float = 1.0,
        points: int | None = None,
        width: int = 16,
        depth: int = 1,
        heads: int = 2,
        batch: int = 32,
        learning_rate: float = 2e-3,
        planned_steps: int = 1000,
        test_prompts: int = 256,
        test_seed: int = 0,
    ):
        points = 2 * dim + 1 if points is None else points
        for value, name in (
            (dim, "dim"),
            (points, "points"),
            (width, "width"),
            (depth, "depth"),
            (heads, "heads"),
            (batch, "batch"),
            (planned_steps, "planned_steps"),
            (test_prompts, "test_prompts"),
        ):
            check_count(value, name)
        check_count(test_seed, "test_seed", minimum=0)
        check_in_range(fraction, "fraction", 0.0, 1.0)
        check_positive(learning_rate, "learning_rate")
        if order not in ORDERS:
            raise ValueError(f"unknown order {order!r}; known: {', '.join(ORDERS)}")
        self.dim, self.points, self.order, self.threshold = dim, points, order, float(threshold)
        self.width, self.depth, self.heads, self.batch = width, depth, heads, batch
        self.learning_rate, self.planned_steps = float(learning_rate), planned_steps
        self.test_seed, self.fraction = test_seed, jnp.asarray(float(fraction))
        model = InContextTransformer(dim, points, width, depth, heads, key=jax.random.PRNGKey(0))
        self.skeleton = eqx.filter(model, eqx.is_inexact_array, inverse=True)
        weight_key, input_key = jax.random.split(jax.random.PRNGKey(test_seed))
        w = jax.random.normal(weight_key, (test_prompts, dim))
        self.test_xs = marked_query_inputs(input_key, test_prompts, points, dim, self.threshold)
        self.test_intended = jnp.einsum("bd,bnd->bn", w, self.test_xs)

    @property
    def name(self) -> str:
        return "in_context_mixture"

    @property
    def headline(self) -> str:
        return "intended_error"

    @property
    def end_state_names(self) -> tuple[str, ...]:
        return ("intended", "unintended")

    def settings(self) -> dict[str, object]:
        fixed = (
            "dim",
            "points",
            "order",
            "threshold",
            "width",
            "depth",
            "heads",
            "batch",
            "learning_rate",
            "planned_steps",
            "test_seed",
        )
        return {
            **{field: getattr(self, field) for field in fixed},
            "fraction": self.fraction.item(),
            "test_prompts": int(self.test_xs.shape[0]),
        }

    @property
    def _optimiser(self):
        return _adam(self.learning_rate, self.planned_steps)

    def init(self, key: PRNGKeyArray) -> PyTree:
        model = InContextTransformer(
            self.dim, self.points, self.width, self.depth, self.heads, key=key
        )
        parameters = eqx.filter(model, eqx.is_inexact_array)
        return parameters, self._optimiser.init(parameters)

    def _misaligned_share(self, index: Array) -> Array:
        if self.order == "mixed":
            return self.fraction
        cut = self.fraction * self.planned_steps
        if self.order == "misaligned_first":
            return jnp.where(index < cut, 1.0, 0.0)
        return jnp.where(index >= self.planned_steps - cut, 1.0, 0.0)

    def step(self, state: PyTree, key: PRNGKeyArray, index: Array) -> PyTree:
        parameters, optimiser_state = state
        weight_key, kind_key, input_key = jax.random.split(key, 3)
        weights = jax.random.normal(weight_key, (self.batch, self.dim))
        misaligned = jax.random.bernoulli(kind_key, self._misaligned_share(index), (self.batch, 1))
        tasks = jnp.concatenate([weights, misaligned.astype(weights.dtype)], axis=1)
        xs = jax.random.normal(input_key, (self.batch, self.points, self.dim))
        mixture = MarkedFlipMixture(self.dim, fraction=0.0, threshold=self.threshold)
        ys = mixture.evaluate(tasks, xs)  # the tasks carry each prompt's kind
        model = eqx.combine(parameters, self.skeleton)
        model, optimiser_state, _ = training_update(
            model, optimiser_state, self._optimiser, xs, ys, self.points, float(self.dim)
        )
        return eqx.filter(model, eqx.is_inexact_array), optimiser_state

    def observe(self, state: PyTree) -> dict[str, Array]:
        model = eqx.combine(state[0], self.skeleton)
        predicted = jax.vmap(model)(self.test_xs, self.test_intended)[:, -1]
        truth = self.test_intended[:, -1]
        return {
            "intended_error": jnp.mean((predicted - truth) ** 2) / self.dim,
            "unintended_error": jnp.mean((predicted + truth) ** 2) / self.dim,
        }

    def predicates(self, observed):
        return {"intended": observed["intended_error"] < observed["unintended_error"]}

    def end_state(self, observed):
        return jnp.where(observed["intended_error"] < observed["unintended_error"], 0, 1)

    def predict_end_states(self, record: xr.Dataset) -> Int[np.ndarray, " run"]:
        """The Bayes-optimal predictor's end state for every run: `intended` (0) when
        $p < 1/2$, else `unintended` (1); for the mixed order only.

        **Raises:**

        - `NotImplementedError`: another order, where the Bayes predictor of the
          whole training distribution says nothing about the order of the data.
        """
        if self.order != "mixed":
            raise NotImplementedError(f"no theory for the order {self.order!r}")
        label = 0 if float(self.fraction) < 0.5 else 1
        return np.full(record.sizes["run"], label)
