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
# # Teacher–student plateaus and the basin of specialisation
#
# Online SGD of a soft committee machine (Saad & Solla 1995; Biehl & Schwarze 1995;
# Goldt et al. 2019) reduces, for large input dimension, to ODEs for the overlaps
# $Q$, $R$ (and $v$). Learning first stalls on a symmetric plateau where every
# student unit is equally like every teacher unit, then breaks the symmetry and
# specialises. Which specialised solution it reaches is decided by the initial
# overlaps: a basin question.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
import sympy as sp

import basinlab as bl
from basinlab.theory.models.teacher_student import (
    at,
    first_order_flow,
    plateau,
    small_learning_rate_stability,
    specialisation_slice,
)

FAST = os.environ.get("BASINLAB_FAST") == "1"

# %% [markdown]
# ## The plateau, exactly
#
# For $K = M$ and $T = I$ the plateau is $Q_{ik} = 1/(2K - 1)$,
# $R_{in} = 1/\sqrt{K(2K-1)}$. The $O(\eta)$ flow vanishes there, and the error is
# $\epsilon_g = (K/\pi)[\pi/6 - K\arcsin(1/(2K))]$.

# %%
for K in (2, 3, 4):
    state, first = first_order_flow(K, K)
    point, closed = plateau(K)
    residual = max(abs(sp.N(r, 40)) for r in at(first, state, point))
    model = bl.models.teacher_student(K, K)
    error = at(model.observables["eps_g"], model.state, point).subs(
        sp.Symbol("sigma", nonnegative=True), 0
    )
    print(f"K={K}: residual {float(residual):.1e}, eps_g {float(error):.6f}")
    print(f"     closed form {float(closed):.6f}")
    assert residual < 1e-30 and abs(sp.N(error - closed, 40)) < 1e-30

# %% [markdown]
# At small $\eta$ the plateau has one unstable direction (the symmetry breaking),
# while the specialised solution is stable:

# %%
for which in ("plateau", "specialised"):
    point = small_learning_rate_stability(2, which)
    print(which, point.kind, "largest real part", max(e.real for e in point.eigenvalues))

# %% [markdown]
# ## Escaping the plateau
#
# Starting from overlaps that break the symmetry by $\delta$, the time spent on the
# plateau grows like $\ln(1/\delta)/\eta$.

# %%
model = bl.compile_model(bl.models.teacher_student(2, 2))
deltas = np.logspace(-4, -1, 4 if FAST else 7)
alphas = np.linspace(0, 600, 601)
escape = []
fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
_, plateau_error = plateau(2)
for delta in deltas:
    start = {
        "Q_1_1": 0.2,
        "Q_1_2": 0.0,
        "Q_2_2": 0.2,
        "R_1_1": delta,
        "R_1_2": 0.0,
        "R_2_1": 0.0,
        "R_2_2": delta,
    }
    y0 = np.array([[start[n] for n in model.state_names]])
    path = bl.trajectories(model, y0, alphas, params={"eta": 0.5}, max_steps=100_000)
    eps = path["eps_g"].values[0]
    ax.semilogy(alphas, eps, label=f"delta={delta:.0e}")
    escape.append(alphas[np.argmax(eps < 0.5 * float(plateau_error))])
ax.axhline(float(plateau_error), color="k", lw=0.5, ls=":")
ax.set_xlabel("alpha = steps / N")
ax.set_ylabel("generalisation error")
ax.legend(fontsize=7)
plt.show()

# %%
fig, ax = plt.subplots(figsize=(4.5, 3), layout="constrained")
ax.plot(np.log(1 / deltas), escape, "o-")
ax.set_xlabel("ln(1/delta)")
ax.set_ylabel("alpha at which eps_g halves")
plt.show()
slope = np.polyfit(np.log(1 / deltas), escape, 1)[0]
print(f"escape time grows by {slope:.1f} alpha per e-fold of 1/delta")
assert slope > 0 and np.all(np.diff(escape) < 0)  # deltas rise, so escape comes sooner

# %% [markdown]
# ## The basin of each specialised solution
#
# The slice varies student 1's initial overlaps with the two teachers and holds
# the rest fixed (see `specialisation_slice`). Each point is coloured by the
# specialised solution it reaches: which teacher student 1 ends up imitating.

# %%
points = bl.fixed_points(model.model)
result = bl.basin_map(
    model,
    resolution=16 if FAST else 64,
    points=points,
    progress=False,
    t1=3000.0,
    max_steps=20_000,
    **specialisation_slice(),
)
fig, ax = bl.plot_basin_map(result, title="K = M = 2: which teacher does student 1 imitate?")
plt.show()
assert result["count"].values[:2].sum() == result["label"].size
