"""The folder a command writes into: one writer at a time, no silent overwrites."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import pathlib
import stat
from collections.abc import Mapping

LOCK_NAME = ".basinlab.lock"
# The attribute of a result file that records what the command that wrote it asked.
REQUEST_ATTRIBUTE = "request"


class FolderInUseError(OSError):
    """Another basinlab command is writing into the same output folder."""


def recorded_request(path: pathlib.Path) -> dict | None:
    """The request recorded in a result file, or `None` when it records none or cannot
    be read. Reads the attribute only, through h5py, not the data."""
    import h5py  # imported here: checking arguments must stay fast

    try:
        with h5py.File(path, "r") as handle:
            text = handle.attrs.get(REQUEST_ATTRIBUTE)
        return json.loads(text) if text is not None else None
    except (OSError, ValueError, TypeError):
        return None


def _differences(old: Mapping, new: Mapping) -> str:
    keys = [k for k in dict.fromkeys([*old, *new]) if old.get(k) != new.get(k)]
    return ", ".join(f"{k}: {json.dumps(old.get(k))} -> {json.dumps(new.get(k))}" for k in keys)


def _open_lock(path: pathlib.Path):
    """The lock file, opened for reading and writing without following a symbolic
    link: a link planted in the folder would otherwise have its target truncated.

    **Raises:**

    - `OSError`: the lock is a symbolic link or not a regular file.
    """
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        descriptor = os.open(path, flags, 0o644)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise OSError(
                f"the lock file {str(path)!r} is a symbolic link; remove it, basinlab "
                "will not write through it"
            ) from None
        raise
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise OSError(f"the lock file {str(path)!r} is not a regular file; remove it")
    return os.fdopen(descriptor, "r+")


class OutputFolder:
    """An output folder held by one command at a time.

    Entering creates the folder and takes an exclusive `flock` on its lock file; a
    second command that tries the same folder fails at once with a
    `FolderInUseError` naming the process that holds it. The operating system
    releases the lock when the holder exits, however it exits (`kill -9`
    included), so a lock is never left stale.

    A result file is claimed with `claim` before any work starts. Each result records
    the request that made it (the command, model, parameters, sizes, seed); a file
    made by another request is not overwritten unless `overwrite` is set, and the
    error says which settings differ. A file from the same request is simply written
    again, so a repeated or resumed command works.

    **Arguments:**

    - `path`: the folder.
    - `overwrite`: replace results made by other requests.

    **Raises:**

    - `ValueError`: `path` is empty or names a file.
    """

    def __init__(self, path: str | os.PathLike, overwrite: bool = False):
        if str(path).strip() == "":
            raise ValueError("--out must name a folder, got an empty string")
        self.path = pathlib.Path(path)
        if self.path.exists() and not self.path.is_dir():
            raise ValueError(f"--out {str(self.path)!r} is a file, not a folder")
        self.overwrite = overwrite
        self._lock = None

    def __enter__(self) -> OutputFolder:
        self.path.mkdir(parents=True, exist_ok=True)
        lock = _open_lock(self.path / LOCK_NAME)  # held until __exit__
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            lock.seek(0)
            holder = lock.read().strip() or "unknown"
            lock.close()
            if error.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise
            raise FolderInUseError(
                f"output folder {str(self.path)!r} is in use by another basinlab run "
                f"(pid {holder}); wait for it to finish or choose another --out"
            ) from None
        lock.seek(0)
        lock.truncate()
        lock.write(str(os.getpid()))
        lock.flush()
        self._lock = lock
        return self

    def __exit__(self, *exc_info) -> None:
        if self._lock is not None:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None

    def claim(self, name: str, request: Mapping[str, object]) -> pathlib.Path:
        """The path of result file `name`, checked to be free for `request`.

        **Raises:**

        - `ValueError`: the file exists, `overwrite` is not set, and it was made by
          another request (or records none).
        """
        path = self.path / name
        if self.overwrite or not path.exists():
            return path
        old = recorded_request(path)
        request = json.loads(json.dumps(request))  # as it reads back from the file
        if old == request:
            return path
        if old is None:
            reason = "a file that records no basinlab request (or cannot be read)"
        else:
            reason = f"a result made with other settings ({_differences(old, request)})"
        raise ValueError(
            f"{path} holds {reason}; pass --overwrite to replace it, or choose another --out"
        )
