"""Progress bars for long work."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")


def progress_bar(
    items: Iterable[T], sizes: Sequence[int], label: str, enabled: bool, unit: str = "traj"
) -> Iterator[T]:
    """Iterate over `items`, with a bar on stderr when `enabled` and there are several.

    Item `i` stands for `sizes[i]` units of work (trajectories by default), so the bar
    counts them as their items finish.
    """
    if not enabled or len(sizes) < 2:
        yield from items
        return
    with tqdm(total=sum(sizes), desc=label, unit=unit, unit_scale=True) as bar:
        for item, size in zip(items, sizes):
            yield item
            bar.update(size)
