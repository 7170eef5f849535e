"""Pictures of an ensemble of training runs: paths by end state, and the shares."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

_COLOURS = ("#4c72b0", "#c44e52", "#55a868", "#8172b2", "#ccb974")


def plot_training_ensemble(
    record: xr.Dataset,
    observable: str,
    fractions: xr.Dataset,
    predicted: xr.Dataset | None = None,
    max_paths: int = 200,
):
    """The paths of one logged quantity, coloured by the end state of their run, beside
    the share of runs in each end state with its Wilson interval and, where given,
    the theory's share.

    **Arguments:**

    - `record`: the result of [`train_ensemble`][].
    - `observable`: one of its logged quantities.
    - `fractions`: [`ensemble_fractions`][] of `record`.
    - `predicted`: [`predicted_fractions`][] of `record`, or `None`.
    - `max_paths`: the most paths drawn.

    **Returns:**

    `(fig, axes)`, the paths on the left and the shares on the right.

    **Raises:**

    - `ValueError`: `observable` is not logged in `record`.
    """
    if observable not in record or record[observable].dims != ("run", "step"):
        raise ValueError(f"{observable!r} is not a logged quantity of this record")
    fig, (paths, shares) = plt.subplots(
        1, 2, figsize=(10, 4), layout="constrained", width_ratios=(2, 1)
    )
    names = [str(name) for name in record["end_state"].values]
    label = record["label"].values
    steps = record["step"].values
    for k, name in enumerate(names):
        runs = np.flatnonzero(label == k)[: max(1, max_paths // len(names))]
        for i, run in enumerate(runs):
            paths.plot(
                steps,
                record[observable].values[run],
                color=_COLOURS[k % len(_COLOURS)],
                alpha=0.3,
                linewidth=0.8,
                label=name if i == 0 else None,
            )
    paths.set_xlabel("step")
    paths.set_ylabel(observable)
    paths.legend(fontsize=8, title="end state")
    x = np.arange(len(names))
    fraction = fractions["fraction"].values
    error = np.abs(
        np.stack([fractions["fraction_low"].values, fractions["fraction_high"].values]) - fraction
    )
    shares.bar(x, fraction, yerr=error, color=_COLOURS[: len(names)], capsize=4, label="measured")
    if predicted is not None:
        shares.plot(x, predicted["fraction"].values, "k_", markersize=28, mew=2.5, label="theory")
        shares.legend(fontsize=8)
    shares.set_xticks(x, names)
    shares.set_ylim(0, 1)
    shares.set_ylabel(f"share of {record.attrs['n']} runs")
    return fig, (paths, shares)
