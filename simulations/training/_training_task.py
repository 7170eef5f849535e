"""The interface of a network to be trained many times."""

from __future__ import annotations

import abc

import equinox as eqx
import numpy as np
import xarray as xr
from jaxtyping import Array, Bool, Float, Int, PRNGKeyArray, PyTree, Scalar


class TrainingTask(eqx.Module):
    r"""One network and one data stream, to be trained many times.

    A subclass says how a run starts, what one step does, what is logged, which
    predicates are tested at each logged step and which end state a finished run is
    in. Everything random comes from the keys it is given, so a run is a function of
    its key alone. Settings that a sweep varies are best kept as array fields: then
    one compiled program serves every point of the sweep.
    """

    @property
    @abc.abstractmethod
    def name(self) -> str:
        """A short name for records and file names."""

    @property
    @abc.abstractmethod
    def end_state_names(self) -> tuple[str, ...]:
        """The names of the end states, in the order of [`end_state`][] labels."""

    @abc.abstractmethod
    def settings(self) -> dict[str, object]:
        """Every setting of the task, JSON-able: it keys the chunks on disk."""

    @abc.abstractmethod
    def init(self, key: PRNGKeyArray) -> PyTree:
        """The state of a run at step 0."""

    @abc.abstractmethod
    def step(self, state: PyTree, key: PRNGKeyArray, index: Array) -> PyTree:
        """The state after step `index`, drawn with `key`."""

    @abc.abstractmethod
    def observe(self, state: PyTree) -> dict[str, Scalar]:
        """The logged quantities of a state, each a scalar."""

    @abc.abstractmethod
    def predicates(self, observed: dict[str, Scalar]) -> dict[str, Bool[Array, ""]]:
        """Whether each predicate holds, from the logged quantities of one step."""

    @abc.abstractmethod
    def end_state(self, observed: dict[str, Scalar]) -> Int[Array, ""]:
        """The end state of a run, an index into `end_state_names`, from its last
        logged quantities."""

    @property
    def headline(self) -> str | None:
        """The logged quantity that a figure of the runs draws; `None` for the first."""
        return None

    def predict_end_states(self, record: xr.Dataset) -> Int[np.ndarray, " run"]:
        """The end state that the task's theory predicts for each run of `record`,
        from the run's logged quantities at step 0.

        **Raises:**

        - `NotImplementedError`: the task has no theory.
        """
        raise NotImplementedError(f"the task {self.name!r} has no theory to predict its runs")

    @property
    def has_fluctuation_theory(self) -> bool:
        """Whether the task gives [`predict_end_state_probabilities`][]."""
        return type(self).predict_end_state_probabilities is not (
            TrainingTask.predict_end_state_probabilities
        )

    def predict_end_state_probabilities(
        self, record: xr.Dataset, *, paths: int = 16, seed: int = 0
    ) -> Float[np.ndarray, "run end_state"]:
        """The chance of each end state for each run of `record` by a theory with the
        fluctuations of finite size, from the run's logged quantities at step 0,
        estimated from `paths` sampled paths per run.

        **Raises:**

        - `NotImplementedError`: the task has no such theory.
        """
        raise NotImplementedError(
            f"the task {self.name!r} has no theory of its fluctuations to predict its runs"
        )

    @property
    def has_loss(self) -> bool:
        """Whether the task gives [`draw_samples`][] and [`sample_losses`][]: the loss
        whose learning coefficient a trained state has."""
        return type(self).sample_losses is not TrainingTask.sample_losses

    def draw_samples(self, key: PRNGKeyArray, n: int) -> PyTree:
        """`n` samples of the task's data, drawn as training draws them: a pytree of
        arrays with the samples along the first axis.

        **Raises:**

        - `NotImplementedError`: the task has no per-sample loss.
        """
        raise NotImplementedError(f"the task {self.name!r} has no per-sample loss")

    def sample_losses(self, state: PyTree, samples: PyTree) -> Float[Array, " batch"]:
        """The loss of the network in `state` on each of `samples` (shaped as
        [`draw_samples`][]' result): the loss that training descends, whose mean over
        the samples is the empirical loss $L_n$.

        **Raises:**

        - `NotImplementedError`: the task has no per-sample loss.
        """
        raise NotImplementedError(f"the task {self.name!r} has no per-sample loss")
