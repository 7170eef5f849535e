r"""Iterated optimisation against a proxy that is refreshed between rounds."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr
from jaxtyping import ArrayLike, Float

from ...theory import Model
from ...theory._legacy_arguments import legacy_arguments
from ...theory.models import fresh_proxy
from .._engine._compile import CompiledModel
from .._engine._integrate import as_compiled
from .._engine._trajectories import trajectories


@legacy_arguments(positional=("params",))
def proxy_rounds(
    model: Model | CompiledModel,
    start: Float[ArrayLike, " 4"],
    times: Float[ArrayLike, " time"],
    round_starts: Float[ArrayLike, " rounds"],
    *,
    params: Mapping[str, float] | None = None,
    **setting_overrides,
) -> xr.Dataset:
    r"""Integrate the RL perceptron's order-parameter ODEs in rounds, each against a
    fresh proxy (Gao, Schulman & Hilton 2022, §4.3, in the stylised form of
    [`basinlab.models.reward_perceptron`][]).

    Round $j$ runs from `round_starts[j]` to the next round's start (the last to
    `times[-1]`). At the start of every round after the first the proxy is replaced by
    [`basinlab.models.fresh_proxy`][]: $S \leftarrow \rho R$ and $S_0 \leftarrow \rho
    R(0)$. A state saved at a round's first time is the state after the refresh, as
    [`basinlab.simulations.training.reward_perceptron_run`][] logs it.

    **Arguments:**

    - `model`: [`basinlab.models.reward_perceptron`][] (any $T$), or it compiled.
    - `start`: $(R, S, Q, I)$ at `times[0]`.
    - `times`: increasing save times in $\alpha$.
    - `round_starts`: increasing times of the rounds' starts; the first is
      `times[0]`, the others lie inside `(times[0], times[-1])`.
    - `params`: parameter overrides by name; `rho` is the proxies' overlap.
    - `**setting_overrides`: solver settings, as for [`basinlab.trajectories`][].

    **Returns:**

    An `xarray.Dataset` over `time` with `y` over `(time, state)`, the model's
    observables, `round` (the index of the round each time belongs to) and
    `solved` (whether every round's solve reached its end).

    **Raises:**

    - `ValueError`: a model without the state `R, S, Q, I`, `round_starts` that do
      not start at `times[0]`, do not increase or leave `times`, or anything
      [`basinlab.trajectories`][] refuses.
    """
    compiled = as_compiled(model)
    if tuple(compiled.state_names) != ("R", "S", "Q", "I"):
        raise ValueError(
            f"proxy_rounds needs the reward perceptron's state R, S, Q, I, "
            f"got {tuple(compiled.state_names)}"
        )
    times = np.asarray(times, float)
    starts = np.asarray(round_starts, float)
    if times.ndim != 1 or times.size < 2 or np.any(np.diff(times) <= 0):
        raise ValueError("times must be a strictly increasing sequence of at least 2 times")
    if (
        starts.ndim != 1
        or starts.size == 0
        or starts[0] != times[0]
        or np.any(np.diff(starts) <= 0)
        or starts[-1] >= times[-1]
    ):
        raise ValueError(
            "round_starts must increase from times[0] and the last must come before times[-1]"
        )
    params = {str(symbol): value for symbol, value in compiled.model.resolve_params(params).items()}
    rho = params["rho"]
    state = np.asarray(start, float)
    initial_true_overlap = float(state[0])
    ends = np.append(starts[1:], times[-1])
    pieces, rounds, solved = [], [], True
    for index, (begin, end) in enumerate(zip(starts, ends, strict=True)):
        if index > 0:
            state, params["S_0"] = fresh_proxy(state, rho, initial_true_overlap)
        last = index == len(starts) - 1
        kept = times[(times >= begin) & ((times <= end) if last else (times < end))]
        grid = np.unique(np.concatenate([[begin], kept, [end]]))
        path = trajectories(compiled, state[None], grid, params=params, **setting_overrides)
        solved &= bool(path["solved"].values[0])
        state = path["y"].values[0, -1]
        pieces.append(path.isel(trajectory=0).sel(time=kept))
        rounds.append(np.full(kept.size, index))
    result = xr.concat(pieces, dim="time", data_vars="minimal").drop_vars(
        ["solved", "holds"], errors="ignore"
    )
    return result.assign(round=("time", np.concatenate(rounds)), solved=solved)
