"""Finished chunks of long work on disk, so that an interrupted run resumes."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pathlib

import numpy as np

from ..theory import Model
from ._provenance import versions


@dataclasses.dataclass(frozen=True)
class ChunkStore:
    """A directory of finished chunks for one piece of work, keyed by its inputs.

    The key hashes the package versions, the model's equations, the parameters, the
    initial conditions, the settings and the chunk size, so a chunk is only ever read
    back by the same work done by the same code. Each chunk is written to a temporary
    file and renamed into place, so a chunk on disk is always whole. A store without
    a directory keeps nothing.
    """

    directory: pathlib.Path | None

    @classmethod
    def open(
        cls,
        root: str | os.PathLike | None,
        model: Model,
        params: np.ndarray,
        initial: np.ndarray,
        settings: dict[str, object],
        chunk_size: int,
    ) -> ChunkStore:
        if root is None:
            return cls(None)
        digest = hashlib.sha256()
        description = {
            "versions": versions(),
            "model": model.name,
            "equations": model.equations(),
            "settings": settings,
            "chunk_size": chunk_size,
        }
        digest.update(json.dumps(description, sort_keys=True, default=str).encode())
        digest.update(np.ascontiguousarray(params, dtype=float).tobytes())
        digest.update(np.ascontiguousarray(initial, dtype=float).tobytes())
        directory = pathlib.Path(root) / digest.hexdigest()[:20]
        directory.mkdir(parents=True, exist_ok=True)
        return cls(directory)

    def _path(self, index: int) -> pathlib.Path:
        assert self.directory is not None
        return self.directory / f"chunk_{index:06d}.npz"

    def read(self, index: int) -> dict[str, np.ndarray] | None:
        """The arrays of a finished chunk, or `None` if it is not on disk."""
        if self.directory is None or not self._path(index).exists():
            return None
        with np.load(self._path(index)) as saved:
            return {key: saved[key] for key in saved.files}

    def write(self, index: int, arrays: dict[str, np.ndarray]) -> None:
        """Write a finished chunk atomically."""
        if self.directory is None:
            return
        temporary = self._path(index).with_suffix(".partial.npz")
        np.savez(temporary, **arrays)
        os.replace(temporary, self._path(index))
