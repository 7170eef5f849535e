"""Pictures of a real run against its theory."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr


def plot_comparison(comparison: xr.Dataset, ax=None):
    """Draw a run and its theory, as returned by `compare_with_theory`.

    A teacher–student comparison shows $\\epsilon_g(\\alpha)$ of the run (dots) and of
    the ODE (line) on a log scale; a deep linear one shows each mode's strength
    $u_\\alpha(t)/s_\\alpha$ (dots) and its theory curve (lines).

    **Arguments:**

    - `comparison`: the result of
      [`basinlab.simulations.training.compare_with_theory`][].
    - `ax`: axes to draw on; a new figure by default.

    **Returns:**

    `(fig, ax)`.

    **Raises:**

    - `ValueError`: not a comparison of a known experiment.
    """
    experiment = comparison.attrs.get("experiment")
    if experiment not in ("teacher_student", "deep_linear") or "time" not in comparison:
        raise ValueError(f"not a comparison of a known experiment: {experiment!r}")
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.4, 4.0), layout="constrained")
    else:
        fig = ax.figure
    time = comparison["time"].values
    if experiment == "teacher_student":
        ax.plot(time, comparison["eps_g_run"], "o", ms=3, color="black", label="SGD run")
        ax.plot(time, comparison["eps_g_theory"], color="#4c72b0", label="ODE")
        ax.set_yscale("log")
        ax.set_xlabel(r"$\alpha$ = steps / N")
        ax.set_ylabel(r"$\epsilon_g$")
        gap = comparison.attrs["eps_g_max_gap"]
        ax.set_title(f"N = {comparison.attrs['N']}: max gap {gap:.2g}")
    else:
        colours = plt.get_cmap("viridis")(np.linspace(0, 0.9, comparison.sizes["mode"]))
        for colour, mode in zip(colours, comparison["mode"].values):
            s = float(comparison["s"].sel(mode=mode))
            run = comparison["u_run"].sel(mode=mode) / s
            ax.plot(time, run, "o", ms=2, color=colour, label=f"mode {mode}, s={s:.2f}")
            ax.plot(time, comparison["u_theory"].sel(mode=mode) / s, color=colour, lw=1)
        ax.set_xlabel("gradient-descent steps")
        ax.set_ylabel(r"$u_\alpha / s_\alpha$")
        layers = comparison.attrs["layers"]
        ax.set_title(f"{layers} layers: dots run, lines theory (Saxe et al. 2014)")
    ax.legend(frameon=False, fontsize="small")
    return fig, ax
