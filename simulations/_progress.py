"""Progress bars for long work."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")


class Progress:
    """A progress bar on stderr that counts units of work as they finish.

    Safe to advance from several threads. Disabled, it does nothing. Use it as a
    context manager.

    **Arguments:**

    - `total`: the units of work (trajectories, steps) in all.
    - `label`: what is being done.
    - `enabled`: whether to show it.
    - `unit`: the name of one unit.
    """

    def __init__(self, total: int, label: str, enabled: bool, unit: str = "traj"):
        self._bar = tqdm(total=total, desc=label, unit=unit, unit_scale=True) if enabled else None
        self._lock = threading.Lock()

    def advance(self, count: int) -> None:
        """Count `count` more units as finished."""
        if self._bar is not None and count:
            with self._lock:
                self._bar.update(count)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc_info) -> None:
        if self._bar is not None:
            self._bar.close()


def progress_bar(
    items: Iterable[T], sizes: Sequence[int], label: str, enabled: bool, unit: str = "traj"
) -> Iterator[T]:
    """Iterate over `items`, with a bar on stderr when `enabled`.

    Item `i` stands for `sizes[i]` units of work (trajectories by default), so the bar
    counts them as their items finish.
    """
    with Progress(sum(sizes), label, enabled, unit) as bar:
        for item, size in zip(items, sizes):
            yield item
            bar.advance(size)
