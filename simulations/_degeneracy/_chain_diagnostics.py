"""Whether an LLC estimate can be trusted: effective sample size, R-hat, stationarity,
and its sensitivity to the localisation."""

from __future__ import annotations

import dataclasses

import arviz as az
import numpy as np
from jaxtyping import Float

# Thresholds of a trustworthy estimate; the docstring of local_learning_coefficient
# gives the reasons.
MIN_ESS = 100.0
MAX_R_HAT = 1.05
MAX_DRIFT_Z = 4.0
MAX_GAMMA_ELASTICITY = 0.2
MAX_STEP_BIAS = 0.05
MIN_RELAXATIONS = 3.0


def relaxations(
    step_size: float, nbeta: float, flattest: float, gamma: float, burn_in: int
) -> float:
    r"""The burn-in in relaxation times of the flattest direction at $w^*$,
    $\epsilon(n\beta h_{min} + \gamma)/2 \cdot$ `burn_in`. Along a direction of
    curvature $h$ the chain settles in $2/(\epsilon(n\beta h + \gamma))$ steps; where
    the loss is flat only $\gamma$ pulls it, and until then the chains have not
    spread over the minimum set and the estimate is biased down."""
    return step_size * (nbeta * max(flattest, 0.0) + gamma) * burn_in / 2


def step_size_bias(step_size: float, nbeta: float, curvature: float, gamma: float) -> float:
    r"""The relative upward bias of the discretised chain in its stiffest direction.

    Along a Hessian eigenvector with eigenvalue $h$, SGLD is the linear recursion
    $x \leftarrow (1 - \epsilon a/2)x + \sqrt\epsilon\,\xi$ with
    $a = n\beta h + \gamma$, whose stationary variance is $1/(a(1 - \epsilon a/4))$
    instead of $1/a$: too wide by $1/(1 - \epsilon a/4) - 1$. Infinite when
    $\epsilon a \ge 4$ (the chain diverges)."""
    stiffness = step_size * (nbeta * curvature + gamma) / 4
    return float("inf") if stiffness >= 1 else stiffness / (1 - stiffness)


@dataclasses.dataclass(frozen=True)
class ChainSummary:
    """The estimate from one value of gamma's chains and its Monte Carlo error.

    **Fields:**

    - `estimate`: the mean over every chain and draw.
    - `std_error`: its Monte Carlo standard error (ArviZ `mcse`, which accounts for
      autocorrelation within chains).
    - `ess`: the effective sample size (ArviZ, bulk).
    - `r_hat`: the rank-normalised split R-hat (ArviZ).
    - `drift_z`: the difference between the means of the first and last thirds of
      the draws, in units of its standard error: a chain still settling shows it.
    """

    estimate: float
    std_error: float
    ess: float
    r_hat: float
    drift_z: float

    def __post_init__(self):
        assert self.std_error >= 0 or np.isnan(self.std_error)


def summarise(trace: Float[np.ndarray, "chain draw"]) -> ChainSummary:
    """The [`ChainSummary`][] of one value of gamma's chains."""
    third = trace.shape[1] // 3
    first, last = trace[:, :third], trace[:, -third:]
    gap = np.mean(last) - np.mean(first)
    spread = np.hypot(float(az.mcse(first)), float(az.mcse(last)))
    return ChainSummary(
        estimate=float(np.mean(trace)),
        std_error=float(az.mcse(trace)),
        ess=float(az.ess(trace)),
        r_hat=float(az.rhat(trace)),
        drift_z=float(abs(gap) / spread) if spread > 0 else 0.0,
    )


def gamma_elasticity(gammas: np.ndarray, estimates: np.ndarray, errors: np.ndarray) -> float:
    r"""$d\log\hat\lambda / d\log\gamma$ between the smallest and largest $\gamma$;
    NaN with a single $\gamma$, an estimate that is not positive, or a difference
    within 3 standard errors (noise, not a dependence on $\gamma$)."""
    if len(gammas) < 2 or np.any(estimates[[0, -1]] <= 0):
        return float("nan")
    if abs(estimates[-1] - estimates[0]) < 3 * np.hypot(errors[0], errors[-1]):
        return float("nan")
    return float(np.log(estimates[-1] / estimates[0]) / np.log(gammas[-1] / gammas[0]))


def diagnosis(
    summary: ChainSummary, elasticity: float, step_bias: float, settled: float
) -> list[str]:
    """The reasons not to trust an estimate, in words; empty when there are none."""
    problems = []
    if settled < MIN_RELAXATIONS:
        problems.append(
            f"burn_in is {settled:.2g} relaxation times of the flattest direction, under "
            f"{MIN_RELAXATIONS:g}: the chains have not settled; lengthen burn_in or raise "
            "gamma"
        )
    if step_bias > MAX_STEP_BIAS:
        problems.append(
            f"the step size widens the chain by {100 * step_bias:.0f}% in its stiffest "
            "direction: lower step_size"
        )
    if summary.ess < MIN_ESS:
        problems.append(
            f"effective sample size {summary.ess:.0f} < {MIN_ESS:.0f}: run longer chains"
        )
    if summary.r_hat > MAX_R_HAT:
        problems.append(f"R-hat {summary.r_hat:.3f} > {MAX_R_HAT}: the chains disagree")
    if summary.drift_z > MAX_DRIFT_Z:
        problems.append(
            f"the draws drift ({summary.drift_z:.1f} standard errors between the first and "
            "last thirds): lengthen burn_in"
        )
    if np.isfinite(elasticity) and abs(elasticity) > MAX_GAMMA_ELASTICITY:
        problems.append(
            f"the estimate moves with gamma (d log llc / d log gamma = {elasticity:.2f}): "
            "the localisation, not the loss, sets it"
        )
    return problems
