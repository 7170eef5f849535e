"""How the SGLD chains of a local learning coefficient estimate are run."""

from __future__ import annotations

import dataclasses

from ...theory._checks import check_count, check_positive

PAIRED = "paired"
FULL = "full"
ONE_BATCH = "one_batch"
REFERENCES = (PAIRED, FULL, ONE_BATCH)


@dataclasses.dataclass(frozen=True)
class SGLDSettings:
    r"""Settings of the SGLD chains behind [`basinlab.local_learning_coefficient`][].

    Each chain starts at $w^*$ and takes steps

    $$
    w \leftarrow w - \frac{\epsilon}{2}\Bigl(n\beta\,\nabla L_B(w) + \gamma (w - w^*)\Bigr)
    + \sqrt{\epsilon}\,\xi, \qquad \xi \sim N(0, I),
    $$

    with $L_B$ the mean loss over a minibatch of $B$ samples (the whole loss for a
    model given by its population loss).

    **Fields:**

    - `step_size`: $\epsilon$. Too large a step biases the estimate upwards and can
      diverge; the result's diagnostics say when.
    - `gamma`: $\gamma > 0$, the strength of the localisation to $w^*$. Too large a
      $\gamma$ confines the chain and biases the estimate downwards; too small lets it
      wander to other minima.
    - `beta`: the inverse temperature $\beta$; `None` for $1/\log n$ (Watanabe's
      $\beta^*$, as Lau et al. use).
    - `chains`: independent chains, run in parallel.
    - `steps`: recorded steps per chain, after `burn_in` unrecorded ones.
    - `burn_in`: steps discarded at the start of each chain.
    - `batch_size`: $B$; `None` for the whole data set.
    - `reference`: how $L(w^*)$ enters each draw. `"paired"` (the default) subtracts
      $L_B(w^*)$ on the same minibatch as $L_B(w)$, so that the minibatch's own noise
      cancels; `"full"` subtracts $L_n(w^*)$ over all data; `"one_batch"` subtracts
      $L_{B_0}(w^*)$ on one minibatch drawn once and shared by every chain, the
      common mistake, kept to measure its error.
    - `gamma_factors`: multiples of `gamma` also run, to measure how much the estimate
      depends on $\gamma$. Must contain 1.
    """

    step_size: float = 1e-4
    gamma: float = 100.0
    beta: float | None = None
    chains: int = 8
    steps: int = 2000
    burn_in: int = 500
    batch_size: int | None = None
    reference: str = PAIRED
    gamma_factors: tuple[float, ...] = (0.5, 1.0, 2.0)

    def __post_init__(self):
        check_positive(self.step_size, "step_size")
        check_positive(self.gamma, "gamma")
        if self.beta is not None:
            check_positive(self.beta, "beta")
        check_count(self.chains, "chains", minimum=2)
        check_count(self.steps, "steps", minimum=10)
        check_count(self.burn_in, "burn_in", minimum=0)
        if self.batch_size is not None:
            check_count(self.batch_size, "batch_size")
        if self.reference not in REFERENCES:
            raise ValueError(f"reference must be one of {REFERENCES}, got {self.reference!r}")
        factors = tuple(float(check_positive(f, "a gamma factor")) for f in self.gamma_factors)
        if 1.0 not in factors:
            raise ValueError(f"gamma_factors must contain 1, got {self.gamma_factors}")
        object.__setattr__(self, "gamma_factors", tuple(sorted(set(factors))))

    def describe(self) -> dict[str, object]:
        """The settings as attrs for a result."""
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        fields["beta"] = "1/log n" if self.beta is None else self.beta
        fields["batch_size"] = "all" if self.batch_size is None else self.batch_size
        fields["gamma_factors"] = list(self.gamma_factors)
        return {k: v if isinstance(v, int | float | str) else str(v) for k, v in fields.items()}
