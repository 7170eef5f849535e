"""A training checkpoint as one file: a JSON header and the serialised leaves.

Model, optimiser state, step and losses are written together, to a temporary file
renamed into place, so a crash leaves the old checkpoint or the new one, never the
model of one step beside the step count of another. A SHA-256 of the header and
the leaves comes first, so a truncated or altered file is recognised as damaged.
"""

from __future__ import annotations

import hashlib
import io
import json
import pathlib
import warnings
from typing import Any

import equinox as eqx

from .._engine._checkpoint import DamagedChunkWarning
from .._storage._atomic import atomic_output

_MAGIC = b"basinlab training checkpoint 1\n"


def write_checkpoint(path: pathlib.Path, header: dict[str, Any], tree: Any) -> None:
    """Write `header` (JSON-able) and the leaves of `tree` to `path` as one file."""
    leaves = io.BytesIO()
    eqx.tree_serialise_leaves(leaves, tree)
    body = json.dumps(header).encode() + b"\n" + leaves.getvalue()
    checksum = hashlib.sha256(body).hexdigest().encode()
    with atomic_output(path) as temporary:
        temporary.write_bytes(_MAGIC + checksum + b"\n" + body)


def read_checkpoint(path: pathlib.Path, like: Any) -> tuple[dict[str, Any], Any] | None:
    """The header and the tree (shaped as `like`) stored at `path`.

    **Returns:**

    `None` when there is no file, and also when the file is damaged (not a
    checkpoint, a garbled header, leaves that fail their checksum or do not fit
    `like`): it is then reported with a `DamagedChunkWarning` naming it, and
    deleted, so that training starts again rather than from a wrong state.
    """
    if not path.exists():
        return None
    raw = path.read_bytes()
    checksum, _, body = raw[len(_MAGIC) :].partition(b"\n")
    if not raw.startswith(_MAGIC):
        problem = "not a basinlab training checkpoint"
    elif hashlib.sha256(body).hexdigest().encode() != checksum:
        problem = "checksum mismatch: truncated or altered"
    else:
        line, _, payload = body.partition(b"\n")
        try:
            return json.loads(line), eqx.tree_deserialise_leaves(io.BytesIO(payload), like)
        except Exception as error:  # leaves of another shape: another model
            problem = f"it does not fit the model ({type(error).__name__})"
    warnings.warn(
        f"discarded damaged checkpoint {path} ({problem}); training from the start",
        DamagedChunkWarning,
        stacklevel=2,
    )
    path.unlink(missing_ok=True)
    return None
