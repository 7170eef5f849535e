"""Attractors found with no prior knowledge, by recurrences on a grid (Datseris &
Wagemakers 2022), as an ensemble in JAX."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Mapping

import diffrax as dfx
import jax
import jax.numpy as jnp
import numpy as np
import numpyro.distributions as dist
import optimistix as optx
import xarray as xr
from jaxtyping import Array, Float, Int

from ...theory import MAP, Model
from ...theory._checks import check_seed
from .._basin._attractors import Attractor, _format
from .._basin._basins import _check_confidence
from .._basin._sampling import sample_states
from .._engine._compile import CompiledModel
from .._engine._integrate import as_compiled
from .._engine._progress import Progress
from .._engine._settings_argument import settings_argument
from .._engine._solver_settings import DIVERGED, UNCONVERGED
from ._attractor_kind import FIXED_POINT
from ._found_attractors import described_attractor, found_dataset
from ._recurrence_settings import RecurrenceSettings
from ._state_grid import OUTSIDE, StateGrid, state_grid

# Outcomes inside the search, besides an attractor's index, DIVERGED and UNCONVERGED.
_PENDING = -3
_FOUND = -4
_NO_ATTRACTOR = -1  # a cell that belongs to no attractor
# Trajectories advanced together in one compiled call, for at most this many samples.
_BATCH = 8192
_SLICE = 500
# Solver steps allowed within one sample of a flow.
_MOST_SUBSTEPS = 4096
# A recording that lies mostly (by samples) in one known attractor's cells is that
# attractor, seen more fully; less overlap than this means two attractors share cells.
_SAME_ATTRACTOR = 0.5
# An attractor is recorded until a stretch of `record_steps` adds fewer new cells than
# this share of those it has, or for at most this many stretches.
_COVERED = 0.02
_MOST_STRETCHES = 50
# Members of each attractor followed further to check that they behave as on it.
_CHECKED_MEMBERS = 16


def _sampler(compiled: CompiledModel, p: Float[Array, " m"], settings: RecurrenceSettings):
    """The state one sample later: one step of a map; for a flow, `interval` later by
    Tsit5 with adaptive steps (a fixed step would blow up on a stiff stretch far out),
    or, with a Poincaré section, the next upward crossing of it (located by Newton's
    method on the dense solution), or where the run is after `interval` without one.
    A solve that stops early gives the state it reached.

    **Raises:**

    - `ValueError`: a section on a map, or on a state the model does not have.
    """
    if compiled.kind == MAP:
        if settings.section_state is not None:
            raise ValueError("a Poincare section samples a flow; a map is sampled every step")
        return lambda y: compiled.vector_field(0.0, y, p)
    term, solver = dfx.ODETerm(compiled.vector_field), dfx.Tsit5()
    controller = dfx.PIDController(rtol=settings.rtol, atol=settings.atol)

    def solve(y, t1, event=None):
        solution = dfx.diffeqsolve(
            term,
            solver,
            0.0,
            t1,
            settings.dt,
            y,
            p,
            stepsize_controller=controller,
            saveat=dfx.SaveAt(t1=True),
            max_steps=_MOST_SUBSTEPS,
            event=event,
            throw=False,
        )
        # Where the solver stopped early (a root find at noise level near a focus, a
        # stiff stretch) its last state is still on the trajectory; a run that blew up
        # is not finite there, and counts as diverged.
        return solution.ys[-1]

    if settings.section_state is None:
        return lambda y: solve(y, settings.interval)
    if settings.section_state not in compiled.state_names:
        raise ValueError(
            f"section_state {settings.section_state!r} is not a state of {compiled.name!r}: "
            f"{list(compiled.state_names)}"
        )
    index = list(compiled.state_names).index(settings.section_state)
    crossing = dfx.Event(
        lambda t, y, args, **kwargs: y[index] - settings.section_value,
        root_finder=optx.Newton(rtol=settings.rtol, atol=settings.atol),
        direction=True,
    )

    def advance(y):
        # One step off the section first, so that a state on it is not its own crossing.
        return solve(solve(y, settings.dt), settings.interval, crossing)

    return advance


class _Search:
    """The compiled pieces of one search: reaching a known attractor, finding a new
    one, and recording one."""

    def __init__(self, advance: Callable, grid: StateGrid, settings: RecurrenceSettings):
        self.grid, self.settings = grid, settings
        self.reach = jax.jit(jax.vmap(self._reach, in_axes=(0, None)))
        self.find = jax.jit(self._find)
        self.record = jax.jit(jax.vmap(self._record))
        self._advance = advance

    def _observe(self, y, owner, hits, last, lost):
        """Advance one sample; count the samples in a row in one attractor's cells and
        outside the grid; the outcome so far."""
        y = self._advance(y)
        cell = self.grid.cell_of(y)
        inside = cell != OUTSIDE
        label = jnp.where(inside, owner[jnp.maximum(cell, 0)], _NO_ATTRACTOR).astype(jnp.int32)
        hits = jnp.where(label >= 0, jnp.where(label == last, hits + 1, 1), 0)
        lost = jnp.where(inside, 0, lost + 1)
        gone = (lost >= self.settings.lost_steps) | ~jnp.all(jnp.isfinite(y))
        outcome = jnp.where(hits >= self.settings.hits, label, jnp.where(gone, DIVERGED, _PENDING))
        return y, cell, inside, hits, label, lost, outcome

    def _reach(self, y: Float[Array, " n"], owner: Int[Array, " cells"]):
        budget = _SLICE

        def going(carry):
            return (carry[-1] == _PENDING) & (carry[1] < budget)

        def sample(carry):
            y, steps, hits, last, lost, _ = carry
            y, _, _, hits, last, lost, outcome = self._observe(y, owner, hits, last, lost)
            return y, steps + 1, hits, last, lost, outcome

        zero = jnp.zeros((), jnp.int32)
        start = (y, zero, zero, zero - 1, zero, zero + _PENDING)
        y, steps, _, _, _, outcome = jax.lax.while_loop(going, sample, start)
        return y, outcome, steps

    def _find(self, y: Float[Array, " n"], owner: Int[Array, " cells"]):
        size = self.grid.size

        def going(carry):
            return (carry[-1] == _PENDING) & (carry[1] < self.settings.max_steps)

        def sample(carry):
            y, steps, hits, last, lost, visited, streak, _ = carry
            y, cell, inside, hits, last, lost, outcome = self._observe(y, owner, hits, last, lost)
            seen = inside & visited[jnp.maximum(cell, 0)]
            streak = jnp.where(seen, streak + 1, 0)
            visited = visited.at[jnp.where(inside, cell, size)].set(True, mode="drop")
            found = (outcome == _PENDING) & (streak >= self.settings.recurrences)
            outcome = jnp.where(found, _FOUND, outcome)
            return y, steps + 1, hits, last, lost, visited, streak, outcome

        zero = jnp.zeros((), jnp.int32)
        visited = jnp.zeros(size, bool)
        start = (y, zero, zero, zero - 1, zero, visited, zero, zero + _PENDING)
        y, steps, *_, outcome = jax.lax.while_loop(going, sample, start)
        return y, outcome, steps

    def _record(self, y: Float[Array, " n"]):
        def sample(y, _):
            y = self._advance(y)
            return y, (y, self.grid.cell_of(y))

        return jax.lax.scan(sample, y, None, length=self.settings.record_steps)[1]


def find_attractors(
    model: Model | CompiledModel,
    p0: dist.Distribution,
    *,
    grid: object,
    n: int = 1000,
    seed: int = 0,
    params: Mapping[str, float] | None = None,
    settings: RecurrenceSettings | None = None,
    confidence: float = 0.95,
    progress: bool = False,
) -> xr.Dataset:
    r"""Find the attractors of a flow or map, and the fraction of starts drawn from
    `p0` that each attracts, with no prior knowledge of them: by recurrences on a grid
    (G. Datseris and A. Wagemakers, "Effortless estimation of basins of attraction",
    Chaos 32, 023104, 2022).

    State space is cut into boxes (`grid`). A trajectory, sampled every step of a map
    or every `interval` of a flow, is followed box by box:

    - once `hits` samples in a row lie in one known attractor's boxes, the start is
      in that attractor's basin;
    - once `lost_steps` samples in a row lie outside the grid (or a state is not
      finite), it diverged;
    - while it meets no known attractor, it remembers the boxes it visits, and once
      `recurrences` samples in a row return to boxes it has visited before, it has
      found an attractor: the boxes of the next `record_steps` samples *are* that
      attractor, so a chaotic attractor is a set of boxes, not a bounding box.

    Here the starts are advanced together, compiled in JAX, towards the attractors
    known so far, 500 samples at a time; after each such slice the start that has gone
    longest without meeting one searches for a new attractor on its own (or, merely
    slow, meets a known one). Each attractor is then classified by
    [`basinlab.lyapunov_spectrum`][] from its recording: a fixed point, a periodic
    orbit (a limit cycle of a flow; a map's with its period), quasi-periodic or
    chaotic.

    A grid too coarse to tell attractors apart is reported, not labelled silently: a
    new recording that shares boxes with a known attractor without lying mostly in
    them (two attractors in common boxes), or members of an attractor that, followed
    further, come to rest off it (or, for a fixed point, neither rest at it nor
    approach it), raise `ValueError`. Two attractors whose boxes coincide entirely
    cannot be told apart by any check: the boxes must be finer than the gap between
    them. Starts that find no recurrence within `max_steps` are `UNCONVERGED`, with a
    warning: the grid is too fine for `max_steps`.

    **Arguments:**

    - `model`: a flow or a map.
    - `p0`: a NumPyro distribution of starts, of event or batch shape `(n_states,)`.
    - `grid`: one `(low, high, cells)` per state.
    - `n`: how many starts.
    - `seed`: the seed of the starts.
    - `params`: parameter overrides by name.
    - `settings`: a [`basinlab.RecurrenceSettings`][].
    - `confidence`: of the Wilson intervals on the fractions.
    - `progress`: show a bar as starts are labelled.

    **Returns:**

    An `xarray.Dataset` laid out as [`basinlab.basin_fractions`][]' (`y0`, `label`,
    the attractor table and each outcome's `count`, `fraction`, `fraction_low` and
    `fraction_high`), with `steps` (the samples each start took),
    `attractor_exponents` over (`attractor`, `exponent`), 64 states spread over each
    attractor's recording (`attractor_sample` over `sample` too), and its boxes:
    `cell_attractor`, `cell_index` (the box's number, in C order) and `cell_centre`
    over `cell`. The grid is in the attrs, as JSON.

    **Raises:**

    - `ValueError`: a bad grid, `p0` of the wrong shape, `n` or `seed` out of range,
      an unknown parameter, or a grid too coarse (above).
    - `TypeError`: `settings` is not a `RecurrenceSettings`, or `p0` not a
      distribution.
    """
    compiled = as_compiled(model)
    settings = settings_argument(settings, RecurrenceSettings)
    cells = state_grid(grid, compiled.state_names)
    _check_confidence(confidence)
    seed = check_seed(seed)
    y0s = sample_states(p0, n, seed, len(compiled.state_names))
    p = compiled.param_vector(params)
    search = _Search(_sampler(compiled, p, settings), cells, settings)
    owner = np.full(cells.size, _NO_ATTRACTOR, np.int32)
    outcome = np.full(len(y0s), _PENDING, np.int32)
    steps = np.zeros(len(y0s), np.int64)
    ys = y0s.astype(compiled.dtype)
    recordings: list[np.ndarray] = []
    with Progress(len(y0s), "finding attractors", progress) as bar:
        while np.any(outcome == _PENDING):
            if recordings:
                _reach_known(search, owner, ys, outcome, steps, bar)
            pending = np.flatnonzero(outcome == _PENDING)
            if len(pending) == 0:
                break
            # The start that has gone longest without meeting a known attractor looks
            # for a new one (or, merely slow, meets a known one), one per slice.
            row = pending[np.argmax(steps[pending])]
            y, found, taken = search.find(jnp.asarray(ys[row]), jnp.asarray(owner))
            ys[row], steps[row] = np.asarray(y), steps[row] + int(taken)
            found = int(found)
            if found == _PENDING:
                outcome[pending] = UNCONVERGED
                bar.advance(len(pending))
                warnings.warn(
                    f"{len(pending)} starts found no recurrence within max_steps = "
                    f"{settings.max_steps} samples: the grid may be too fine for it",
                    stacklevel=2,
                )
                break
            if found != _FOUND:
                outcome[row] = found
                bar.advance(1)
                continue
            states, visited = _recording(search, ys[row])
            outcome[row] = _add_recording(owner, recordings, states, visited, cells)
            bar.advance(1)
    attractors, exponents = [], []
    for k, states in enumerate(recordings):
        attractor, spectrum = described_attractor(compiled, p, states, settings, k)
        attractors.append(attractor)
        exponents.append(spectrum)
        _check_members(search, ys[outcome == k], attractor, cells, k)
    cell = np.flatnonzero(owner >= 0)
    dim = len(compiled.state_names)
    data = {
        "steps": ("trajectory", steps),
        "cell_attractor": ("cell", owner[cell]),
        "cell_index": ("cell", cell),
        "cell_centre": (("cell", "state"), cells.centres(cell).reshape(-1, dim)),
    }
    rows = zip(cells.low.tolist(), cells.high.tolist(), cells.cells.tolist())
    attrs = {
        "kind": "find_attractors",
        "method": "recurrences on a grid (Datseris & Wagemakers 2022)",
        "grid": json.dumps([list(row) for row in rows]),
    }
    return found_dataset(
        compiled,
        params,
        settings,
        p0,
        seed,
        confidence,
        y0s,
        outcome,
        attractors,
        exponents,
        recordings,
        data,
        attrs,
    )


def _recording(search: _Search, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Samples on an attractor just found and their cells: `record_steps` at a time
    until a stretch adds under `_COVERED` new cells (a chaotic attractor needs many
    stretches to be covered, a cycle one)."""
    states, cells = [], []
    known: set[int] = set()
    for _ in range(_MOST_STRETCHES):
        stretch, visited = (np.asarray(a)[0] for a in search.record(jnp.asarray(y[None])))
        states.append(stretch)
        cells.append(visited)
        y = stretch[-1]
        new = set(visited.tolist()) - known
        known |= new
        if len(new) < _COVERED * len(known):
            break
    return np.concatenate(states), np.concatenate(cells)


def _reach_known(
    search: _Search,
    owner: np.ndarray,
    ys: np.ndarray,
    outcome: np.ndarray,
    steps: np.ndarray,
    bar: Progress,
) -> None:
    """Run the pending starts towards the known attractors for one slice of
    `_SLICE` samples (a vmapped loop runs as long as its slowest member, so the
    finished are dropped between slices)."""
    owned = jnp.asarray(owner)
    pending = np.flatnonzero(outcome == _PENDING)
    for start in range(0, len(pending), _BATCH):
        rows = pending[start : start + _BATCH]
        y, reached, used = search.reach(jnp.asarray(ys[rows]), owned)
        ys[rows], outcome[rows] = np.asarray(y), np.asarray(reached)
        steps[rows] += np.asarray(used)
        bar.advance(int(np.sum(outcome[rows] != _PENDING)))


def _add_recording(
    owner: np.ndarray,
    recordings: list[np.ndarray],
    states: np.ndarray,
    visited: np.ndarray,
    grid: StateGrid,
) -> int:
    """Make a new recording an attractor (its boxes owned by it), or, if it lies
    mostly in one known attractor's boxes, more of that attractor; the index."""
    inside = visited[visited != OUTSIDE]
    if len(inside) == 0:
        raise ValueError(
            "an attractor was found outside the grid; widen the grid to hold the attractors"
        )
    known = owner[inside]
    others = np.unique(known[known >= 0])
    if len(others) == 0:
        recordings.append(states)
        owner[inside] = len(recordings) - 1
        return len(recordings) - 1
    share = np.mean(known >= 0)
    if len(others) == 1 and share >= _SAME_ATTRACTOR:
        k = int(others[0])
        owner[inside[known < 0]] = k
        recordings[k] = np.concatenate([recordings[k], states])
        return k
    shared = grid.centres(np.unique(inside[known >= 0])[:1])[0]
    raise ValueError(
        f"the grid is too coarse: an attractor shares cells (one at {_format(tuple(shared))}) "
        f"with attractor(s) {others.tolist()}; use more cells per axis"
    )


def _check_members(
    search: _Search, members: np.ndarray, attractor: Attractor, grid: StateGrid, k: int
) -> None:
    """Refuse an attractor whose members, followed `record_steps` further, do not
    behave as on it: members of a fixed point that neither rest at it nor approach it,
    or members of any attractor that come to rest elsewhere. Either means that two
    attractors share the attractor's boxes."""
    if len(members) == 0:
        return
    picked = np.linspace(0, len(members) - 1, min(_CHECKED_MEMBERS, len(members))).astype(int)
    start = members[picked]
    states = np.asarray(search.record(jnp.asarray(start))[0])
    end, before = states[:, -1], states[:, -2]
    scale = 1 + np.max(np.abs(end), axis=1)
    resting = np.max(np.abs(end - before), axis=1) < search.settings.settle_tol * scale
    if attractor.kind == FIXED_POINT:
        point = attractor.location
        distance = np.max(np.abs(end - point), axis=1)
        approach = distance < 0.5 * np.max(np.abs(start - point), axis=1)
        at_point = distance < 0.01 * np.min(grid.width)
        wrong = (resting & ~at_point) | (~resting & ~approach & ~at_point)
    elif search.settings.section_state is None:
        wrong = resting
    else:
        # On a section a cycle's samples repeat: resting says nothing there.
        wrong = np.zeros(len(start), bool)
    if np.any(wrong):
        raise ValueError(
            f"the grid is too coarse: starts labelled with {attractor.name} end "
            f"at {_format(tuple(end[np.argmax(wrong)]))}, off that attractor but in its "
            "cells; use more cells per axis"
        )
