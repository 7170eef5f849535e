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
# # The basin of attraction for alignment, made precise
#
# **Training process.** A flow $\dot x = f(x;\theta)$, a map $x_{k+1} = F(x_k;\theta)$
# or an SDE $dx = f\,dt + g\,dW$ on a state $x$ (weights, or order parameters that
# summarise them), with parameters $\theta$ (data, rewards, learning rates).
#
# **Attractor.** A compact invariant set $A$ that attracts a neighbourhood; its basin
# $\mathcal B(A) = \{x_0 : \omega(x_0) \subseteq A\}$.
#
# **Alignment predicate.** A statement $P$ about a state (`aligned`: the cosine with
# the true teacher exceeds 0.9) or about a whole trajectory (`values_first`,
# `never_lags`: $P$ holds all along).
#
# **The aligned basin.** $\mathcal B_P = \bigcup\{\mathcal B(A) : P \text{ holds on }
# A\}$, or for path predicates the set of starts whose trajectory satisfies $P$.
#
# **Basin fraction.** Under a pre-training distribution $p_0$, the probability
# $p_0(\mathcal B_P)$ that training ends aligned, estimated with a Wilson interval.
#
# **Margin.** The minimal critical shock: the least perturbation that carries the
# aligned attractor out of its basin, bracketed by a certified ball and a simulated
# escape.
#
# **Persistence.** The mean time to leave the aligned basin under noise (Eyring–Kramers
# for small noise; simulated escape times).
#
# **Robustness across parameters.** Continuation of the attractor and its basin fraction
# in $\theta$; folds where the aligned attractor disappears.
#
# Each is measured below; section 5 uses the calibrated posterior of a real run as
# $p_0$ over parameters, to give the probability that this run ends aligned.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
import numpyro.distributions as dist
import sympy as sp

import basinlab as bl
from basinlab.simulations import calibrate, holds_all_along
from basinlab.simulations.training import reward_perceptron_run
from basinlab.theory.models import balanced_start

FAST = os.environ.get("BASINLAB_FAST") == "1"

# %% [markdown]
# ## 1. Attractors, the aligned basin and its fraction (the default model)

# %%
model = bl.models.alignment_double_well()
stable = [
    p for p in bl.fixed_points(model) if p.kind in (bl.theory.STABLE_NODE, bl.theory.STABLE_FOCUS)
]
for point in stable:
    print(point.kind, point.location)
p0 = dist.Uniform(np.array([-2.0, -1.0]), np.array([2.0, 3.0])).to_event(1)
fractions = bl.basin_fractions(model, p0, n=2_000 if FAST else 40_000, seed=0, progress=False)
aligned, low, high = (
    float(fractions[k].values[0]) for k in ("predicate_fraction", "predicate_low", "predicate_high")
)
print(f"p0(aligned basin) = {aligned:.4f}  [{low:.4f}, {high:.4f}]")
assert len(stable) == 2 and low <= aligned <= high

# %% [markdown]
# ## 2. Margin: the minimal critical shock

# %%
shock = bl.minimal_critical_shock(
    model, (1.0, 2.0), n=48 if FAST else 256, refinements=4 if FAST else 12, progress=False
)
print(f"certified {shock.lower:.4f} <= margin <= simulated {shock.upper:.4f}")
assert 0 < shock.lower <= shock.upper

# %% [markdown]
# ## 3. Persistence under noise

# %%
D = sp.Symbol("D", positive=True)
noisy = model.with_noise(bl.Noise.isotropic(D, 2), {D: 0.05})
saddle = (sp.Rational(1, 5), sp.Rational(6, 5))
for temperature in (0.05, 0.02):
    law = bl.eyring_kramers(noisy, (1, 2), saddle, temperature)
    print(
        f"D = {temperature}: barrier {law.barrier} = {float(law.barrier):.4f}, "
        f"Eyring-Kramers mean escape time {law.mean_time:.3g}"
    )

# %% [markdown]
# ## 4. Robustness across parameters: the fold
#
# In the tilted well the aligned attractor vanishes at the bias $2\sqrt3/9$ (a PROVED
# claim), and with it the aligned basin.

# %%
verdict = bl.proofs.check_claims(["alignment_tilted_well.fold"])[0]
print(verdict.status, "-", verdict.detail)
tilted = bl.models.alignment_tilted_well()
fold = 2 * np.sqrt(3) / 9
for bias in (fold - 0.02, fold + 0.02):
    f = bl.basin_fractions(
        tilted, p0, n=1_000 if FAST else 10_000, params={"bias": bias}, progress=False
    )
    print(f"bias {bias:.3f}: aligned fraction {float(f['predicate_fraction'].values[0]):.3f}")

# %% [markdown]
# A path predicate: under the default curriculum of `capability_race` the values mode
# passes 90% before awareness passes 10%, all along the run.

# %%
race = bl.models.capability_race()
runs = bl.trajectories(
    race, [balanced_start({"values": 0.01, "awareness": 0.01}, race)], np.linspace(0, 30, 3001)
)
print("values first all along:", bool(holds_all_along(runs, "values_first").values[0]))

# %% [markdown]
# ## 5. The probability that a real run ends aligned
#
# A real RL perceptron ($D = 1000$) is trained by a proxy teacher whose overlap with
# the true teacher, $\rho$, is unknown to us. Its logged cosine with the true teacher
# calibrates $\rho$ (NUTS); the posterior is $p_0$ over the parameter, and each draw is
# pushed through the ODE to $\alpha = 200$: the share of draws that end `aligned` is
# the probability that this run ends aligned. As the final cosine rises with $\rho$,
# the same number is the posterior mass above the exact threshold $\rho^\star$ where
# the endpoint crosses 0.9, found by bisection: an independent check.
#
# A caution the figure shows: the fit's noise model treats the run's scatter around
# the ODE as independent from one logged time to the next, while a finite-$D$ run's
# errors are correlated along it, so the posterior is too narrow and can miss the
# true $\rho$ by about 0.01 at $D = 1000$. Several runs, or a correlated noise model,
# would widen it honestly.

# %%
true_rho = 0.915
run = reward_perceptron_run(
    dim=400 if FAST else 1000,
    episode_length=3,
    proxy_overlap=true_rho,
    alphas=np.linspace(0, 10, 41),
    seed=2,
    progress=False,
)
perceptron = bl.compile_model(bl.models.reward_perceptron(3))
fixed = {"eta_1": 1.0, "eta_2": 0.0, "flip": 0.0, "S_0": run.attrs["S_0"]}
posterior = calibrate(
    perceptron,
    run,
    {"rho": dist.Uniform(0, 1), "noise": dist.HalfNormal(0.1)},
    observed=["overlap"],
    params=fixed,
    num_warmup=100 if FAST else 400,
    num_samples=100 if FAST else 400,
    basin_draws=20,
    progress=False,
)
draws = posterior.posterior["rho"].values.ravel()
start = run["y"].values[:1]


def final_cosine(rho):
    path = bl.trajectories(perceptron, start, [0.0, 200.0], params={**fixed, "rho": float(rho)})
    return float(path["overlap"].values[0, -1])


subset = draws[:: max(1, len(draws) // (50 if FAST else 400))]
ends_aligned = np.array([final_cosine(rho) > 0.9 for rho in subset])
low_rho, high_rho = 0.5, 1.0
for _ in range(40):
    middle = (low_rho + high_rho) / 2
    low_rho, high_rho = (middle, high_rho) if final_cosine(middle) <= 0.9 else (low_rho, middle)
threshold = high_rho
probability = ends_aligned.mean()
band = np.quantile(draws, [0.05, 0.95])
print(f"posterior rho: {draws.mean():.4f} [{band[0]:.4f}, {band[1]:.4f}]")
print(f"exact threshold rho* = {threshold:.4f}")
above = np.mean(subset > threshold)
print(f"P(this run ends aligned) = {probability:.3f} (posterior mass above rho*: {above:.3f})")
assert probability == above
fig, ax = plt.subplots(figsize=(6.4, 4.0), layout="constrained")
ax.hist(draws, bins=40, color="#4c72b0")
ax.axvline(threshold, color="black", linestyle="--", label="rho*: ends aligned above")
ax.axvline(true_rho, color="#c44e52", label="the run's true rho")
ax.set_xlabel("proxy overlap rho (posterior)")
ax.set_title(f"P(ends aligned) = {probability:.2f}")
ax.legend(fontsize=8)
if not FAST:
    fig.savefig("figures/06_probability_aligned.png", dpi=120)
