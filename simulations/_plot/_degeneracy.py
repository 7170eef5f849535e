"""Pictures of degeneracy and warning signs: an LLC estimate's chains, and early-warning
signals against their prediction."""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr


def _require(result: object, kind: str, caller: str) -> None:
    if not isinstance(result, xr.Dataset) or result.attrs.get("kind") != kind:
        raise ValueError(f"{caller} needs the result of basinlab.{kind}")


def plot_llc_trace(result: xr.Dataset, ax: plt.Axes | None = None) -> tuple[plt.Figure, plt.Axes]:
    r"""Draw each chain's $n\beta(L(w_t) - L^*)$ at the central $\gamma$, its running
    mean, and the estimate with its standard error: chains that have not settled
    drift, and chains that disagree separate.

    **Arguments:**

    - `result`: the result of [`basinlab.local_learning_coefficient`][].
    - `ax`: axes to draw on; a new figure otherwise.

    **Returns:**

    `(fig, ax)`.

    **Raises:**

    - `ValueError`: `result` is not from `local_learning_coefficient`.
    """
    _require(result, "local_learning_coefficient", "plot_llc_trace")
    fig, ax = plt.subplots(figsize=(7, 4)) if ax is None else (ax.figure, ax)
    gamma = result["gamma"].values[
        np.argmin(np.abs(np.log(result["gamma"].values / result.attrs["gamma"])))
    ]
    trace = result["trace"].sel(gamma=gamma).values
    draws = result["draw"].values
    for chain in trace:
        ax.plot(draws, chain, lw=0.3, alpha=0.4)
        ax.plot(draws, np.cumsum(chain) / (draws + 1), lw=1.2)
    estimate, error = result.attrs["estimate"], result.attrs["std_error"]
    ax.axhline(estimate, color="k", lw=1.5, label=f"estimate {estimate:.3f} ± {error:.3f}")
    ax.axhspan(estimate - 2 * error, estimate + 2 * error, color="k", alpha=0.1)
    ax.set_xlabel("draw (after burn-in)")
    ax.set_ylabel(r"$n\beta\,(L(w_t) - L(w^*))$")
    # The diagnosis can list several problems: wrapped, so that none is cut off.
    title = f"SGLD chains, gamma = {gamma:g}: {result.attrs['diagnosis']}"
    ax.set_title("\n".join(textwrap.wrap(title, 100)), fontsize=8)
    ax.legend(fontsize=8)
    return fig, ax


def plot_early_warning(
    result: xr.Dataset, axes: np.ndarray | None = None
) -> tuple[plt.Figure, np.ndarray]:
    """Draw the measured variance and lag-1 autocorrelation (mean and spread over runs)
    against the Lyapunov-equation prediction (and, for the autocorrelation, its
    expected sample value over the series' length), and the area under the receiver-operating
    curve of each, over the distance to the exact bifurcation, with the warning
    horizons marked.

    **Arguments:**

    - `result`: the result of [`basinlab.early_warning`][].
    - `axes`: three axes to draw on; a new figure otherwise.

    **Returns:**

    `(fig, axes)`.

    **Raises:**

    - `ValueError`: `result` is not from `early_warning`.
    """
    _require(result, "early_warning", "plot_early_warning")
    if axes is None:
        fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    else:
        fig = axes[0].figure
    distance = result["distance"].values
    for ax, name, label in (
        (axes[0], "variance", "variance"),
        (axes[1], "autocorrelation", "lag-1 autocorrelation"),
    ):
        runs = result[name].values
        ax.errorbar(
            distance,
            np.nanmean(runs, axis=1),
            yerr=np.nanstd(runs, axis=1),
            fmt="o",
            label=f"measured ({result.attrs['measured']})",
        )
        ax.plot(distance, result[f"predicted_{name}"].values, "k-", label="Lyapunov equation")
        if name == "autocorrelation":
            # Over N samples the sample autocorrelation is low by about (1 + 4 rho)/N
            # (Kendall 1954): what the runs should show on average.
            rho = result["predicted_autocorrelation"].values
            expected = rho - (1 + 4 * rho) / result.attrs["samples"]
            ax.plot(distance, expected, "k--", lw=0.8, label="expected over the series' length")
        ax.set_xscale("log")
        ax.set_xlabel(f"distance to the {result.attrs['bifurcation_kind']} point")
        ax.set_ylabel(f"{label} of {result.attrs['observable']}")
        ax.legend(fontsize=8)
    for name, marker in (("variance", "o-"), ("autocorrelation", "s-")):
        axes[2].plot(distance, result[f"auc_{name}"].values, marker, label=name)
        horizon = result.attrs[f"horizon_{name}"]
        if horizon > 0:
            axes[2].axvline(horizon, ls=":", color=axes[2].lines[-1].get_color())
    axes[2].axhline(result.attrs["auc_level"], color="grey", lw=0.8)
    axes[2].set_xscale("log")
    axes[2].set_ylim(0.4, 1.02)
    axes[2].set_xlabel("distance to the bifurcation")
    axes[2].set_ylabel("AUC against the reference runs")
    axes[2].legend(fontsize=8)
    fig.tight_layout()
    return fig, axes
