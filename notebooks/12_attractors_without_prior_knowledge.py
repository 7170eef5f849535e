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
# # Attractors without prior knowledge
#
# The other notebooks label end states with the fixed points that SymPy finds. Here
# nothing is known in advance: the attractors are found by **recurrences on a grid**
# (Datseris & Wagemakers 2022), each classified by its **Lyapunov spectrum** (the QR
# method of Benettin et al. 1980), and checked against the reference systems'
# known answers:
#
# 1. the Hénon map: one chaotic attractor beside divergence, $\lambda_1 \approx
#    0.419$, $\lambda_1 + \lambda_2 = \log 0.3$ exactly;
# 2. Lorenz-84 at its multistable parameters: a fixed point, a limit cycle and a
#    chaotic attractor at once, found again by clustering features;
# 3. the magnetic pendulum: three basins of exactly $1/3$ by symmetry;
# 4. boundaries: the edge state between two basins, the Wada property, and the
#    smallest kick off a cycle;
# 5. rate-induced tipping against its closed form, and continuation over two
#    parameters against the exact fold curves.

# %%
import math
import os

import matplotlib.pyplot as plt
import numpy as np
import numpyro.distributions as dist
import sympy as sp

import basinlab as bl

FAST = os.environ.get("BASINLAB_FAST") == "1"
os.makedirs("figures", exist_ok=True)


def box(low, high):
    return dist.Uniform(np.asarray(low, float), np.asarray(high, float))


# %% [markdown]
# ## 1. The Hénon map
#
# Starts in $[-2, 2]^2$ either fall on the chaotic attractor or diverge. An
# independent NumPy iteration of the same starts says which stay bounded.

# %%
henon = bl.find_attractors(
    bl.models.henon_map(), box([-2, -2], [2, 2]), grid=((-3, 3, 300),) * 2, n=500 if FAST else 5000
)
print(henon["attractor_name"].values, henon["attractor_exponents"].values)
z = henon["y0"].values.copy()
with np.errstate(all="ignore"):
    for _ in range(2000):
        z = np.stack([1 - 1.4 * z[:, 0] ** 2 + z[:, 1], 0.3 * z[:, 0]], axis=1)
bounded = np.all(np.isfinite(z), axis=1) & (np.abs(z[:, 0]) < 10)
print("agreement with plain iteration:", np.mean(bounded == (henon["label"].values == 0)))
print(
    "fraction on the attractor:",
    henon["fraction"].values[0],
    (henon["fraction_low"].values[0], henon["fraction_high"].values[0]),
)
first, second = henon["attractor_exponents"].values[0]
print("lambda_1 + lambda_2 =", first + second, "against log 0.3 =", math.log(0.3))
fig, ax = bl.plot_found_attractors(henon)
fig.savefig("figures/12_henon.png", dpi=120)

# %% [markdown]
# ## 2. Lorenz-84: three kinds of attractor at once
#
# The chaotic set comes within 0.04 of the limit cycle, so the grid's cells must be
# finer than that (a coarser grid is refused with a message that says so). Featurizing
# the same starts by their tails' boxes and grouping them by DBSCAN is an independent
# second method.

# %%
lorenz = bl.models.lorenz84()
starts = box([-1, -1.5, -1.5], [3, 1.5, 1.5])
cells = ((-1, 2.5, 175), (-2.5, 2.5, 250), (-2.5, 2.5, 250))
recurrence = bl.RecurrenceSettings(
    interval=0.2, max_steps=100_000, lyapunov_length=100.0 if FAST else 1000.0
)
found = bl.find_attractors(lorenz, starts, grid=cells, n=12 if FAST else 500, settings=recurrence)
for name, exponents, fraction, low, high in zip(
    found["attractor_name"].values,
    found["attractor_exponents"].values,
    found["fraction"].values,
    found["fraction_low"].values,
    found["fraction_high"].values,
):
    interval = f"[{low:.3f}, {high:.3f}]"
    print(f"{name}: exponents {np.round(exponents, 4)}, fraction {fraction:.3f} {interval}")
clustered = bl.cluster_attractors(
    lorenz,
    starts,
    n=12 if FAST else 500,
    transient=200 if FAST else 2500,
    samples=200 if FAST else 2500,
    settings=recurrence,
)
print(clustered["attractor_kind"].values, clustered["fraction"].values)
fig, ax = bl.plot_found_attractors(found, "x", "y")
fig.savefig("figures/12_lorenz84.png", dpi=120)

# %% [markdown]
# ## 3. The magnetic pendulum
#
# Rotation by $2\pi/3$ maps the model and the isotropic start distribution onto
# themselves, so each magnet's basin has probability exactly $1/3$.

# %%
pendulum = bl.find_attractors(
    bl.models.magnetic_pendulum(),
    dist.Normal(np.zeros(4), np.array([1.0, 1.0, 0.5, 0.5])),
    grid=((-3, 3, 30),) * 4,
    n=200 if FAST else 2000,
    settings=bl.RecurrenceSettings(interval=0.5, lyapunov_length=100.0),
)
print(pendulum["attractor_name"].values)
print(
    pendulum["fraction"].values[:3],
    pendulum["fraction_low"].values[:3],
    pendulum["fraction_high"].values[:3],
)

# %% [markdown]
# ## 4. Boundaries
#
# Edge tracking between the tilted well's basins converges to its saddle, which
# SymPy gives exactly. Newton's method for $z^3 - 1$ is Wada; and from any point of
# the bistable cycle the smallest kick into the origin's basin is 1, straight inwards
# to the unstable cycle $r = 1$.

# %%
well = bl.models.alignment_tilted_well()
quick = bl.RecurrenceSettings(lyapunov_length=50.0)
wells = bl.find_attractors(
    well, box([-2, -2], [2, 4]), grid=((-3, 3, 120), (-3, 5, 160)), n=100, settings=quick
)
edge = bl.edge_state(well, wells, [-1.5, 1.0], [1.5, 1.0], settings=quick, steps=5)
(saddle,) = [p for p in bl.fixed_points(well) if p.kind == "saddle"]
print("edge state", edge["edge_state"].values, "saddle", saddle.location)

newton = bl.basin_map(
    bl.models.newton_cubic(), "x", "y", ((-1.5, 1.5), (-1.5, 1.5)), 150 if FAST else 400
)
print(bl.wada_test(newton))

cycle_model = bl.models.bistable_cycle()
rings = bl.find_attractors(
    cycle_model, box([-2.5, -2.5], [2.5, 2.5]), grid=((-3, 3, 60),) * 2, n=100, settings=quick
)
ring = list(rings["attractor_kind"].values).index(bl.simulations.LIMIT_CYCLE)
kick = bl.critical_shock_over_attractor(
    cycle_model, rings, ring, settings=quick, n=32 if FAST else 256, points=4 if FAST else 16
)
print("smallest kick off the cycle:", float(kick["critical_shock"]), "(exactly 1)")

# %% [markdown]
# ## 5. Rate-induced tipping and two parameters
#
# For $\dot x = (x + \lambda)^2 - 1$ under the tanh ramp $\dot\lambda = r\lambda
# (\lambda_{\max} - \lambda)$, the line $x + \lambda = -1 + 2\lambda/\lambda_{\max}$
# joins the saddles $(-1, 0)$ and $(1, \lambda_{\max})$ of the system in $(x +
# \lambda, \lambda)$ exactly when $r = 4/(\lambda_{\max}(\lambda_{\max} - 2))$: that is
# the critical rate. No rate tips when $\lambda_{\max} \le 2$.

# %%
x, lam = sp.symbols("x lam", real=True)
normal_form = bl.Model("ramp_normal_form", [x], [(x + lam) ** 2 - 1], params={lam: 0.0})
for size in (3.0,) if FAST else (2.5, 3.0, 4.0, 6.0):
    found_rate = float(
        bl.critical_rate(normal_form, bl.Ramp("lam", 0.0, size), [-1.0])["critical_rate"]
    )
    exact = 4 / (size * (size - 2))
    print(f"lambda_max = {size}: critical rate {found_rate:.7f}, exact {exact:.7f}")

mu, nu = sp.symbols("mu nu", real=True)
cusp = bl.Model("cusp", [x], [mu + nu * x - x**3], params={mu: 0.0, nu: 1.0})
nus = np.linspace(0.5, 2.5, 3 if FAST else 11)
plane = bl.continuation_map(
    cusp,
    "mu",
    np.linspace(-1.5, 1.5, 7 if FAST else 41),
    "nu",
    nus,
    dist.Uniform(-3.0, 3.0).expand([1]),
    n=100 if FAST else 1000,
    progress=not FAST,
)
fig, ax = bl.plot_continuation_map(plane, 0, bl.bifurcation_curves(cusp, "mu", "nu", nus))
fig.savefig("figures/12_cusp.png", dpi=120)
plt.close("all")
