"""Where noisy runs go: transitions between basins under noise, and tipping between
two parameter values."""

from __future__ import annotations

import json
from collections.abc import Mapping

import numpy as np
import numpyro.distributions as dist
import xarray as xr

from ...theory import FixedPoint, Model
from ...theory._checks import check_positive
from ...theory._legacy_arguments import legacy_arguments
from .._basin._basins import labelled_ensemble
from .._basin._label_settings import LabelSettings
from .._basin._sampling import sample_states
from .._engine._compile import CompiledModel
from .._engine._integrate import as_compiled
from .._engine._provenance import provenance
from .._engine._settings_argument import settings_argument
from .._engine._solver_settings import DIVERGED, SolverSettings
from .._storage._distribution_record import describe_distribution
from ._sde import NoiseSettings, require_noise, run_until_arrival
from ._transition_matrix import transition_matrix


@legacy_arguments(positional=("t1", "n", "seed", "params"), renamed={"horizon": "t1"})
def transition_probabilities(
    model: Model | CompiledModel,
    p0: dist.Distribution,
    *,
    t1: float,
    n: int = 2000,
    seed: int = 0,
    params: Mapping[str, float] | None = None,
    noise_settings: NoiseSettings | None = None,
    settings: SolverSettings | None = None,
    labels: LabelSettings | None = None,
    points: list[FixedPoint] | None = None,
    confidence: float = 0.95,
    progress: bool = True,
) -> xr.Dataset:
    r"""Where runs of the SDE are after a horizon, as a matrix over basins.

    Starts $x_0 \sim p_0$ run under $dx = f\,dt + g\,dW$ for time `t1`. Each
    start and each end state is labelled by the attractor the *deterministic* flow
    takes it to (one labelling of both, so the attractors are the same list), and
    the result is $P(\text{end in basin } j \mid \text{start in basin } i)$ with a
    Wilson interval per entry. A run that left the box counts as `DIVERGED`.

    **Arguments:**

    - `model`: a flow with noise.
    - `p0`: a NumPyro distribution of starts, as for [`basinlab.basin_fractions`][].
    - `t1`: the time the noise acts.
    - `n`, `seed`: the number of runs; the seed of the starts and the noise.
    - `params`: parameter overrides.
    - `noise_settings`: [`basinlab.simulations.NoiseSettings`][] for the SDE.
    - `settings`, `labels`, `points`: for the deterministic labelling, as for
      [`basinlab.basin_fractions`][].
    - `confidence`: of the intervals.
    - `progress`: show progress bars.

    **Returns:**

    A dataset over `start` and `end` (attractor names, then `DIVERGED` and
    `UNCONVERGED`) with `count`, `probability`, `probability_low`,
    `probability_high` and `start_count`; over `run`, the starts `y0`, the ends
    `y_end` and both labels; provenance attrs.

    **Raises:**

    - `ValueError`: the model has no noise or is a map; `t1` is not positive;
      `p0`, `n`, `seed` or `confidence` are out of range.
    """
    compiled = as_compiled(model)
    require_noise(compiled, "transition_probabilities")
    t1 = check_positive(t1, "t1")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    noise_settings = settings_argument(noise_settings, NoiseSettings, "noise_settings")
    dim = len(compiled.state_names)
    y0s = sample_states(p0, n, seed, dim)
    p = compiled.param_vector(params)
    # No targets: a centre of NaN is never reached.
    ends, _, outcome = run_until_arrival(
        compiled,
        noise_settings,
        y0s,
        p,
        seed,
        t1,
        np.full((1, dim), np.nan),
        np.ones(1),
        progress,
        "noisy runs",
    )
    left = outcome == DIVERGED
    both = np.concatenate([y0s, np.where(left[:, None], y0s, ends)])
    _, label, attractors, _ = labelled_ensemble(
        compiled, both, params, settings, labels, points, progress, None, {}
    )
    start, end = label[:n], label[n:].copy()
    end[left] = DIVERGED
    names = [a.name for a in attractors]
    result = transition_matrix(start, end, names, names, confidence)
    result["y0"] = (("run", "state"), y0s)
    result["y_end"] = (("run", "state"), ends)
    result["start_label"] = ("run", start)
    result["end_label"] = ("run", end)
    result = result.assign_coords(run=np.arange(n), state=list(compiled.state_names))
    result.attrs |= provenance(compiled, params, noise_settings.describe(compiled))
    result.attrs |= {
        "kind": "transition_probabilities",
        "horizon": t1,
        "seed": seed,
        "p0": json.dumps(describe_distribution(p0), sort_keys=True),
    }
    return result


@legacy_arguments(positional=("confidence",))
def tipping_probabilities(
    before: xr.Dataset, after: xr.Dataset, *, confidence: float = 0.95
) -> xr.Dataset:
    r"""Tipping probabilities between two labelled results over the same starts:
    $P(\text{end in basin } j \text{ after} \mid \text{start in basin } i
    \text{ before})$.

    Typically `before` and `after` are [`basinlab.basin_fractions`][] (or
    [`basinlab.basin_map`][]) of one model at two parameter values with the same
    starts: a run trained to the attractor of basin $i$ before a change of
    parameter, and then continued after it, ends where the basin of its start
    *after* the change says (K. Kaszás, U. Feudel and T. Tél, "Tipping phenomena in
    typical dynamical systems subjected to parameter drift", Sci. Rep. 9, 8654,
    2019; Attractors.jl's `tipping_probabilities`). Each row has Wilson intervals.

    **Arguments:**

    - `before`, `after`: results with `label` over the same starts.
    - `confidence`: of the intervals.

    **Returns:**

    A dataset over `start` (the attractors of `before`) and `end` (those of
    `after`) with `count`, `probability` and its interval, and `start_count`.

    **Raises:**

    - `ValueError`: a result has no labels, or the two do not cover the same starts.
    """
    for name, result in (("before", before), ("after", after)):
        if not isinstance(result, xr.Dataset) or "label" not in result:
            raise ValueError(f"{name} must be a labelled basinlab result (with 'label')")
    if before["label"].shape != after["label"].shape or not _same_starts(before, after):
        raise ValueError("before and after must label the same starts (the same grid or samples)")
    return transition_matrix(
        before["label"].values.ravel(),
        after["label"].values.ravel(),
        [str(v) for v in before["attractor_name"].values],
        [str(v) for v in after["attractor_name"].values],
        confidence,
    )


def _same_starts(before: xr.Dataset, after: xr.Dataset) -> bool:
    if "y0" in before and "y0" in after:
        return bool(np.array_equal(before["y0"].values, after["y0"].values))
    return all(
        np.array_equal(before[axis].values, after[axis].values)
        for axis in before["label"].dims
        if axis in after.coords
    )
