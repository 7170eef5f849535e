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
# # Wrong reward labels: does training still end aligned?
#
# Three models of a reward that is not the one we mean.
#
# 1. **The RL perceptron with a proxy teacher** (Patel et al. 2023, extended here): a
#    perceptron is rewarded per episode of $T$ actions when a proxy teacher $w_p$, at
#    overlap $\rho$ with the true teacher $w^*$, judges every action right; a share
#    $f$ of verdicts is flipped. `aligned`: the cosine $R/\sqrt Q$ with $w^*$ ends
#    above 0.9.
# 2. **Goodhart curves** (Gao, Schulman & Hilton 2022) in the same model, and
#    iterated optimisation against a proxy refreshed each round.
# 3. **The survival instinct of offline RL** (Li et al. 2023): with pessimism and safe
#    data, a wrong reward still gives a safe policy.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
import numpyro.distributions as dist

import basinlab as bl
from basinlab.simulations import calibrate
from basinlab.simulations.training import (
    compare_with_theory,
    proxy_rounds,
    reward_perceptron_run,
)
from basinlab.theory import goodhart_fit
from basinlab.theory.models import goodhart_distance, pessimistic_values

FAST = os.environ.get("BASINLAB_FAST") == "1"

# %% [markdown]
# ## Which proxies and flip rates still end aligned?
#
# From a random start ($R = S = 0$, $Q = 0.25$) the order-parameter ODEs run to
# $\alpha = 200$; the map shows the final cosine with the true teacher.

# %%
perceptron = bl.models.reward_perceptron(episode_length=3)
perceptron_jit = bl.compile_model(perceptron)
count = 6 if FAST else 30
overlaps = np.linspace(0.5, 1.0, count)
flips = np.linspace(0.0, 0.45, count)
start = [[0.0, 0.0, 0.25, 0.25]]
final = np.zeros((count, count))
final_proxy = np.zeros((count, count))
for i, rho in enumerate(overlaps):
    for j, flip in enumerate(flips):
        path = bl.trajectories(
            perceptron_jit, start, [0.0, 200.0], params={"rho": rho, "flip": flip}
        )
        final[j, i] = path["overlap"].values[0, -1]
        final_proxy[j, i] = path["proxy_cosine"].values[0, -1]
fig, ax = plt.subplots(figsize=(6.4, 4.6), layout="constrained")
mesh = ax.pcolormesh(overlaps, flips, final, shading="nearest", cmap="viridis")
ax.contour(overlaps, flips, final, [0.9], colors="white")
fig.colorbar(mesh, label="final cosine with the true teacher")
ax.set_xlabel("proxy overlap rho")
ax.set_ylabel("flip rate f")
ax.set_title("white: the aligned boundary (cosine 0.9)")
if not FAST:
    fig.savefig("figures/09_proxy_map.png", dpi=120)
# The data set the ceiling: a student that learns the proxy perfectly ends at rho.
set_by_data = np.abs(final - overlaps[None, :] * final_proxy)
print(f"aligned share of the (rho, f) square: {np.mean(final > 0.9):.3f}")
print(f"least rho that ends aligned without flips: {overlaps[np.argmax(final[0] > 0.9)]:.3f}")
print(f"final proxy cosine: {final_proxy.min():.3f} to {final_proxy.max():.3f}")
print(f"max |cosine - rho * proxy cosine|: {set_by_data.max():.4f}")
assert np.all(final <= overlaps[None, :] + 1e-6)
assert np.all(np.diff(final, axis=0) < 1e-9)  # more flips, less aligned

# %% [markdown]
# The endpoint's direction is the proxy's: the final cosine is $\rho$ times the final
# proxy cosine (up to the last digits), so the data (the proxy) set where training
# ends, and the reward's bias (flips) only sets how close to the proxy it gets in
# the time given; flips slow it, since the signal scales with $1 - 2f$.
#
# ## A real run against the ODE, and its calibration
#
# A perceptron at $D = 1000$ trained by the proxy's episode rewards ($T = 3$,
# $\rho = 0.7$, $f = 0.1$, penalty $\eta_2 = 0.5$); then $\rho$ is treated as unknown
# and fitted by NUTS to the true overlap alone.

# %%
settings = dict(proxy_overlap=0.7, flip=0.1, penalty=0.5, episode_length=3)
run = reward_perceptron_run(
    dim=400 if FAST else 1000, alphas=np.linspace(0, 10, 41), seed=1, progress=False, **settings
)
comparison = compare_with_theory(run)
print(
    f"max |cosine gap| {comparison.attrs['overlap_max_gap']:.4f}, "
    f"max relative Q gap {comparison.attrs['norm_max_relative_gap']:.3f}"
)
posterior = calibrate(
    bl.models.reward_perceptron(3),
    run,
    {"rho": dist.Uniform(-1, 1), "noise": dist.HalfNormal(0.1)},
    observed=["overlap"],
    params={"eta_1": 1.0, "eta_2": 0.5, "flip": 0.1, "S_0": run.attrs["S_0"]},
    num_warmup=100 if FAST else 400,
    num_samples=100 if FAST else 400,
    basin_draws=20,
    progress=False,
)
rho_draws = posterior.posterior["rho"].values.ravel()
low, high = np.quantile(rho_draws, [0.05, 0.95])
print(f"rho: posterior mean {rho_draws.mean():.3f}, 90% interval [{low:.3f}, {high:.3f}]")
fig, ax = plt.subplots(figsize=(6.4, 4.0), layout="constrained")
ax.plot(comparison["time"], comparison["overlap_run"], "o", markersize=3, label="run, D = 1000")
ax.plot(comparison["time"], comparison["overlap_theory"], label="ODE")
ax.plot(
    comparison["time"],
    comparison["y_run"].sel(state="S") / np.sqrt(comparison["y_run"].sel(state="Q")),
    "s",
    markersize=3,
    label="run: cosine with the proxy",
)
ax.set_xlabel("alpha = episodes / D")
ax.set_ylabel("cosine")
ax.legend(fontsize=8)
if not FAST:
    fig.savefig("figures/09_run_against_ode.png", dpi=120)
assert comparison.attrs["overlap_max_gap"] < 0.1
assert abs(rho_draws.mean() - 0.7) < 0.05

# %% [markdown]
# ## Goodhart curves
#
# Start near the true teacher ($w_0 = 0.7\,w^* + \xi$, cosine 0.57) and optimise a
# proxy at $\rho = 0.5$: the proxy reward (all $T$ actions right by $w_p$) rises all
# the way, the true reward first rises and then falls. Against the distance $d$ of the
# weights' direction from the start (`goodhart_distance`, standing in for
# $\sqrt{\mathrm{KL}}$), fit Gao et al.'s forms to the true-reward gain: their
# best-of-$n$ form $d(\alpha - \beta d)$ (Eq 1) and their RL form
# $d(\alpha - \beta \log d)$ (Eq 2).

# %%
rho, c = 0.5, 0.7
goodhart_start = [c, c * rho, c * c + 1, c * c + 1]
path = bl.trajectories(
    perceptron_jit,
    [goodhart_start],
    np.linspace(0, 100, 1001),
    params={"rho": rho, "flip": 0.0, "eta_2": 0.0, "S_0": c * rho},
)
y = path["y"].values[0]
d = goodhart_distance(y[:, 3], y[:, 2], goodhart_start[2])
true_reward = path["true_reward"].values[0]
proxy_reward = path["proxy_reward"].values[0]
gain = true_reward - true_reward[0]
fits = {form: goodhart_fit(d, gain, form) for form in ("log", "linear")}
peak = d[np.argmax(true_reward)]
fig, ax = plt.subplots(figsize=(6.4, 4.2), layout="constrained")
ax.plot(d, proxy_reward - proxy_reward[0], label="proxy reward gain")
ax.plot(d, gain, label="true reward gain", linewidth=2)
for form, fit in fits.items():
    shape = "log d" if form == "log" else "d"
    ax.plot(d, fit(d), "--", label=f"{fit.method} form d(α − β {shape})")
ax.axvline(peak, color="grey", linestyle=":")
ax.set_xlabel("d, distance of the policy from its start")
ax.set_ylabel("gain over the start")
ax.legend(fontsize=8)
if not FAST:
    fig.savefig("figures/09_goodhart.png", dpi=120)
print(f"true reward {true_reward[0]:.3f} -> peak {true_reward.max():.3f} at d = {peak:.3f}")
print(f"-> {true_reward[-1]:.3f} at d = {d[-1]:.3f}; proxy reward ends at {proxy_reward[-1]:.3f}")
for form, fit in fits.items():
    print(
        f"{form:6s} ({fit.method}): alpha {fit.alpha:.3f}, beta {fit.beta:.3f}, closed-form peak "
        f"d* = {fit.peak:.3f}, rms residual {fit.rms_residual:.4f}"
    )
assert true_reward.max() > true_reward[0] + 0.02 and true_reward[-1] < true_reward.max() - 0.02
assert np.all(np.diff(proxy_reward) > -1e-9)

# %% [markdown]
# ## Iterated optimisation: a fresh proxy each round
#
# Gao et al. (§4.3) retrain the reward model between rounds of optimisation and
# predict that this reduces the turn of the Goodhart curve. Here, stylised, each of
# $k$ equal rounds of the same $\alpha$ budget is judged by a fresh proxy at the same
# overlap $\rho$ but a new, independent error (`fresh_proxy`: $S \leftarrow \rho R$).
# The claim `reward_perceptron.fresh_proxy_limit` gives the limit of many rounds: the
# cosine is pushed towards 1, not to the fixed proxy's ceiling $\rho$. Gao et al.'s
# own prediction adds $k$ single-round curves each of length $d/k$: $k\,G_1(d/k)$.

# %%
for verdict in bl.proofs.check_claims(["reward_perceptron.fresh_proxy_limit"]):
    print(verdict.status, verdict.id, "-", verdict.detail)
times = path["time"].values
round_counts = (1, 2, 4, 8, 32)
iterated = {
    k: proxy_rounds(
        perceptron_jit,
        goodhart_start,
        times,
        np.linspace(0, times[-1], k + 1)[:-1],
        params={"rho": rho, "flip": 0.0, "eta_2": 0.0, "S_0": c * rho},
    )
    for k in round_counts
}
fig, (left, right) = plt.subplots(1, 2, figsize=(10.4, 4.2), layout="constrained")
for k, rounds in iterated.items():
    y_k = rounds["y"].values
    d_k = goodhart_distance(y_k[:, 3], y_k[:, 2], goodhart_start[2])
    (line,) = left.plot(times, rounds["true_reward"], label=f"k = {k}")
    right.plot(d_k, rounds["true_reward"] - true_reward[0], color=line.get_color())
    final_k = rounds["true_reward"].values[-1]
    print(
        f"k = {k:2d}: true reward peaks at {rounds['true_reward'].max().item():.3f}, ends at "
        f"{final_k:.3f} (cosine {rounds['overlap'].values[-1]:.3f}, d = {d_k[-1]:.3f})"
    )
    if k > 1:
        additive = k * np.interp(d_k / k, d, gain)
        miss = np.max(np.abs(rounds["true_reward"].values - true_reward[0] - additive))
        print(f"        max |gain - k G_1(d/k)| = {miss:.3f}")
        if k == 4:
            right.plot(d_k, additive, "--", color=line.get_color(), label="k G_1(d/k), k = 4")
left.axhline(true_reward.max(), color="grey", linestyle=":", label="peak of one round")
left.set_xlabel("alpha = episodes / D")
left.set_ylabel("true reward")
left.legend(fontsize=8)
right.set_xlabel("d, distance of the policy from its start")
right.set_ylabel("true reward gain")
right.legend(fontsize=8)
if not FAST:
    fig.savefig("figures/09_iterated.png", dpi=120)
finals = [iterated[k]["true_reward"].values[-1] for k in round_counts]
# A real run in 4 rounds from the same start, against the rounds of the ODE.
iterated_run = reward_perceptron_run(
    dim=400 if FAST else 1000,
    episode_length=3,
    proxy_overlap=rho,
    initial_overlap=c,
    init_scale=1.0,
    rounds=4,
    alphas=np.linspace(0, 20 if FAST else 100, 41),
    seed=3,
    progress=False,
)
iterated_comparison = compare_with_theory(iterated_run)
print(
    f"real run, 4 rounds: max |cosine gap| {iterated_comparison.attrs['overlap_max_gap']:.4f}, "
    f"final cosine {iterated_run['overlap'].values[-1]:.3f} against "
    f"{iterated_comparison['overlap_theory'].values[-1]:.3f}"
)
assert iterated_comparison.attrs["overlap_max_gap"] < 0.1
assert np.all(np.diff(finals) > 0)  # more rounds, more true reward at the same budget
assert all(final > true_reward.max() for final in finals[1:])  # no turn within the budget

# %% [markdown]
# Refreshing the proxy removes the turn within the budget: from $k = 2$ on the true
# reward ends above the single round's peak, and it rises with $k$ towards the
# fresh-proxy limit, where the cosine goes to 1. The errors are what each round
# overfits, and fresh errors do not add up. Gao et al.'s additive prediction
# $k\,G_1(d/k)$ misses here, by 0.06 at $k = 2$ and more at larger $k$. It assumes
# that rounds move the policy in the same direction, so that their distances add.
# Here later rounds turn back towards $w^*$, and the distance from the start *falls*
# while the true reward rises: $d$ measures how far the policy moved, not how much it
# was optimised. Both conclusions rest on the stylised assumption that each round's
# error is new. A proxy whose error persists across rounds is the single round
# ($k = 1$) again.

# %% [markdown]
# ## The survival instinct of offline RL
#
# On a chain of five cells with an absorbing failure state, pessimistic value
# iteration is a map whose fixed point and greedy policy are computed exactly. The
# three claims: safe under any reward with pessimism and safe data; unsafe when
# either is taken away.

# %%
for verdict in bl.proofs.check_claims(
    [
        f"survival_instinct.{name}"
        for name in ("safe_whatever_the_reward", "unsafe_without_bias", "unsafe_without_pessimism")
    ]
):
    print(verdict.status, verdict.id, "-", verdict.detail)

# %% [markdown]
# The set of rewards that give a safe policy, on the slice of goal and failure
# rewards (step reward 0), decided exactly by rational policy iteration and by
# iterating the compiled map, for each kind of data.

# %%
grid = 7 if FAST else 31
goal_rewards = np.linspace(-1, 1, grid)
failure_rewards = np.linspace(-1, 1, grid)
fig, axes = plt.subplots(1, 2, figsize=(9.6, 4.2), layout="constrained", sharey=True)
for ax, coverage in zip(axes, ("safe", "all")):
    chain = bl.compile_model(bl.models.survival_instinct(coverage=coverage))
    safe_map = np.zeros((grid, grid), dtype=bool)
    margins = np.zeros((grid, grid))
    for i, goal in enumerate(goal_rewards):
        for j, failure in enumerate(failure_rewards):
            rewards = {"step": 0.0, "goal": goal, "failure": failure}
            runs = bl.trajectories(
                chain, [np.zeros(6)], [0, 400], params={"r_goal": goal, "r_failure": failure}
            )
            safe_map[j, i] = runs["holds"].sel(predicate="safe").values[0, -1]
            margins[j, i] = pessimistic_values(5, 0.9, 1.0, coverage, rewards)[1]
    ax.pcolormesh(
        goal_rewards,
        failure_rewards,
        safe_map,
        shading="nearest",
        vmin=0,
        vmax=1,
        cmap=plt.matplotlib.colors.ListedColormap(["#c44e52", "#55a868"]),
    )
    for name, (goal, failure) in {"true": (1, -1), "zero": (0, 0), "negated": (-1, 1)}.items():
        ax.plot(goal, failure, "k*")
        ax.annotate(name, (goal, failure), fontsize=8, xytext=(4, 4), textcoords="offset points")
    ax.set_title(f"data: {coverage} actions; green: safe")
    ax.set_xlabel("goal reward")
    print(f"{coverage} coverage: safe share {safe_map.mean():.3f}")
    # Ties (zero margin) are decided by rounding in floating point; elsewhere the map
    # and the exact decision agree.
    decided = np.abs(margins) > 1e-9
    assert np.array_equal(safe_map[decided], margins[decided] > 0)
axes[0].set_ylabel("failure reward")
if not FAST:
    fig.savefig("figures/09_survival_instinct.png", dpi=120)
