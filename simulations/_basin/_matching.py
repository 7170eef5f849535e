"""Matching the attractors found at one parameter value to those of the previous
one: by distance, by basin overlap, or by basin enclosure (as Attractors.jl's
matchers, Datseris, Rossi & Wagemakers 2023)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._attractors import Attractor

DISTANCE = "distance"
OVERLAP = "overlap"
ENCLOSURE = "enclosure"
MATCHERS = (DISTANCE, OVERLAP, ENCLOSURE)


def attractor_distance(a: Attractor, b: Attractor) -> float:
    """Relative sup-distance of locations; infinite between a point and a set that is
    not one, or between orbits of different periods."""
    if a.period != b.period or (np.max(a.extent) == 0) != (np.max(b.extent) == 0):
        return np.inf
    scale = 1 + max(np.max(np.abs(a.location)), np.max(np.abs(b.location)))
    return float(np.max(np.abs(a.location - b.location))) / scale


def match_attractors(
    previous: Sequence[tuple[int, Attractor]], current: Sequence[Attractor], threshold: float
) -> list[int | None]:
    """Match `current` attractors to `(id, attractor)` pairs of the previous value,
    one to one: the closest pair first (greedy on sorted distances), none farther
    than `threshold`. Returns the matched id for each current attractor, or `None`
    for a new one."""
    # Ties are broken by the previous index and the current location, never by the
    # order of `current`, so the IDs do not depend on it.
    pairs = sorted(
        (
            (attractor_distance(old, new), i, tuple(new.location), j)
            for i, (_, old) in enumerate(previous)
            for j, new in enumerate(current)
        )
    )
    matched: list[int | None] = [None] * len(current)
    used = set()
    for distance, i, _, j in pairs:
        if distance > threshold:
            break
        if i in used or matched[j] is not None:
            continue
        matched[j] = previous[i][0]
        used.add(i)
    return matched


def _one_to_one(
    scores: list[tuple[float, int, int]], previous: Sequence[tuple[int, Attractor]], count: int
) -> list[int | None]:
    """Greedy one-to-one matching on `(score, previous index, current index)`,
    lowest score first."""
    matched: list[int | None] = [None] * count
    used = set()
    for _, i, j in sorted(scores):
        if i in used or matched[j] is not None:
            continue
        matched[j] = previous[i][0]
        used.add(i)
    return matched


def match_by_overlap(
    previous: Sequence[tuple[int, Attractor]],
    previous_labels: np.ndarray,
    current: Sequence[Attractor],
    current_labels: np.ndarray,
) -> list[int | None]:
    r"""Match by the overlap of basins over the same samples (labels at the two
    values): the pair with the largest Jaccard index $|B \cap B'|/|B \cup B'|$ first,
    one to one; attractors whose basins share no sample do not match. An attractor
    whose basin holds no sample at either value (seen only from the seeded starts) is
    matched by distance to one equally unsampled."""
    scores = []
    for i, (_, old) in enumerate(previous):
        before = previous_labels == i
        for j, new in enumerate(current):
            after = current_labels == j
            union = np.sum(before | after)
            if union:
                shared = np.sum(before & after)
                if shared:
                    scores.append((1 - shared / union, i, j))
            elif np.isfinite(distance := attractor_distance(old, new)):
                scores.append((1 + distance, i, j))
    return _one_to_one(scores, previous, len(current))


def match_by_enclosure(
    previous: Sequence[tuple[int, Attractor]],
    current: Sequence[Attractor],
    enclosing: Sequence[Sequence[int]],
) -> list[int | None]:
    """Match each current attractor to the previous attractor whose basin, at the
    previous value, holds it: `enclosing[j]` gives, for states on current attractor
    `j`, the indices (into `previous`) of the attractors they go to at the previous
    value (negative for none). The majority decides; when several current
    attractors lie in one previous basin, the closest by distance keeps the ID and
    the others are new."""
    scores = []
    for j, new in enumerate(current):
        votes = [i for i in enclosing[j] if i >= 0]
        if votes:
            i = max(set(votes), key=votes.count)
            scores.append((attractor_distance(previous[i][1], new), i, j))
    return _one_to_one(scores, previous, len(current))
