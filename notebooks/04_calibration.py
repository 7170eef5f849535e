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
# # Calibration: real training runs against the theory, and a Bayesian fit
#
# The theory catalogue predicts training dynamics in a limit: $N \to \infty$ for the
# committee machine (Saad & Solla 1995; Goldt et al. 2019), small learning rate and
# small initial weights for deep linear networks (Saxe et al. 2014). Here real
# networks are trained in JAX at finite size, compared with their theory curves,
# and the theory's unknowns are fitted to a run with NUTS through the ODE solver.
# The posterior then answers the question that matters for alignment: how likely
# is this run to end in a given basin?

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
import numpyro.distributions as dist

import basinlab as bl
from basinlab.simulations import training

FAST = os.environ.get("BASINLAB_FAST") == "1"
SIZES = (250, 500) if FAST else (500, 1000, 2000)
SEEDS = (0,) if FAST else (0, 1, 2)

# %% [markdown]
# ## 1. A committee machine trained by online SGD
#
# A $K = M = 2$ erf student learns an orthogonal teacher from one fresh Gaussian
# sample per step, at $\eta = 1$, starting with a small overlap 0.02 with the
# teacher. It logs $Q$, $R$ and $\epsilon_g$ (held out, and from the order
# parameters) at each $\alpha$ = steps$/N$. The theory ODE starts from the run's
# first overlaps.

# %%
run = training.teacher_student_run(
    dim=SIZES[-1], t1=40.0 if FAST else 80.0, initial_overlap=0.02, progress=False
)
comparison = training.compare_with_theory(run)
fig, ax = training.plot_comparison(comparison)
print({k: round(v, 5) for k, v in comparison.attrs.items() if k.endswith("gap")})

# %% [markdown]
# ## 2. The gap shrinks as N grows
#
# The run fluctuates around the ODE by $O(N^{-1/2})$. The largest distance over
# the run, averaged over seeds, for the order parameters and for $\epsilon_g$
# computed from them:

# %%
rows = []
for n in SIZES:
    gaps = [
        training.compare_with_theory(
            training.teacher_student_run(
                dim=n, t1=40.0, initial_overlap=0.02, seed=seed, progress=False
            )
        ).attrs
        for seed in SEEDS
    ]
    overlap = np.mean([g["overlap_max_gap"] for g in gaps])
    error = np.mean([g["eps_g_overlaps_max_gap"] for g in gaps])
    rows.append((n, overlap, error))
    print(f"N={n:5d}: max |dQ, dR| {overlap:.4f}, max |d eps_g| {error:.4f}")
assert rows[-1][1] < rows[0][1]

# %% [markdown]
# ## 3. Deep linear networks: learning times and order
#
# Full-batch gradient descent of 2- and 3-layer linear networks on hierarchical
# data, from small balanced random weights. Each mode's transit from 10% to 90% of
# its singular value is compared with Eq 11 (two layers) or the reduced dynamics of
# Eq 15 (three), with $\tau = 1/\lambda$.

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
for ax, layers in zip(axes, (2, 3)):
    deep = training.compare_with_theory(training.deep_linear_run(layers=layers, progress=False))
    training.plot_comparison(deep, ax=ax)
    errors = np.round(deep["transit_error"].values, 3)
    print(f"{layers} layers: transit errors {errors}, order agrees: {deep.attrs['order_agrees']}")

# %% [markdown]
# Two-layer transits match Eq 11 to a few percent for every mode. In three-layer
# networks the first modes match Eq 15; later modes, learned while others are still
# moving and sharing hidden directions with them, are slower than the decoupled
# theory. The order of acquisition matches the prediction in both.
#
# ## 4. Calibrating the committee machine's learning rate
#
# Treat $\eta$ of the ODE as unknown (prior LogNormal(0, 0.5)) and fit it, with the
# noise of the held-out $\epsilon_g$, to the real run by NUTS. If the theory's time
# scale were exact, the posterior would sit on the true $\eta = 1$.

# %%
compiled, params = training.teacher_student_model(run)
del params["eta"]
draws = 100 if FAST else 500
fit = bl.calibrate(
    compiled,
    run,
    {"eta": dist.LogNormal(0.0, 0.5), "noise": dist.HalfNormal(0.01)},
    observed=["eps_g"],
    params=params,
    num_warmup=draws,
    num_samples=draws,
)
fig, ax = bl.plot_calibration(fit, yscale="log")
eta = fit.posterior["eta"].values.ravel()
print("eta 90% interval", np.quantile(eta, [0.05, 0.95]).round(4))
print(fit.diagnostics.to_dataframe().round(4))
print("divergences", fit.diagnostics.attrs["divergences"])

# %% [markdown]
# ## 5. Will this run end in the aligned basin?
#
# The default model's double well has an aligned minimum and a misaligned one, with
# a saddle at $a = b$ between them. A run is observed only briefly, close to the
# saddle, with noise. Its initial state is uncertain, so pushing each posterior draw
# to its attractor gives a probability, not a yes or no.

# %%
well = bl.compile_model(bl.models.alignment_double_well())
times = np.linspace(0.0, 0.5, 6)
path = bl.trajectories(well, [[0.21, 1.2]], times)
rng = np.random.default_rng(1)
observed = path[["y"]].isel(trajectory=0)
observed["y"] = observed["y"] + 0.05 * rng.standard_normal(observed["y"].shape)
early = bl.calibrate(
    well,
    observed,
    {"a(0)": dist.Normal(0.2, 0.05), "noise": dist.HalfNormal(0.1)},
    y0={"c": 1.2},
    num_warmup=draws,
    num_samples=draws,
    progress=False,
)
basins = early.basins
print(basins[["probability", "low", "high"]].to_dataframe().round(3))
fig, ax = bl.plot_calibration(early, "a")
p_aligned = float(basins["probability"].sel(outcome="aligned"))
assert 0 < p_aligned < 1
