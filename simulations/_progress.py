"""Progress bars for long work."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")


def progress_bar(
    items: Iterable[T], total: int, label: str, enabled: bool, unit_size: int = 1
) -> Iterator[T]:
    """Iterate over `items`, with a bar on stderr when `enabled` and `total > 1`.

    Each of the `total` items stands for `unit_size` trajectories, so the bar counts
    trajectories as they finish.
    """
    if not enabled or total < 2:
        yield from items
        return
    with tqdm(total=total * unit_size, desc=label, unit="traj", unit_scale=True) as bar:
        for item in items:
            yield item
            bar.update(unit_size)
