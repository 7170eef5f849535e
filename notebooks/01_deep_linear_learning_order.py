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
# # Deep linear networks: what is learned, and in which order
#
# Saxe, McClelland & Ganguli (ICLR 2014, arXiv:1312.6120) solved the gradient-descent
# dynamics of deep linear networks exactly. Each mode of the input–output correlation
# $\Sigma^{31} = \sum_\alpha s_\alpha u_\alpha v_\alpha^T$ is learned along a sigmoid,
# in a time $\approx (\tau/s_\alpha)\ln(s_\alpha/\varepsilon)$, so the data's
# singular values fix the order of learning. For alignment this is a clean model of
# two questions: *does the curriculum change what is learned first?* and *do
# systematically wrong labels move where training ends?*

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
import sympy as sp

import basinlab as bl
from basinlab.theory.models import deep_linear as dl
from basinlab.theory.models import deep_linear_data as data

FAST = os.environ.get("BASINLAB_FAST") == "1"

# %% [markdown]
# ## The sigmoid, derived
#
# For one mode, $\tau\dot a = b(s - ab)$ and $\tau\dot b = a(s - ab)$. Along the
# balanced solution $a = b$, the strength $u = ab$ obeys $\tau\dot u = 2u(s - u)$
# (Eq 10), a logistic equation. SymPy solves it and recovers Eq 12.

# %%
t, s, tau, u0 = sp.symbols("t s tau u_0", positive=True)
u = sp.Function("u")
solution = sp.dsolve(sp.Eq(tau * u(t).diff(t), 2 * u(t) * (s - u(t))), u(t), ics={u(0): u0})
closed = dl.mode_strength(t, s, u0, tau)
assert sp.simplify(solution.rhs - closed) == 0
closed

# %% [markdown]
# The conserved quantity $a^2 - b^2$ follows from the flow: its time derivative is
# identically zero.

# %%
mode = bl.models.deep_linear_mode()
a, b = mode.state
rate = sum(sp.diff(a**2 - b**2, x) * f for x, f in zip(mode.state, mode.vector_field))
assert sp.simplify(rate) == 0

# %% [markdown]
# ## Learning curves: closed form against simulation

# %%
fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
times = np.linspace(0, 6, 200)
for strength in (1.0, 2.0, 3.0):
    start = np.full((1, 2), np.sqrt(1e-3))
    path = bl.trajectories(mode, start, times, params={"s": strength}, rtol=1e-10, atol=1e-12)
    ax.plot(times, path["u"].values[0], lw=3, alpha=0.4, label=f"simulated, s={strength:g}")
    exact = [dl.mode_strength(x, strength, 1e-3, 1.0) for x in times]
    ax.plot(times, exact, "k--", lw=1)
    ax.axvline(dl.learning_time(strength, 1e-3, strength - 1e-3), color="grey", lw=0.5)
ax.set_xlabel("time t (units of tau)")
ax.set_ylabel("mode strength u")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## Hierarchical data: broad distinctions first
#
# Items sit at the leaves of a binary tree; features diffuse down the tree, flipping
# sign with probability 0.1 at each branch (their Fig. 3). The root distinction has
# the largest singular value and is learned first; the finest splits come last.

# %%
inputs, outputs = data.hierarchical_data(depth=3, features=200 if FAST else 2000, flip=0.1, seed=0)
spectrum = data.mode_spectrum(inputs, outputs, u0=1e-3)
print("singular values:", np.round(spectrum.singular_values, 3))
print("learning times: ", np.round(spectrum.learning_times, 2))

fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), layout="constrained")
axes[0].imshow(spectrum.input_modes[:, spectrum.order].T, cmap="RdBu", aspect="auto")
axes[0].set_xlabel("item (leaf of the tree)")
axes[0].set_ylabel("mode, in order of learning")
values = spectrum.singular_values
k = len(values)
modes = bl.compile_model(bl.models.deep_linear_modes(tuple(values), hidden=k))
start = np.random.default_rng(0).normal(scale=0.02, size=(1, modes.model.dim))
horizon = 1.5 * spectrum.learning_times.max()
params = {f"s_{i + 1}": v for i, v in enumerate(values)}
path = bl.trajectories(
    modes, start, np.linspace(0, horizon, 400), params=params, rtol=1e-7, atol=1e-9
)
for i in range(k):
    axes[1].plot(path["time"], path[f"u_{i + 1}"].values[0] / values[i], label=f"mode {i + 1}")
axes[1].set_xlabel("time")
axes[1].set_ylabel("u / s (fraction learned)")
axes[1].legend(fontsize=7, ncol=2)
plt.show()

# %% [markdown]
# The prediction assumes every mode starts at the same small strength $u_0$. From
# random small weights the starting strengths differ, so modes whose singular values
# are within a few per cent of each other can swap; well-separated ones never do.

# %%
half = [np.argmax(path[f"u_{i + 1}"].values[0] >= values[i] / 2) for i in range(k)]
simulated_order = list(np.argsort(half, kind="stable"))
print("predicted order:", [int(i) for i in spectrum.order])
print("simulated order:", [int(i) for i in simulated_order])
assert abs(spectrum.input_modes[:, 0] @ np.ones(8)) / np.sqrt(8) > 0.9

# %% [markdown]
# ## A curriculum changes the order; biased labels move the end point
#
# Reweighting examples rescales their contribution to $\Sigma^{31}$. Replacing a
# fraction of labels by a biased rule changes $\Sigma^{31}$ itself, and training
# converges to the corrupted map: the bias is exact, and it grows with the fraction.

# %%
weights = np.ones(8)
weights[:2] = 8.0  # dwell on the first two items
curriculum = data.mode_spectrum(inputs, outputs, weights=weights)
change = data.compare_spectra(spectrum, curriculum)
print("clean order:", change.order_before, " curriculum order:", change.order_after)

rule = np.tile(outputs[:1], (8, 1))  # the biased rule labels everything like item 0
fractions = np.linspace(0, 1, 6)
shifts = [
    data.compare_spectra(
        spectrum, data.mode_spectrum(inputs, data.corrupt_labels(outputs, f, rule, seed=1))
    ).relative_map_shift
    for f in fractions
]
fig, ax = plt.subplots(figsize=(5, 3), layout="constrained")
ax.plot(fractions, shifts, "o-")
ax.set_xlabel("fraction of labels from the biased rule")
ax.set_ylabel("relative shift of the converged map")
plt.show()
assert shifts[0] == 0 and shifts[-1] == max(shifts)
