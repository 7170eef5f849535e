# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Does alignment lag capability on the way?
#
# If alignment research is done with the help of the system being aligned, its
# progress scales with capability. In the stylised `alignment_research_race`,
#
# $$\dot c = r_c\,c(1 - c), \qquad \dot a = r_a\,c\,(1 - a) - \lambda a,$$
#
# every run ends at $(1, \frac{r_a}{r_a + \lambda})$ (claim
# `alignment_research_race.endpoint`), so *where* training ends is settled exactly.
# The alignment question is about the way there: does $a \ge c - m$ hold **all
# along**, or does capability take off while alignment trails behind? This is a
# predicate over whole trajectories, and its basin is a set of rates and starting
# alignments rather than of initial weights alone.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import basinlab as bl
from basinlab.simulations import first_violation, holds_all_along, holds_at_end

FAST = os.environ.get("BASINLAB_FAST") == "1"
model = bl.models.alignment_research_race()
leak, margin = 0.05, 0.1
verdict = bl.proofs.check_claims(["alignment_research_race.endpoint"])[0]
print(verdict.status, "-", verdict.detail)

# %% [markdown]
# ## The set of rates and starts that never lag
#
# Each run starts with a little capability, $c_0 = 0.01$, and alignment $a_0$. At the
# end it keeps up iff $\frac{r_a}{r_a + \lambda} \ge 1 - m$, i.e. $r_a / r_c \ge
# \lambda (1 - m) / m$ (with $r_c = 1$): the exact endpoint threshold. Never lagging
# asks more.

# %%
count = 10 if FAST else 80
ratios = np.linspace(0.1, 3.0, count)
starts = np.linspace(0.0, 0.6, count)
times = np.linspace(0, 60, 601 if FAST else 3001)
never_lags = np.zeros((count, count), dtype=bool)
ends_up = np.zeros((count, count), dtype=bool)
lag_time = np.full((count, count), np.nan)
compiled = bl.compile_model(model)
for i, ratio in enumerate(ratios):
    runs = bl.trajectories(
        compiled, np.stack([np.full(count, 0.01), starts], axis=1), times, {"r_a": ratio}
    )
    never_lags[:, i] = holds_all_along(runs, "keeps_up").values
    ends_up[:, i] = holds_at_end(runs, "keeps_up").values
    lag_time[:, i] = first_violation(runs, "keeps_up").values

threshold = leak * (1 - margin) / margin
fig, ax = plt.subplots(figsize=(6.4, 4.6), layout="constrained")
ax.imshow(
    never_lags.astype(float) + ends_up,
    origin="lower",
    extent=(ratios[0], ratios[-1], starts[0], starts[-1]),
    aspect="auto",
    cmap=plt.matplotlib.colors.ListedColormap(["#c44e52", "#ccb974", "#55a868"]),
    vmin=-0.5,
    vmax=2.5,
    interpolation="nearest",
)
ax.axvline(threshold, color="black", linestyle="--")
ax.text(threshold, 0.58, " exact endpoint threshold", fontsize=8, va="top")
ax.set_xlabel("alignment rate / capability rate, r_a / r_c")
ax.set_ylabel("starting alignment a_0")
ax.set_title("green: never lags; yellow: lags, then catches up; red: ends behind")
if not FAST:
    fig.savefig("figures/08_never_lags.png", dpi=120)
print(f"share of the (r_a/r_c, a_0) square that never lags: {never_lags.mean():.3f}")
print(f"share that ends keeping up: {ends_up.mean():.3f}")
for k in (0, count - 1):
    print(
        f"a_0 = {starts[k]:.2f}: never lags from r_a / r_c = "
        f"{ratios[np.argmax(never_lags[k])]:.3f} (ends keeping up from {threshold:.3f})"
    )
# Ending level is necessary for never lagging, and the exact threshold decides it.
assert np.all(never_lags <= ends_up)
assert np.all(ends_up[:, ratios > threshold + 0.05])
assert not np.any(ends_up[:, ratios < threshold - 0.05])
assert np.any(ends_up & ~never_lags)  # runs that catch up after lagging exist

# %% [markdown]
# ## How early the lag opens
#
# Where alignment does fall behind, it does so while capability takes off: the first
# violation comes at the logistic's steep rise, $t \approx \ln(1/c_0 - 1)/r_c$.

# %%
takeoff = np.log(1 / 0.01 - 1)
fig, ax = plt.subplots(figsize=(6.4, 4.0), layout="constrained")
for k in (0, count // 2, count - 1):
    ax.plot(ratios, lag_time[k], "o-", markersize=3, label=f"a_0 = {starts[k]:.2f}")
ax.axhline(takeoff, color="black", linestyle=":", label="capability half-way")
ax.set_xlabel("r_a / r_c")
ax.set_ylabel("first time alignment lags")
ax.legend(fontsize=8)
if not FAST:
    fig.savefig("figures/08_lag_time.png", dpi=120)
lagging = np.isfinite(lag_time)
assert np.all(lag_time[lagging] < 2 * takeoff)
