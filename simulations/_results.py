"""Saving and loading results as NetCDF."""

from __future__ import annotations

import os
import pathlib

import xarray as xr


def save(result: xr.Dataset, path: str | os.PathLike) -> pathlib.Path:
    """Write a result to a NetCDF-4 file (through h5netcdf), creating its directory.

    **Arguments:**

    - `result`: a dataset from basinlab.
    - `path`: the file to write; conventionally `*.nc`.

    **Returns:**

    The path written.

    **Raises:**

    - `TypeError`: `result` is not an `xarray.Dataset`.
    """
    if not isinstance(result, xr.Dataset):
        raise TypeError(f"can only save an xarray.Dataset, got {type(result).__name__}")
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    result.to_netcdf(path, engine="h5netcdf")
    return path


def load(path: str | os.PathLike) -> xr.Dataset:
    """Read a result written by [`basinlab.save`][], fully into memory.

    **Raises:**

    - `FileNotFoundError`: there is no such file.
    - `ValueError`: the file is not NetCDF.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no result file at {path}")
    try:
        return xr.load_dataset(path, engine="h5netcdf")
    except OSError as error:
        raise ValueError(f"{path} is not a NetCDF result file: {error}") from None
