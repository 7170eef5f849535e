"""Pictures of a calibration: data, posterior predictive band and prior band."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np


def _band(group, name: str, level: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    curves = group[name].values.reshape(-1, group.sizes["prediction_time"])
    tail = (1 - level) / 2
    low, median, high = np.nanquantile(curves, [tail, 0.5, 1 - tail], axis=0)
    return low, median, high


def plot_calibration(
    idata, name: str | None = None, level: float = 0.9, yscale: str = "linear", ax=None
):
    """Data, the posterior predictive band and the prior band of one fitted quantity.

    **Arguments:**

    - `idata`: the result of [`basinlab.calibrate`][].
    - `name`: the observed quantity to draw; the first one by default.
    - `level`: the central probability of the bands.
    - `yscale`: a matplotlib scale for the vertical axis, such as `"log"`.
    - `ax`: axes to draw on; a new figure by default.

    **Returns:**

    `(fig, ax)`.

    **Raises:**

    - `ValueError`: `idata` lacks the groups `calibrate` writes, an unknown `name`,
      or `level` outside (0, 1).
    """
    for group in ("observed_data", "posterior_predictive", "prior_predictive"):
        if group not in idata.groups():
            raise ValueError(f"not a calibration result: the group {group!r} is missing")
    names = list(idata.observed_data.data_vars)
    name = names[0] if name is None else name
    if name not in names:
        raise ValueError(f"{name!r} was not fitted; the fitted quantities are {names}")
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.4, 4.0), layout="constrained")
    else:
        fig = ax.figure
    grid = idata.posterior_predictive["prediction_time"].values
    percent = f"{100 * level:g}%"
    low, _, high = _band(idata.prior_predictive, name, level)
    ax.fill_between(grid, low, high, color="#bbbbbb", alpha=0.5, label=f"prior {percent}")
    low, median, high = _band(idata.posterior_predictive, name, level)
    ax.fill_between(grid, low, high, color="#4c72b0", alpha=0.4, label=f"posterior {percent}")
    ax.plot(grid, median, color="#4c72b0", lw=1.5, label="posterior median")
    data = idata.observed_data[name]
    ax.plot(data["time"].values, data.values, "o", ms=3, color="black", label="data")
    ax.set_xlabel("time")
    ax.set_ylabel(name)
    ax.set_yscale(yscale)
    ax.legend(frameon=False, fontsize="small")
    ax.set_title(f"calibration of {idata.posterior.attrs.get('model', 'the model')}")
    return fig, ax
