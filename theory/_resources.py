"""Memory that a piece of work will need, checked before anything is allocated."""

from __future__ import annotations

import os
import pathlib

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")


def _readable(size: float) -> str:
    for unit in _UNITS:
        if size < 1024 or unit == _UNITS[-1]:
            return f"{size:.3g} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def available_memory() -> int | None:
    """Bytes of memory this process can still use: `MemAvailable` from
    `/proc/meminfo` where there is one, else the physical memory, else `None`."""
    try:
        for line in pathlib.Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def ensemble_bytes(trajectories: int, dim: int, saved_per_trajectory: int = 1) -> int:
    """Bytes that an ensemble's results take: initial and final states, times, status
    and labels, as arrays and as the dataset that holds them, times
    `saved_per_trajectory` states kept along each trajectory."""
    per_trajectory = 8 * dim * (2 + 2 * saved_per_trajectory) + 48
    return int(trajectories) * per_trajectory


def transformer_training_bytes(
    dim: int, points: int, width: int, depth: int, heads: int, batch: int, eval_batch: int
) -> int:
    """Bytes, in float64, that training the in-context transformer needs at least: the
    parameters with their gradients and Adam's two moments, the activations that
    backpropagation keeps (per token and block: the stream, the attention's queries,
    keys, values and output, the MLP's hidden layer; per head and block the
    attention weights), the training prompts, and the held-out prompts of the final
    evaluation with their least-squares baseline."""
    tokens = 2 * points
    parameters = dim * width + tokens * width + depth * (12 * width**2 + 13 * width) + 3 * width
    activations = batch * depth * (tokens * width * 12 + heads * tokens**2)
    prompts = batch * points * (dim + 1) * 2
    evaluation = eval_batch * points * (dim + 1) * (points + 2)
    return 8 * (4 * parameters + 2 * activations + prompts + evaluation)


# What one parameter value of a continuation keeps until the end: its attractors
# (name, kind, location, extent, predicates) and their counts, in Python objects.
_CONTINUATION_VALUE_BYTES = 4096


def continuation_bytes(values: int, trajectories: int, dim: int) -> int:
    """Bytes that a continuation needs: one value's ensemble at a time, and the
    attractors and counts of every value, kept to the end."""
    return ensemble_bytes(trajectories, dim) + int(values) * _CONTINUATION_VALUE_BYTES


def require_memory(needed: int, what: str, advice: str = "use fewer points") -> None:
    """Refuse work whose results would not fit in memory.

    **Arguments:**

    - `needed`: the estimated bytes.
    - `what`: the work, for the message (`"a 1000000x1000000 map"`).
    - `advice`: what to change, for the message.

    **Raises:**

    - `ValueError`: `needed` exceeds the memory available; the message gives both.
    """
    available = available_memory()
    if available is not None and needed > available:
        raise ValueError(
            f"{what} needs about {_readable(needed)} of memory, more than the "
            f"{_readable(available)} available; {advice}"
        )


def require_training_memory(
    dim: int, points: int, width: int, depth: int, heads: int, batch: int, eval_batch: int
) -> None:
    """Refuse in-context transformer training that would not fit in memory (see
    `transformer_training_bytes`).

    **Raises:**

    - `ValueError`: the message gives the estimate and the sizes to lower.
    """
    require_memory(
        transformer_training_bytes(dim, points, width, depth, heads, batch, eval_batch),
        f"training a width-{width}, depth-{depth} transformer on {batch} prompts of "
        f"{points} pairs in d = {dim}",
        "use a smaller dim, number of points, width, depth or batch",
    )


def require_continuation_memory(values: int, trajectories: int, dim: int) -> None:
    """Refuse a continuation whose record would not fit in memory (see
    `continuation_bytes`).

    **Raises:**

    - `ValueError`: the message gives the estimate.
    """
    require_memory(
        continuation_bytes(values, trajectories, dim),
        f"a continuation over {values} values of {trajectories} samples",
        "use fewer values or samples",
    )
