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
        compiled, np.stack([np.full(count, 0.01), starts], axis=1), times, params={"r_a": ratio}
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

# %% [markdown]
# ## Learning order under a curriculum: do values come first?
#
# A second view of the race, built on exact learning dynamics. In a deep linear
# network (Saxe et al. 2014) each input–output mode of strength $s_k$ is learned along
# its own sigmoid, in a time $\approx (\tau/s_k)\ln(s_k/u_0)$ (Eq 11): strongly
# expressed modes come first. In `capability_race` two modes stand for "values"
# ($s = 1$) and "situational awareness" ($s = 3$, expressed more strongly by the data),
# and a curriculum weighs their data over phases,
#
# $$\tau\dot a_k = w_k(t)\,b_k(s_k - a_k b_k),\qquad
#   \tau\dot b_k = w_k(t)\,a_k(s_k - a_k b_k).$$
#
# The predicate `values_first` asks, over the whole run, that the values mode pass 90%
# of its strength before awareness passes 10%. Its basin is a set of **curricula and
# initial strengths**. The exact answer comes from Eq 11 in the effective time
# $W_k(t) = \int_0^t w_k$: `crossing_times` inverts the schedule.
#
# First the curricula: a first phase of length $L$ at values weight $w_1$, then equal
# weights for ever, from small balanced starts $u_0 = 0.01$.

# %%
from basinlab.theory import Curriculum
from basinlab.theory.models import (
    balanced_start,
    capability_race,
    constant_weight_threshold,
    crossing_times,
    values_first,
)

strengths = {"values": 1.0, "awareness": 3.0}
small = {"values": 0.01, "awareness": 0.01}


def two_phases(length, weight):
    return Curriculum(
        [
            (length, {"values": weight, "awareness": 1 - weight}),
            (np.inf, {"values": 0.5, "awareness": 0.5}),
        ]
    )


race = capability_race(strengths, two_phases(4.0, 0.95))
race_jit = bl.compile_model(race)
count = 8 if FAST else 40
lengths = np.linspace(0.5, 12.0, count)
first_weights = np.linspace(0.5, 1.0, count)
race_times = np.linspace(0.0, 40.0, 401 if FAST else 2001)
simulated_first = np.zeros((count, count), dtype=bool)
for i, length in enumerate(lengths):
    for j, weight in enumerate(first_weights):
        runs = bl.trajectories(
            race_jit,
            [balanced_start(small, race)],
            race_times,
            params={"phase_1_length": length, "phase_1_values": weight},
        )
        simulated_first[j, i] = holds_all_along(runs, "values_first").values[0]

fine = 60 if FAST else 300  # the exact decision, per curriculum in Python
fine_lengths = np.linspace(lengths[0], lengths[-1], fine)
fine_weights = np.linspace(first_weights[0], first_weights[-1], fine)
exact_first = np.array(
    [[values_first(two_phases(L, w), strengths, small) for L in fine_lengths] for w in fine_weights]
)
threshold = constant_weight_threshold(1.0, 3.0, 0.01, 0.01)
fig, ax = plt.subplots(figsize=(6.4, 4.6), layout="constrained")
ax.imshow(
    simulated_first,
    origin="lower",
    extent=(lengths[0], lengths[-1], first_weights[0], first_weights[-1]),
    aspect="auto",
    cmap=plt.matplotlib.colors.ListedColormap(["#c44e52", "#55a868"]),
    vmin=0,
    vmax=1,
    interpolation="nearest",
)
ax.contour(fine_lengths, fine_weights, exact_first.astype(float), [0.5], colors="black")
ax.axhline(threshold, color="black", linestyle="--")
ax.text(
    lengths[-1],
    threshold,
    f"constant-weight threshold w* = {threshold:.3f} ",
    ha="right",
    va="bottom",
    fontsize=8,
)
ax.set_xlabel("length L of the first phase")
ax.set_ylabel("values weight w_1 in the first phase")
ax.set_title("green: values first (simulated); black: exact boundary (Eq 11)")
if not FAST:
    fig.savefig("figures/08_curriculum.png", dpi=120)


# The simulated map against the exact decision at the same curricula. The simulation
# sees the predicate only at the saved times, so it can only miss an order decided
# within one save interval.
def decided_within_a_step(curriculum, initial):
    levels = {"values": 0.9, "awareness": 0.1}
    times = crossing_times(curriculum, strengths, initial, levels)
    return abs(times["values"] - times["awareness"]) < race_times[1] - race_times[0]


exact_on_grid = np.array(
    [[values_first(two_phases(L, w), strengths, small) for L in lengths] for w in first_weights]
)
mismatch = np.mean(simulated_first != exact_on_grid)
print(f"w* = {threshold:.4f}; share of curricula with values first: {exact_on_grid.mean():.3f}")
print(f"cells where the simulation and the exact decision differ: {mismatch:.4f}")
for j, i in zip(*np.nonzero(simulated_first != exact_on_grid)):
    assert decided_within_a_step(two_phases(lengths[i], first_weights[j]), small)
assert not exact_on_grid[first_weights < threshold].any()

# %% [markdown]
# Below $w^\star$ no first phase helps: awareness passes 10% inside it. Above, the
# first phase must last long enough for values to reach 90% at weight $w_1$, that is
# $L \ge W^\star_\mathrm{val}/w_1$. Then the initial strengths: with constant weights
# $(w, 1 - w)$, a values mode that starts stronger (pre-trained nearer its target)
# needs less weight. The exact threshold $w^\star(u_\mathrm{val}(0))$ is the PROVED
# claim `capability_race.constant_weights`.

# %%
print(bl.proofs.check_claims(["capability_race.constant_weights"])[0].status)
constant_race = capability_race(strengths, Curriculum.constant({"values": 0.5, "awareness": 0.5}))
constant_jit = bl.compile_model(constant_race)
weights = np.linspace(0.3, 1.0, count)
initial_values = np.geomspace(1e-3, 0.85, count)
starts = np.array(
    [balanced_start({"values": u, "awareness": 0.01}, constant_race) for u in initial_values]
)
pretrained_first = np.zeros((count, count), dtype=bool)
for j, weight in enumerate(weights):
    runs = bl.trajectories(constant_jit, starts, race_times, params={"phase_1_values": weight})
    pretrained_first[:, j] = holds_all_along(runs, "values_first").values
fine_initial = np.geomspace(initial_values[0], initial_values[-1], 300)
thresholds = [constant_weight_threshold(1.0, 3.0, u, 0.01) for u in fine_initial]
fig, ax = plt.subplots(figsize=(6.4, 4.6), layout="constrained")
ax.pcolormesh(
    weights,
    initial_values,
    pretrained_first,
    cmap=plt.matplotlib.colors.ListedColormap(["#c44e52", "#55a868"]),
    shading="nearest",
    vmin=0,
    vmax=1,
)
ax.plot(thresholds, fine_initial, color="black", label="w*(u_val(0)), proved")
ax.set_yscale("log")
ax.set_xlabel("constant values weight w")
ax.set_ylabel("initial values strength u_val(0)")
ax.set_title("green: values first (simulated)")
ax.legend(fontsize=8, loc="lower left")
if not FAST:
    fig.savefig("figures/08_initial_strength.png", dpi=120)
exact_pretrained = np.array(
    [[w >= constant_weight_threshold(1.0, 3.0, u, 0.01) for w in weights] for u in initial_values]
)
disagree = pretrained_first != exact_pretrained
print(f"disagreements with the proved threshold: {disagree.sum()} of {disagree.size}")
for u in (1e-3, 0.01, 0.1, 0.5):
    least = constant_weight_threshold(1.0, 3.0, u, 0.01)
    print(f"u_val(0) = {u:g}: values first needs w >= {least:.3f}")
for k, j in zip(*np.nonzero(disagree)):
    constant = Curriculum.constant({"values": weights[j], "awareness": 1 - weights[j]})
    assert decided_within_a_step(constant, {"values": initial_values[k], "awareness": 0.01})
