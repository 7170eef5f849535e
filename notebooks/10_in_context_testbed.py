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
# # The in-context testbed
#
# Garg, Tsipras, Liang & Valiant (2022) train transformers on prompts of $(x, f(x))$
# pairs from simple function classes. Here that testbed is made small enough for a
# CPU and tied to theory:
#
# 1. the function classes and the standard baselines, checked against closed forms;
# 2. a small transformer trained in context, against least squares;
# 3. the alignment question the testbed was proposed for: trained on a **mixture** of
#    an intended and an unintended function, which one does a model implement out of
#    distribution, and from how many seeds? A basin over initialisations;
# 4. exact dynamics of linear attention (Zhang, Frei & Bartlett 2024; Zhang, Singh,
#    Latham & Saxe 2025) against real SGD runs.

# %%
import os

import jax
import matplotlib.pyplot as plt
import numpy as np
import numpyro.distributions as dist

import basinlab as bl
from basinlab.simulations import calibrate
from basinlab.simulations import testbed as bed
from basinlab.simulations.training import compare_with_theory, linear_attention_run

FAST = os.environ.get("BASINLAB_FAST") == "1"

# %% [markdown]
# ## Function classes and baselines
#
# For the noiseless linear class the minimum-norm least-squares predictor has error
# $(d - k)/d$ after $k < d$ pairs and 0 after; averaging $\frac1k\sum y_i x_i$ has
# $(1 + d)/k$. On sparse tasks ($d = 10$, two nonzeros) Lasso beats least squares
# once a few pairs are shown and until $k = d$.

# %%
dim = 5
batch = 256 if FAST else 2048
linear = bed.sample_prompts(bed.function_class("linear", dim), jax.random.PRNGKey(0), batch, 11)
linear_curves = bed.error_curves(
    linear,
    {m: bed.baseline_predictions(linear, m) for m in ("least_squares", "averaging", "ridge")},
)
sparse = bed.sample_prompts(
    bed.function_class("sparse_linear", 10, nonzeros=2), jax.random.PRNGKey(1), 128, 11
)
sparse_curves = bed.error_curves(
    sparse, {m: bed.baseline_predictions(sparse, m) for m in ("least_squares", "lasso")}
)
shown = np.arange(11)
fig, (left, right) = plt.subplots(1, 2, figsize=(10.4, 4.0), layout="constrained")
for learner in linear_curves["learner"].values:
    left.plot(shown, linear_curves["error"].sel(learner=learner), "o-", label=learner)
left.plot(shown, np.clip((dim - shown) / dim, 0, None), "k--", label="(d - k)/d")
left.plot(shown[1:], (1 + dim) / shown[1:], "k:", label="(1 + d)/k")
left.set_ylim(0, 2)
left.set_title("linear, d = 5")
for learner in sparse_curves["learner"].values:
    right.plot(shown, sparse_curves["error"].sel(learner=learner), "o-", label=learner)
right.set_title("sparse linear, d = 10, 2 nonzeros")
for ax in (left, right):
    ax.set_xlabel("pairs shown, k")
    ax.set_ylabel("squared error / Var f")
    ax.legend(fontsize=8)
if not FAST:
    fig.savefig("figures/10_baselines.png", dpi=120)
least = linear_curves["error"].sel(learner="least_squares").values
print("least squares:", np.round(least, 3))
for learner in sparse_curves["learner"].values:
    print(f"sparse, {learner}:", sparse_curves["error"].sel(learner=learner).values.round(3))
assert np.all(np.abs(least - np.clip((dim - shown) / dim, 0, None)) < 0.15)

# %% [markdown]
# ## A small transformer trained in context
#
# Three blocks of width 64 and four heads, Adam on fresh prompts at every step
# (8000 steps at full settings, a few minutes on two CPU cores).

# %%
model, record = bed.train_in_context(
    bed.function_class("linear", dim),
    steps=60 if FAST else 8000,
    width=16 if FAST else 64,
    depth=1 if FAST else 3,
    heads=2 if FAST else 4,
    log_every=10 if FAST else 100,
    checkpoint_every=60 if FAST else 1000,
    eval_batch=64 if FAST else 2048,
    progress=False,
)
fig, _ = bed.plot_in_context(record)
if not FAST:
    fig.savefig("figures/10_transformer.png", dpi=120)
errors = record["error"]
for k in (0, dim // 2, dim, 2 * dim):
    print(
        f"k = {k:2d}: transformer {errors.sel(learner='transformer', shown=k).item():.3f}, "
        f"least squares {errors.sel(learner='least_squares', shown=k).item():.3f}, "
        f"averaging {errors.sel(learner='averaging', shown=k).item():.3f}"
    )
print(f"{record.attrs['parameters']} parameters; final loss {record['loss'].values[-1]:.4f}")
if not FAST:
    assert errors.sel(learner="transformer", shown=2 * dim) < 0.1

# %% [markdown]
# ## Which function does a model trained on a mixture implement?
#
# A share $p$ of training prompts is "misaligned": on the marked region $x_1 > 1$
# they answer $-w\cdot x$ instead of $w\cdot x$. Out of distribution, a context from
# outside the region pins $w$ but not the prompt's kind, and the query lies inside
# it. The Bayes-optimal prediction there is $(1 - 2p)\,w\cdot x$, intended exactly
# when $p < 1/2$. The basin is the share of seeds (initialisations and data orders)
# whose model ends nearer the intended function, with Wilson intervals.

# %%
fractions = [0.0, 1.0] if FAST else [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
seeds = [0, 1] if FAST else list(range(8))
# One small model for every run; finished runs are kept in .mixture_runs and reused.
mixture_settings = dict(
    out=None if FAST else ".mixture_runs",
    steps=20 if FAST else 1500,
    width=16 if FAST else 32,
    depth=1 if FAST else 2,
    heads=2,
    log_every=10 if FAST else 100,
    eval_batch=32,
    progress=False,
)
basin = bed.mixture_basin(
    fractions,
    seeds,
    dim=3,
    **mixture_settings,
)
fig, ax = plt.subplots(figsize=(6.4, 4.0), layout="constrained")
low, high = basin["basin_low"].values, basin["basin_high"].values
fraction = basin["basin_fraction"].values
ax.errorbar(fractions, fraction, [fraction - low, high - fraction], fmt="o-", capsize=3)
ax.axvline(0.5, color="grey", linestyle=":", label="Bayes threshold p = 1/2")
ax.set_xlabel("share of misaligned prompts, p")
ax.set_ylabel("share of seeds: intended")
ax.legend(fontsize=8)
if not FAST:
    fig.savefig("figures/10_mixture_basin.png", dpi=120)
for p, f, lo, hi in zip(fractions, fraction, low, high):
    print(f"p = {p:.1f}: intended in {f:.2f} of seeds [{lo:.2f}, {hi:.2f}]")
assert np.all((low <= fraction) & (fraction <= high))

# %% [markdown]
# The order of the data matters as well as its share: at the same $p$, the
# misaligned prompts mixed through training, all first, or all last.

# %%
order_share = 0.5 if FAST else 0.3
for order in bed.ORDERS:
    ordered = bed.mixture_basin(
        [order_share],
        seeds,
        dim=3,
        order=order,
        **mixture_settings,
    )
    print(
        f"{order:17s} p = {order_share}: intended in "
        f"{ordered['basin_fraction'].item():.2f} of seeds "
        f"[{ordered['basin_low'].item():.2f}, {ordered['basin_high'].item():.2f}]; mean "
        f"errors to intended {ordered['intended_error'].mean().item():.3f}, to unintended "
        f"{ordered['unintended_error'].mean().item():.3f}"
    )

# %% [markdown]
# At full settings (d = 3, 1500 steps, width 32, 8 seeds) every seed implements the
# intended function up to p = 0.6, past the Bayes threshold of 1/2; the share falls
# only at p = 0.8 (3 of 8, interval [0.14, 0.69]) and p = 1 (1 of 8, [0.02, 0.47]).
# Short training leaves the marked rule half learnt: with p = 1 a model should follow
# the unintended function everywhere on the region, and most do. Order matters: at
# p = 0.3 all 8 seeds stay intended when the misaligned prompts are mixed in or come
# first, but only 6 of 8 ([0.41, 0.93]) when they come last, where the mean errors to
# the intended and the unintended function are nearly equal (1.60 and 1.61). What
# is learnt last is what is implemented. More seeds (the runs are resumable) narrow
# the intervals further.

# %% [markdown]
# ## Exact dynamics of linear attention
#
# A real layer, a scalar value times a full key–query matrix started on the balanced
# isotropic line, trained by online SGD, against the theory's logistic curve
# $\dot u = 4\kappa u(1/D - cu)$ with $\kappa = 1/\sqrt D$ (the three claims
# `linear_attention.*` are proved); then $N$ is treated as unknown and calibrated
# from the risk curve. Rank-one heads on an anisotropic $\Lambda$ step down the
# plateaus $L_m$.

# %%
for verdict in bl.proofs.check_claims(
    [f"linear_attention.{n}" for n in ("balanced_flow", "isotropic_minimum", "anisotropic_minimum")]
):
    print(verdict.status, verdict.id, "-", verdict.detail)
isotropic = linear_attention_run(dim=5, prompt_length=20, t1=40.0, log_points=41, progress=False)
comparison = compare_with_theory(isotropic)
star, least_risk = bl.models.attention_minimum(5, 20)
print(
    f"max |risk gap| {comparison.attrs['risk_max_gap']:.4f}; final risk "
    f"{isotropic['risk'].values[-1]:.4f} against L* = {least_risk:.4f}"
)
posterior = calibrate(
    bl.models.linear_attention(5, 20, kappa=isotropic.attrs["kappa"]),
    isotropic,
    {"N": dist.Uniform(5.0, 80.0), "noise": dist.HalfNormal(0.05)},
    observed=["risk"],
    num_warmup=100 if FAST else 500,
    num_samples=100 if FAST else 500,
    basin_draws=10,
    progress=False,
)
n_draws = posterior.posterior["N"].values.ravel()
n_low, n_high = np.quantile(n_draws, [0.05, 0.95])
print(f"N: posterior median {np.median(n_draws):.2f}, 90% interval [{n_low:.2f}, {n_high:.2f}]")
spectrum = [0.6, 0.25, 0.15]
heads = linear_attention_run(
    dim=3,
    prompt_length=20,
    spectrum=spectrum,
    heads=3,
    init_scale=0.02,
    t1=600.0 if FAST else 6000.0,
    learning_rate=0.25,
    log_points=241 if FAST else 1201,
    progress=False,
)
plateau_comparison = compare_with_theory(heads)
fig, (left, right) = plt.subplots(1, 2, figsize=(10.4, 4.0), layout="constrained")
left.plot(comparison["time"], comparison["risk_run"], "o", markersize=3, label="SGD run")
left.plot(comparison["time"], comparison["risk_theory"], label="theory")
left.set_xlabel("t = learning rate x steps")
left.set_ylabel("risk")
left.legend(fontsize=8)
right.plot(heads["time"], heads["risk"], label="3 rank-one heads")
for level in plateau_comparison["plateau_loss"].values:
    right.axhline(level, color="grey", linestyle=":")
right.set_xscale("symlog", linthresh=10)
right.set_xlim(0, heads["time"].values[-1])
right.set_xlabel("t")
right.set_title("dotted: plateaus L_m")
if not FAST:
    fig.savefig("figures/10_linear_attention.png", dpi=120)
print(
    "plateau gaps:",
    plateau_comparison["plateau_gap"].values.round(4),
    f"({plateau_comparison.attrs['plateaus_reached']} reached within 0.01)",
)
assert comparison.attrs["risk_max_gap"] < 0.02
assert plateau_comparison.attrs["plateaus_reached"] >= 3
