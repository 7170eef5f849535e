"""What every comparison of a real run with its theory shares."""

from __future__ import annotations

import xarray as xr

# Theory curves are integrated far more tightly than the run's own fluctuations.
TIGHT = dict(rtol=1e-8, atol=1e-10, max_steps=200_000)


def check_experiment(run: xr.Dataset, experiment: str) -> None:
    """Raise `ValueError` unless `run` is a run of `experiment`."""
    if not isinstance(run, xr.Dataset) or run.attrs.get("experiment") != experiment:
        found = run.attrs.get("experiment") if isinstance(run, xr.Dataset) else type(run)
        raise ValueError(f"expected a {experiment} run, got {found!r}")
