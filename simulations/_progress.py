"""Progress bars for long work."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")


def progress_bar(items: Iterable[T], label: str, enabled: bool, unit_size: int = 1) -> Iterator[T]:
    """Iterate over `items`, showing a bar on stderr when `enabled` and there are several.

    Each item stands for `unit_size` trajectories, so the bar counts trajectories.
    """
    items = list(items)
    if not enabled or len(items) < 2:
        yield from items
        return
    with tqdm(total=len(items) * unit_size, desc=label, unit="traj", unit_scale=True) as bar:
        for item in items:
            yield item
            bar.update(unit_size)
