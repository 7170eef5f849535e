"""Saving and loading results as NetCDF."""

from __future__ import annotations

import json
import os
import pathlib

import xarray as xr

from ._atomic import atomic_output


class ResultFileError(ValueError):
    """A file that is not a readable basinlab result: garbled, truncated, not NetCDF,
    or NetCDF written by something else. The message names the file."""


def save(result: xr.Dataset, path: str | os.PathLike) -> pathlib.Path:
    """Write a result to a NetCDF-4 file (through h5netcdf), creating its directory.

    The file is written to a temporary file beside it and renamed into place, so it is
    never seen half-written, and two writers of one path leave one whole file.

    **Arguments:**

    - `result`: a dataset from basinlab.
    - `path`: the file to write; conventionally `*.nc`. An existing file is replaced.

    **Returns:**

    The path written.

    **Raises:**

    - `TypeError`: `result` is not an `xarray.Dataset`.
    """
    if not isinstance(result, xr.Dataset):
        raise TypeError(f"can only save an xarray.Dataset, got {type(result).__name__}")
    path = pathlib.Path(path)
    with atomic_output(path) as temporary:
        result.to_netcdf(temporary, engine="h5netcdf")
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
      (garbled or truncated), or it is NetCDF but not a basinlab result (it lacks
      the `versions` attribute that every basinlab result carries).
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
    return result
