"""A wall-clock limit for symbolic work that SymPy cannot bound by itself."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator


class TimeLimitExceeded(Exception):
    """Raised inside a `time_limit` block that ran past its limit."""


@contextlib.contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Interrupt the block with `TimeLimitExceeded` after `seconds` of wall time.

    SymPy's solvers and simplifiers have no timeout of their own, and some inputs make
    them run for hours. The limit uses `SIGALRM`, so it applies only in the main
    thread of a POSIX process; elsewhere, and for `seconds=None`, the block runs
    unbounded.

    **Arguments:**

    - `seconds`: the limit, or `None` for none.

    **Raises:**

    - `TimeLimitExceeded`: the block ran past the limit.
    - `ValueError`: `seconds` is not positive.
    """
    if seconds is not None and not seconds > 0:
        raise ValueError(f"time limit must be positive, got {seconds}")
    usable = (
        seconds is not None
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )
    if not usable:
        yield
        return

    def _interrupt(signum, frame):
        raise TimeLimitExceeded(f"ran past {seconds} s")

    previous = signal.signal(signal.SIGALRM, _interrupt)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
