"""Files written whole or not at all."""

from __future__ import annotations

import contextlib
import os
import pathlib
import uuid
from collections.abc import Iterator


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike) -> Iterator[pathlib.Path]:
    """A temporary path to write `path` to, renamed into place when the block ends.

    The temporary file lies in the same folder, so the rename is atomic: a reader
    (or a second run writing the same file) sees the old file or the new one, never
    a part of either. If the block raises, the temporary file is removed and `path`
    is left as it was. The folder is created if needed.

    **Arguments:**

    - `path`: the file to write.

    **Yields:**

    The temporary path; write the whole file to it.
    """
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # A fresh name per writer; created like any file, so the umask sets its mode.
    temporary = path.parent / f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.partial"
    temporary.open("xb").close()
    try:
        yield temporary
        with open(temporary, "rb+") as written:
            os.fsync(written.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def save_figure(figure, path: str | os.PathLike, dpi: int = 150) -> pathlib.Path:
    """Write a Matplotlib figure atomically, in the format its suffix names.

    **Arguments:**

    - `figure`: the figure.
    - `path`: the file, such as `map.png`.
    - `dpi`: its resolution.

    **Returns:**

    The path written.
    """
    path = pathlib.Path(path)
    with atomic_output(path) as temporary:
        figure.savefig(temporary, dpi=dpi, format=path.suffix.lstrip(".") or "png")
    return path
