"""Saving and loading results as NetCDF."""

from __future__ import annotations

import hashlib
import io
import json
import os
import pathlib

import numpy as np
import xarray as xr

from ._atomic import atomic_output

# The attribute that holds the SHA-256 of a result's data, written by `save`.
CHECKSUM_ATTRIBUTE = "data_checksum"


class ResultFileError(ValueError):
    """A file that is not a readable basinlab result: garbled, truncated, not NetCDF,
    NetCDF written by something else, or data that fails its checksum. The message
    names the file."""


def data_checksum(result: xr.Dataset) -> str:
    """SHA-256 over the name, dimensions, type, shape and values of every variable
    and coordinate (attributes aside), in name order.

    Text is hashed as text, whatever array type holds it, so the checksum of a
    result and of the same result read back from NetCDF agree.
    """
    digest = hashlib.sha256()
    for name in sorted(map(str, result.variables)):
        variable = result.variables[name]
        values = np.asarray(variable.values)
        text = values.dtype.kind in "OUS"
        kind = "text" if text else values.dtype.str
        digest.update(f"{name}|{variable.dims}|{kind}|{values.shape}|".encode())
        if text:
            digest.update("\x1f".join(map(str, values.ravel().tolist())).encode())
        else:
            digest.update(np.ascontiguousarray(values).tobytes())
    return digest.hexdigest()


def save(result: xr.Dataset, path: str | os.PathLike) -> pathlib.Path:
    """Write a result to a NetCDF-4 file (through h5netcdf), creating its directory.

    The file is written to a temporary file beside it and renamed into place, so it is
    never seen half-written, and two writers of one path leave one whole file. The
    SHA-256 of the data (`data_checksum`) goes into the attribute `data_checksum`,
    and `load` checks it, so a flipped byte is caught rather than read as other
    labels.

    **Arguments:**

    - `result`: a dataset from basinlab.
    - `path`: the file to write; conventionally `*.nc`. An existing file is replaced.

    **Returns:**

    The path written.

    **Raises:**

    - `TypeError`: `result` is not an `xarray.Dataset`.
    - `OSError`: the file cannot be written (a full disk, say); the message names it,
      and no part of it is left behind.
    """
    if not isinstance(result, xr.Dataset):
        raise TypeError(f"can only save an xarray.Dataset, got {type(result).__name__}")
    path = pathlib.Path(path)
    stamped = result.assign_attrs({CHECKSUM_ATTRIBUTE: data_checksum(result)})
    # Encoded in memory first: HDF5 writing straight to a disk that fills up fails in
    # hundreds of lines and can crash the process, while a plain write fails cleanly.
    encoded = io.BytesIO()
    stamped.to_netcdf(encoded, engine="h5netcdf")
    try:
        with atomic_output(path) as temporary:
            temporary.write_bytes(encoded.getbuffer())
    except OSError as error:
        reason = error.strerror or type(error).__name__
        size = encoded.getbuffer().nbytes
        raise OSError(
            error.errno, f"could not write {path} ({size} bytes): {reason}; nothing was written"
        ) from None
    return path


def _is_basinlab(attrs: dict) -> bool:
    try:
        return "basinlab" in json.loads(attrs.get("versions", ""))
    except (TypeError, ValueError):
        return False


def load(path: str | os.PathLike) -> xr.Dataset:
    """Read a result written by [`basinlab.save`][], fully into memory.

    **Raises:**

    - `FileNotFoundError`: there is no such file.
    - `basinlab.ResultFileError` (a `ValueError`): the file cannot be read as NetCDF
      (garbled or truncated), it is NetCDF but not a basinlab result (it lacks
      the `versions` attribute that every basinlab result carries), or its data
      fail the checksum recorded when it was saved. Files saved before checksums
      were recorded load without the check.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no result file at {path}")
    try:
        result = xr.load_dataset(path, engine="h5netcdf")
    except Exception as error:  # any failure of the reader means a bad file
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ResultFileError(
            f"{path} is not a readable NetCDF result file (garbled or truncated?): {reason}"
        ) from None
    if not _is_basinlab(result.attrs):
        hint = ""
        try:
            import h5py

            with h5py.File(path, "r") as handle:
                if "posterior" in handle:
                    hint = "; it holds an ArviZ InferenceData, read it with arviz.from_netcdf"
        except OSError:
            pass
        raise ResultFileError(
            f"{path} is a NetCDF file but not a basinlab result (no basinlab versions "
            f"attribute){hint}"
        )
    recorded = result.attrs.pop(CHECKSUM_ATTRIBUTE, None)
    if recorded is not None and recorded != data_checksum(result):
        raise ResultFileError(
            f"{path} is damaged: its data do not match the checksum recorded when it was "
            "saved; compute it again"
        )
    return result
