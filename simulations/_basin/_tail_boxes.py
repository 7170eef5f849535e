"""Grouping the bounding boxes of tails into the sets they move on."""

from __future__ import annotations

import numpy as np


def _overlap(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray], tol: float):
    """The least, over the axes, of the share of the two boxes' joint extent that
    both cover; 1 on an axis where both are points within `tol` of each other."""
    inner = np.minimum(a[1], b[1]) - np.maximum(a[0], b[0])
    outer = np.maximum(a[1], b[1]) - np.minimum(a[0], b[0])
    share = np.where(outer > tol, np.maximum(inner, 0) / np.maximum(outer, tol), 1.0)
    return float(np.min(share))


def overlapping_groups(
    boxes: list[tuple[np.ndarray, np.ndarray]], periods: list[int], tol: float, gap: float
) -> list[list[int]]:
    """Groups of boxes of one period joined by chains of boxes that overlap by half or
    more on every axis, or whose corners lie within `gap` (relative) of each other:
    the several boxes that trajectories on one chaotic attractor, or on one family of
    neutral orbits, visit."""
    parent = list(range(len(boxes)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            scale = 1 + max(np.max(np.abs(np.stack(boxes[i]))), np.max(np.abs(np.stack(boxes[j]))))
            near = np.max(np.abs(np.stack(boxes[i]) - np.stack(boxes[j]))) < gap * scale
            if periods[i] == periods[j] and (
                near or _overlap(boxes[i], boxes[j], tol * scale) >= 0.5
            ):
                parent[root(i)] = root(j)
    groups: dict[int, list[int]] = {}
    for i in range(len(boxes)):
        groups.setdefault(root(i), []).append(i)
    return list(groups.values())


def nested_boxes(boxes: list[tuple[np.ndarray, np.ndarray]], tol: float) -> bool:
    """Whether of every two boxes one holds the other: the concentric orbits of a
    neutral family (a centre, an involution), as opposed to the overlapping boxes
    that tails on one chaotic attractor visit."""
    for i, (low_i, high_i) in enumerate(boxes):
        for low_j, high_j in boxes[i + 1 :]:
            scale = tol * (1 + max(np.max(np.abs(high_i)), np.max(np.abs(high_j))))
            inside = np.all(low_i >= low_j - scale) and np.all(high_i <= high_j + scale)
            outside = np.all(low_j >= low_i - scale) and np.all(high_j <= high_i + scale)
            if not (inside or outside):
                return False
    return True
