"""The picture of an in-context training run: its loss, and error against prompt length."""

from __future__ import annotations

import matplotlib.pyplot as plt
import xarray as xr


def plot_in_context(record: xr.Dataset) -> tuple[plt.Figure, list[plt.Axes]]:
    """Two panels: the training loss against step, and each learner's normalised error
    against the number of pairs shown, with its standard error as a band.

    **Arguments:**

    - `record`: the record of [`train_in_context`][].

    **Returns:**

    The figure and its two axes.
    """
    fig, (loss_axis, error_axis) = plt.subplots(1, 2, figsize=(10.4, 4.0), layout="constrained")
    loss_axis.plot(record["step"], record["loss"])
    loss_axis.set_yscale("log")
    loss_axis.set_xlabel("step")
    loss_axis.set_ylabel("training loss / Var f")
    shown = record["shown"].values
    for learner in record["learner"].values:
        error = record["error"].sel(learner=learner).values
        band = record["error_sem"].sel(learner=learner).values
        width = 2.2 if learner == "transformer" else 1.2
        (line,) = error_axis.plot(shown, error, label=str(learner), linewidth=width)
        error_axis.fill_between(
            shown, error - band, error + band, color=line.get_color(), alpha=0.2
        )
    error_axis.axvline(record.attrs["dim"], color="grey", linestyle=":", label="k = d")
    error_axis.set_ylim(0, 1.6)
    error_axis.set_xlabel("pairs shown, k")
    error_axis.set_ylabel("squared error / Var f")
    error_axis.legend(fontsize=8)
    fig.suptitle(f"{record.attrs['function_class']}, d = {record.attrs['dim']}")
    return fig, [loss_axis, error_axis]
