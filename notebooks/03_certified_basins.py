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
# # Certified basins: a region proved to train into alignment
#
# A basin map is a picture made by a solver. A *certified region* is a set of
# initialisations for which we hold a proof, checked in exact arithmetic, that
# training ends on a given attractor. This notebook certifies a region of the aligned
# basin of the alignment double well, sets it against the simulated basin, and
# follows it as the reward bias $b$ moves toward $b = 1$, where the barrier around
# the aligned minimum vanishes (the saddle reaches it and they exchange stability).
#
# **The theorem.** For gradient flow $\dot x = -\nabla L$ take a box $B$ around the
# minimum $x^*$ and a level $c$ with $L \ge c$ on $\partial B$ and $L \ge c$ at every
# other critical point in $B$. Then $R = \{x \in B : L(x) < c\}$ lies in the basin of
# $x^*$: $L$ cannot increase, so a trajectory from $R$ never reaches $\partial B$; it
# stays in a compact set, and by LaSalle's principle converges to a critical point
# with $L < c$ in $B$, of which $x^*$ is the only one.
#
# basinlab chooses $B$ and $c$ numerically, then checks every condition exactly:
# the critical points by a Gröbner-basis solve, the faces by rational interval
# arithmetic, the minimum by the exact inertia of the Hessian.

# %%
import itertools
import os

import matplotlib.pyplot as plt
import numpy as np
import sympy as sp

import basinlab as bl
from basinlab import proofs

FAST = os.environ.get("BASINLAB_FAST") == "1"
SAMPLES = 1000 if FAST else 20_000
model = bl.models.alignment_double_well()
a, c = model.state
b, kappa = model.param_symbols

# %% [markdown]
# ## The claims about this model
#
# The registry holds exact claims about the default model: its fixed points and their
# kinds, the barrier between the minima, and the certified basin. `basinlab prove`
# checks the same list from the command line.

# %%
verdicts = proofs.check_claims(
    [c.id for c in proofs.claims() if c.id.startswith("alignment_double_well")]
)
for v in verdicts:
    print(f"{v.id:40s} {v.status:8s} {v.seconds:6.2f} s  {v.detail[:90]}")
assert all(v.status == proofs.PROVED for v in verdicts)

# %% [markdown]
# ## The certified region at the default parameters

# %%
region = bl.certified_region(model, (1, 2), n=SAMPLES)
region.description

# %%
print(region.detail)
comparison = region.comparison
print(
    f"{comparison.in_region} of {comparison.samples} samples in the region, "
    f"{comparison.in_basin} in the aligned basin; region / basin = {comparison.ratio:.3f} "
    f"[{comparison.ratio_low:.3f}, {comparison.ratio_high:.3f}]"
)
assert comparison.region_escapes == 0

# %% [markdown]
# The best level a sublevel set around the aligned minimum can have is the saddle's
# loss: above it the set joins the misaligned well. The exact gap from the minimum is

# %%
loss_at = {
    name: model.loss.subs({a: x, c: 1 + kappa * x}) for name, x in (("aligned", 1), ("saddle", b))
}
best_gap = sp.factor(loss_at["saddle"] - loss_at["aligned"])
best_gap

# %% [markdown]
# and the certified level reaches it to within the margin basinlab leaves for strict
# inequalities (0.1% of the gap):

# %%
defaults = model.param_substitution()
certified_gap = region.certificate.level - loss_at["aligned"].subs(defaults)
print(
    f"certified c - L(x*) = {float(certified_gap):.6f}, best = {float(best_gap.subs(defaults)):.6f}"
)
assert 0.998 * best_gap.subs(defaults) < certified_gap < best_gap.subs(defaults)

# %% [markdown]
# ## The region inside the simulated basin

# %%
result = bl.basin_map(
    model,
    x="a",
    y="c",
    bounds=((-2.5, 2.5), (-1.5, 3.5)),
    resolution=48 if FAST else 256,
    progress=False,
)
fig, ax = bl.plot_basin_map(result, regions=[region])
if not FAST:
    fig.savefig("figures/03_certified_region.png", dpi=120)

# %% [markdown]
# The certified region is the part of the aligned basin that no trajectory can leave
# downhill; the rest of the basin is reached only by trajectories that first go down
# toward the saddle's level set and then turn. The ratio above is the price of a proof
# that uses nothing but the loss.
#
# ## Toward the bifurcation
#
# As $b \to 1$ the saddle $(b, 1 + \kappa b)$ approaches the aligned minimum and the
# gap $\frac{(1 - b)^3 (b + 3)}{12}$ (`best_gap` above) closes as $(1 - b)^3$. The
# certified region collapses with it, much faster than the simulated basin, which
# keeps most of its area in the window until the bifurcation: near $b = 1$ almost all
# of the aligned basin is reached only by trajectories that pass close to the saddle,
# where a loss-level argument has nothing left to certify.

# %%
WINDOW = ((-2.5, 2.5), (-1.5, 3.5))  # one window for every b, so areas compare
biases = [0.2, 0.5, 0.8] if FAST else [0.0, 0.2, 0.4, 0.6, 0.7, 0.8, 0.9]
rows = []
for bias in biases:
    r = bl.certified_region(model, (1, 2), params={"bias": bias}, n=SAMPLES, seed=1, window=WINDOW)
    window_area = np.prod(np.diff(np.array(r.comparison.window), axis=1))
    rows.append(
        (
            bias,
            float(r.certificate.level - loss_at["aligned"].subs({b: bias, kappa: 1})),
            float(best_gap.subs({b: bias})),
            window_area * r.comparison.in_region / r.comparison.samples,
            window_area * r.comparison.in_basin / r.comparison.samples,
            r.comparison.ratio,
        )
    )
    assert r.comparison.region_escapes == 0
print(
    f"{'bias':>5} {'c - L*':>10} {'best':>10} {'region area':>12} {'basin area':>11} {'ratio':>6}"
)
for row in rows:
    print("{:5.2f} {:10.6f} {:10.6f} {:12.4f} {:11.4f} {:6.3f}".format(*row))

# %%
gaps = [row[1] for row in rows]
areas = [row[3] for row in rows]
assert all(later < earlier for earlier, later in itertools.pairwise(gaps))
assert all(later <= earlier for earlier, later in itertools.pairwise(areas))
assert all(row[5] < 0.5 for row in rows)

fig, ax = plt.subplots(figsize=(6, 3.8), layout="constrained")
ax.plot(biases, areas, "o-", label="certified region")
ax.plot(biases, [row[4] for row in rows], "s-", label="simulated aligned basin (window)")
ax.set_xlabel("reward bias $b$")
ax.set_ylabel("area")
ax.set_yscale("log")
ax.legend()
if not FAST:
    fig.savefig("figures/03_region_vs_bias.png", dpi=120)

# %% [markdown]
# ## Beyond gradient flows: sums of squares
#
# For a field that is not a gradient, basinlab looks for a quadratic Lyapunov
# function $V$ and the largest $c$ with $\dot V < 0$ on $\{V \le c\}$, certified by a
# sum-of-squares identity with rational coefficients. On the bistable cycle the basin
# of the origin is the open unit disc, and the certified disc comes within a fraction
# of a percent of it:

# %%
cycle = bl.certified_region(bl.models.bistable_cycle(), (0, 0), n=SAMPLES)
print(cycle.description, " radius^2 =", float(8 * cycle.certificate.level))
print(f"region / basin = {cycle.comparison.ratio:.4f}")
assert 0.997 < 8 * cycle.certificate.level < 1
