"""Progress bars for long work."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")

# Set by `interrupt_handler`: the work is stopping.
_interrupted = threading.Event()


def interrupt_handler(signum: int, frame: object) -> None:
    """A SIGINT handler for long work: it raises `KeyboardInterrupt` as Python's does,
    and also remembers the interrupt, so that the next `Progress.advance` raises it
    again. Python drops an exception raised while a garbage-collection callback runs
    (JAX registers one), so Ctrl-C at that moment would otherwise be lost and the
    work go on. Further interrupts while the work stops are absorbed, so that the
    chunks being finished are still written."""
    if _interrupted.is_set():
        return
    _interrupted.set()
    raise KeyboardInterrupt


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """Run long work that stops at Ctrl-C even when Python drops the interrupt (see
    `interrupt_handler`): the block ends in `KeyboardInterrupt` if one was caught at
    any point, however the work went on after it. Only in the main thread."""
    _interrupted.clear()
    previous = signal.signal(signal.SIGINT, interrupt_handler)
    try:
        yield
    finally:
        stopped = _interrupted.is_set()
        if not stopped:
            signal.signal(signal.SIGINT, previous)
    if stopped:
        raise KeyboardInterrupt


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
        """Count `count` more units as finished.

        **Raises:**

        - `KeyboardInterrupt`: in the main thread, once `interrupt_handler` has caught
          an interrupt, even one that Python dropped.
        """
        if _interrupted.is_set() and threading.current_thread() is threading.main_thread():
            raise KeyboardInterrupt
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
