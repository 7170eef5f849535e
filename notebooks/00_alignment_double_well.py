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
# # The alignment double well: the formal object, end to end
#
# A training process is a flow $\dot x = f(x; p)$ on a state $x$. Its attractors are
# where training ends; an attractor is *aligned* when a predicate holds there; the
# *aligned basin* is the set of initialisations whose flow ends on an aligned
# attractor. This notebook makes each of these concrete for basinlab's default model,
# derives its fixed points exactly, and checks the numbers against the derivation.
#
# The state is alignment $a$ and capability $c$, and training is gradient flow on
#
# $$L(a, c) = \tfrac{a^4}{4} - \tfrac{b a^3}{3} - \tfrac{a^2}{2} + b a
#   + \tfrac12 (c - 1 - \kappa a)^2 .$$

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
import numpyro.distributions as dist
import sympy as sp

import basinlab as bl

FAST = os.environ.get("BASINLAB_FAST") == "1"
model = bl.models.alignment_double_well()
a, c = model.state
b, kappa = model.param_symbols
model.loss

# %% [markdown]
# ## Critical points, exactly
#
# $\partial_c L = 0$ gives $c = 1 + \kappa a$; substituting, $\partial_a L = 0$ reduces
# to $(a - b)(a^2 - 1) = 0$. So the critical points are $a \in \{-1, b, 1\}$ for every
# $b$ and $\kappa$. SymPy confirms it symbolically:

# %%
gradient = sp.Matrix([sp.diff(model.loss, s) for s in model.state])
critical = sp.solve(list(gradient), [a, c], dict=True)
critical

# %%
assert {sp.simplify(s[a]) for s in critical} == {-1, 1, b}
assert all(sp.simplify(s[c] - (1 + kappa * s[a])) == 0 for s in critical)

# %% [markdown]
# The Hessian's determinant at a critical point is $\partial_a^2 V = 3a^2 - 2ab - 1$,
# positive at $a = \pm 1$ when $|b| < 1$ (minima) and negative at $a = b$ (a saddle).
# The aligned minimum is shallower by $L(1) - L(-1) = 4b/3$.

# %%
hessian = bl.hessian(model)
determinant = sp.factor(hessian.det().subs(c, 1 + kappa * a))
depth = sp.simplify(model.loss.subs({a: 1, c: 1 + kappa}) - model.loss.subs({a: -1, c: 1 - kappa}))
determinant, depth

# %%
assert sp.simplify(determinant - (3 * a**2 - 2 * a * b - 1)) == 0
assert sp.simplify(depth - 4 * b / 3) == 0

# %% [markdown]
# `basinlab.fixed_points` finds the same points at the default parameters, exactly,
# and classifies them by the Jacobian's eigenvalues.

# %%
points = bl.fixed_points(model)
for point in points:
    print(point.location, point.kind, np.round(np.real(point.eigenvalues), 4))

# %% [markdown]
# ## The basin map
#
# Integrating a grid of initialisations to their end and labelling each by its
# attractor draws the basins. The boundary is the stable manifold of the saddle,
# tilted by the coupling $\kappa$: capability that runs ahead of $1 + \kappa a$ pushes
# alignment up.

# %%
resolution = 64 if FAST else 256
result = bl.basin_map(model, "a", "c", ((-2, 2), (-1, 3)), resolution=resolution, progress=False)
fig, ax = bl.plot_basin_map(result)
plt.show()

# %% [markdown]
# ## How the bias shrinks the aligned basin
#
# Sweeping $b$ towards $b = 1$, where the saddle reaches the aligned minimum (a
# transcritical point: the two exchange stability, and the aligned attractor
# persists at $a = b$), the fraction of a uniform initialisation that ends aligned
# shrinks. At $b = 0$ the loss is
# symmetric under $(a, c) \mapsto (-a, 2 - c)$, and so is the box, so the fraction
# there must be $1/2$.

# %%
p0 = dist.Uniform(np.array([-2.0, -1.0]), np.array([2.0, 3.0])).to_event(1)
compiled = bl.compile_model(model)
biases = np.linspace(-0.9, 0.9, 5 if FAST else 13)
n = 2_000 if FAST else 20_000
rows = []
for bias in biases:
    fractions = bl.basin_fractions(
        compiled, p0, n=n, seed=0, params={"bias": float(bias)}, progress=False
    )
    rows.append(
        [fractions[k].values[0] for k in ("predicate_fraction", "predicate_low", "predicate_high")]
    )
rows = np.array(rows)
fig, ax = plt.subplots(figsize=(5, 3.5), layout="constrained")
ax.fill_between(biases, rows[:, 1], rows[:, 2], alpha=0.3, label="95% Wilson interval")
ax.plot(biases, rows[:, 0], "o-", label="aligned fraction")
ax.axhline(0.5, color="grey", lw=0.8, ls=":")
ax.set_xlabel("bias b")
ax.set_ylabel("fraction ending aligned")
ax.legend()
plt.show()

# %%
middle = int(np.argmin(np.abs(biases)))
assert rows[middle, 1] <= 0.5 <= rows[middle, 2]
assert np.all(np.diff(rows[:, 0]) < 0)
