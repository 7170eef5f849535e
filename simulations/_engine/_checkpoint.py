"""Finished chunks of long work on disk, so that an interrupted run resumes."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import pathlib
import warnings
from collections.abc import Mapping

import numpy as np

from .._storage._atomic import atomic_output

_CHECKSUM = "__checksum__"


class DamagedChunkWarning(UserWarning):
    """A stored chunk or training checkpoint failed its checksum or could not be read;
    it is deleted and its work done again."""


def _checksum(arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 over the names, dtypes, shapes and bytes of the arrays."""
    digest = hashlib.sha256()
    for key in sorted(arrays):
        array = np.ascontiguousarray(arrays[key])
        digest.update(f"{key}|{array.dtype.str}|{array.shape}|".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


@dataclasses.dataclass(frozen=True)
class ChunkStore:
    """A directory of finished chunks for one piece of work, keyed by its inputs.

    The key hashes everything that changes a result: the package versions and the
    source fingerprint, the model's equations, its floating-point type, the
    parameters, the initial conditions, the solver and its settings, and the chunk
    size (the caller's `key`), so a chunk is only ever read back by the same work
    done by the same code. Each chunk carries a SHA-256
    checksum of its arrays and is written to a temporary file that is renamed into
    place, so a chunk on disk is whole; one that is truncated or altered anyway is
    reported with a `DamagedChunkWarning`, deleted and computed again. Runs that share
    a directory compute identical chunks, so whichever rename comes last is right. A
    store without a directory keeps nothing.
    """

    directory: pathlib.Path | None

    @classmethod
    def open(
        cls, root: str | os.PathLike | None, key: Mapping[str, object], initial: np.ndarray
    ) -> ChunkStore:
        """The store under `root` for the work that `key` (JSON-able) and the initial
        conditions describe; a store that keeps nothing when `root` is `None`."""
        if root is None:
            return cls(None)
        digest = hashlib.sha256()
        digest.update(json.dumps(dict(key), sort_keys=True, default=str).encode())
        digest.update(np.ascontiguousarray(initial, dtype=float).tobytes())
        directory = pathlib.Path(root) / digest.hexdigest()[:20]
        directory.mkdir(parents=True, exist_ok=True)
        return cls(directory)

    def _path(self, index: int) -> pathlib.Path:
        assert self.directory is not None
        return self.directory / f"chunk_{index:06d}.npz"

    def read(self, index: int) -> dict[str, np.ndarray] | None:
        """The arrays of a finished chunk, or `None` if it is not on disk or damaged."""
        if self.directory is None or not self._path(index).exists():
            return None
        path = self._path(index)
        try:
            # Parsed from memory: np.load on a damaged file can leave the file open.
            with np.load(io.BytesIO(path.read_bytes()), allow_pickle=False) as saved:
                arrays = {key: saved[key] for key in saved.files}
            stored = str(arrays.pop(_CHECKSUM))
            problem = None if stored == _checksum(arrays) else "checksum mismatch"
        except Exception as error:  # any failure to read it means a damaged chunk
            problem = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
        if problem is None:
            return arrays
        warnings.warn(
            f"discarded damaged chunk {path} ({problem}); computing it again",
            DamagedChunkWarning,
            stacklevel=2,
        )
        path.unlink(missing_ok=True)
        return None

    def write(self, index: int, arrays: dict[str, np.ndarray]) -> None:
        """Write a finished chunk, with its checksum, atomically."""
        if self.directory is None:
            return
        with atomic_output(self._path(index)) as temporary, open(temporary, "wb") as file:
            np.savez(file, **arrays, **{_CHECKSUM: np.array(_checksum(arrays))})
