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
# # Basins of real networks
#
# From which initialisations and pre-training does real training *end* aligned, and
# does the theory predict that share? Here thousands of real training runs are
# trained at once (`train_ensemble`: vmapped over runs, each run a function of its
# own key) and their share per end state is set beside the share that the
# order-parameter theory predicts, run by run, from each run's own start: its ODE,
# and near the boundary its SDE of finite size.
#
# The network is the RL perceptron (Patel, Lee, Sarao Mannelli, Goldt & Saxe 2023):
# a perceptron in $D$ dimensions that acts for $T$ steps and is rewarded $\eta_1$
# when all $T$ actions are right and penalised $\eta_2$ otherwise. With $T = 5$ and
# $\eta_2 = 0.8$ its ODE is **bistable**: from a small cosine with the teacher the
# student is stuck at a low cosine, from a large one it learns. A real basin
# boundary, in the space of initialisations.
#
# 1. the measured share against the theory's, across the boundary and over $D$;
# 2. pre-training on the intended labels for $P$ steps, then fine-tuning with
#    flipped rewards at rate $f$: the share that ends aligned over $(P, f)$, with the
#    theory's boundary drawn on it;
# 3. the basin of real runs on a plane through weight space, beside the theory's map
#    in order-parameter coordinates;
# 4. the smallest shock to a trained aligned network after which training on ends
#    unaligned, against the ODE's critical shock;
# 5. a two-layer teacher–student network at finite $N$ that specialises or is still
#    stuck on its plateau when the budget ends, against the ODE run by run.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

from basinlab.simulations import plot_training_ensemble
from basinlab.simulations.training import (
    RewardPerceptronTask,
    TeacherStudentTask,
    ensemble_fractions,
    minimal_fine_tuning_shock,
    predicted_fractions,
    train_ensemble,
    weight_plane_map,
)

FAST = os.environ.get("BASINLAB_FAST") == "1"
BISTABLE = dict(episode_length=5, penalty=0.8)

# %% [markdown]
# ## 1. Measured against predicted, across the boundary
#
# Each run starts at $w_0 = c\,w^* + \sqrt{1 - c^2}\,\xi$, so its cosine with the
# teacher is $c$ up to fluctuations of order $D^{-1/2}$; it trains for $20D$
# episodes ($\alpha = 20$). Two theories predict each run from its own $(R, S, Q)$
# at step 0:
#
# - the **ODE** ($D \to \infty$) says where the run ends, so its share is the ODE's
#   basin pushed through the distribution of starts that the random initialisation
#   induces at this $D$;
# - the **SDE of finite $D$** (`reward_perceptron(dim=D)`) adds the noise of the
#   episodes, $\Sigma/D$ with $\Sigma$ the exact covariance of one episode's
#   increment, and gives each run a chance to end aligned (the share of its paths
#   that do). Its range is where the measured share should fall if it is right.

# %%
cosines = [0.5, 0.7] if FAST else [0.45, 0.55, 0.6, 0.65, 0.7, 0.8]
dims = [50] if FAST else [50, 100, 200, 400]
n = 32 if FAST else 256
paths = 2 if FAST else 16
rows = []
for dim in dims:
    for c in cosines:
        task = RewardPerceptronTask(
            dim=dim, **BISTABLE, initial_overlap=c, init_scale=float(np.sqrt(1 - c**2))
        )
        record = train_ensemble(task, n=n, steps=20 * dim, log_every=dim, seed=1, progress=not FAST)
        measured = ensemble_fractions(record).sel(outcome=0)
        ode = predicted_fractions(task, record).sel(outcome=0)
        sde = predicted_fractions(task, record, fluctuations=True, paths=paths).sel(outcome=0)
        rows.append(
            [dim, c]
            + [float(measured[k]) for k in ("fraction", "fraction_low", "fraction_high")]
            + [float(ode["fraction"])]
            + [float(sde[k]) for k in ("fraction", "fraction_low", "fraction_high")]
        )
table = np.array(rows)
print(" D     c   measured  [95% Wilson]       ODE     SDE  [its 95% range]")
for dim, c, fraction, low, high, ode, sde, sde_low, sde_high in rows:
    print(
        f"{dim:4d}  {c:.2f}  {fraction:.3f}     [{low:.3f}, {high:.3f}]   {ode:.3f}   "
        f"{sde:.3f}  [{sde_low:.3f}, {sde_high:.3f}]"
    )

# %% [markdown]
# At full settings ($n = 256$ per point, 16 SDE paths per run) the ODE is right
# away from the boundary (0.000 against 0.000 at $c = 0.45$, $D = 400$) but too
# sharp near it: its largest gap is 0.09 to 0.11 at every $D$ from 50 to 400, since
# the episodes' noise, which it leaves out, scales as $D^{-1/2}$ like the spread of
# the starts. The SDE closes it: its largest gap is 0.017, 0.028, 0.032 and 0.016 at
# $D = 50, 100, 200, 400$, and the measured share lies inside the SDE's 95% range at
# 23 of the 24 points (the other, $D = 100$ at $c = 0.45$, is 0.074 against a range
# that ends at 0.071). Run by run the ODE's end state is right for 73% to 100% of
# the runs; the SDE gives each run a chance instead, so its per-run figure (the
# mean chance of the measured end) is lower by design.

# %%
for dim in dims:
    part = table[table[:, 0] == dim]
    ode_gap, sde_gap = (np.max(np.abs(part[:, 2] - part[:, k])) for k in (5, 6))
    print(f"D = {dim:4d}: largest |measured - theory|: ODE {ode_gap:.3f}, SDE {sde_gap:.3f}")
fig, ax = plt.subplots(figsize=(6.4, 4.0), layout="constrained")
for k, dim in enumerate(dims):
    part = table[table[:, 0] == dim]
    colour = f"C{k}"
    ax.errorbar(
        part[:, 1] + 0.004 * k,
        part[:, 2],
        yerr=np.abs(part[:, 3:5].T - part[:, 2]),
        fmt="o",
        color=colour,
        capsize=3,
        label=f"runs, D = {dim}",
    )
    ax.plot(part[:, 1], part[:, 5], ":", color=colour, label=f"ODE, D = {dim}")
    ax.plot(part[:, 1], part[:, 6], "-", color=colour, label=f"SDE, D = {dim}")
ax.set_xlabel("initial cosine c with the true teacher")
ax.set_ylabel("share of runs that end aligned")
ax.legend(fontsize=7, ncol=2)
if not FAST:
    fig.savefig("figures/11_measured_against_theory.png", dpi=120)

# %% [markdown]
# One ensemble at the boundary, drawn: the paths of the cosine by end state, and the
# shares beside the theory's.

# %%
task = RewardPerceptronTask(dim=dims[0], **BISTABLE, initial_overlap=0.62, init_scale=0.78)
record = train_ensemble(task, n=n, steps=20 * dims[0], log_every=dims[0], seed=2, progress=not FAST)
fig, _ = plot_training_ensemble(
    record, "overlap", ensemble_fractions(record), predicted_fractions(task, record)
)

# %% [markdown]
# ## 2. Pre-training close to the basin
#
# Each run starts at a random $w_0$ (cosine about 0), is pre-trained for $P$ steps by
# Hebbian learning on the true teacher's labels, then fine-tuned by episode rewards
# whose verdict is flipped with probability $f$, for a fixed budget of $23D$ steps in
# all. Does it stay aligned? The theory's boundary is where the ODE, started from
# the mean start $(R, S, Q) = (0, 0, 1)$, ends at the threshold cosine 0.5.

# %%
dim = 50 if FAST else 100
budget = 23 * dim
pretraining = np.array([0.0, 1.0, 2.0] if FAST else [0.0, 0.5, 1.0, 1.5, 2.0, 3.0])
flips = np.array([0.0, 0.3]) if FAST else np.linspace(0.0, 0.4, 5)
n_map = 32 if FAST else 128
share = np.zeros((flips.size, pretraining.size))
for i, f in enumerate(flips):
    for j, p in enumerate(pretraining):
        task = RewardPerceptronTask(
            dim=dim, **BISTABLE, flip=float(f), init_scale=1.0, pretrain_steps=int(p * dim)
        )
        record = train_ensemble(task, n=n_map, steps=budget, log_every=dim, seed=3, progress=False)
        share[i, j] = float(ensemble_fractions(record)["fraction"].sel(outcome=0))

fine_p = np.linspace(0.0, pretraining[-1], 11 if FAST else 61)
fine_f = np.linspace(flips[0], flips[-1], 4 if FAST else 33)
theory = np.zeros((fine_f.size, fine_p.size))
mean_start = {"R": [0.0], "S": [0.0], "Q": [1.0]}
for i, f in enumerate(fine_f):
    for j, p in enumerate(fine_p):
        task = RewardPerceptronTask(
            dim=dim, **BISTABLE, flip=float(f), init_scale=1.0, pretrain_steps=int(p * dim)
        )
        end = task.predict_order_parameters(mean_start, budget)
        theory[i, j] = float(end["R"][0] / np.sqrt(end["Q"][0]))

fig, ax = plt.subplots(figsize=(6.4, 4.2), layout="constrained")
image = ax.pcolormesh(pretraining, flips, share, cmap="RdBu", vmin=0, vmax=1, shading="nearest")
fig.colorbar(image, ax=ax, label=f"share of {n_map} runs that end aligned")
ax.contour(fine_p, fine_f, theory, levels=[0.5], colors="black", linewidths=2)
ax.plot([], [], color="black", label="theory: the ODE from the mean start ends at cosine 0.5")
ax.set_xlabel("pre-training P / D")
ax.set_ylabel("flip rate f of the fine-tuning rewards")
ax.legend(fontsize=7, loc="upper right")
if not FAST:
    fig.savefig("figures/11_pretraining_map.png", dpi=120)
for i, f in enumerate(flips):
    print(f"f = {f:.2f}: " + " ".join(f"{v:.2f}" for v in share[i]))

# %% [markdown]
# ## 3. The basin on a plane through weight space
#
# Starts $w_0 = a\,w^* + b\,e$ on the plane of the true teacher $w^*$ and the
# direction $e \perp w^*$ (the proxy's error direction when $\rho < 1$), each
# trained with several data streams. On this plane the order parameters are
# $R = a$, $S = a$ and $Q = a^2 + b^2$ (here $\rho = 1$), so the theory's map in
# order-parameter coordinates, $(R/\sqrt Q, \sqrt Q)$, is the same map in polar
# form: the ODE's boundary is a curve of initial cosine against initial norm.
# Left: where real runs end, with the theory's boundary (black) drawn on it. Right:
# the theory's map in order-parameter coordinates.

# %%
dim = 50 if FAST else 100
task = RewardPerceptronTask(dim=dim, **BISTABLE)
a = np.linspace(-0.5, 2.5, 9 if FAST else 21)
b = np.linspace(0.05, 2.5, 6 if FAST else 17)
plane = weight_plane_map(
    task,
    np.zeros(dim),
    tuple(np.asarray(task.plane)),
    a,
    b,
    steps=20 * dim,
    log_every=dim,
    streams=2 if FAST else 8,
    seed=4,
    progress=not FAST,
)
cosines_grid = np.linspace(-0.2, 0.99, 41 if FAST else 121)
norms_grid = np.linspace(0.05, 2.5, 21 if FAST else 81)
grid_c, grid_n = np.meshgrid(cosines_grid, norms_grid, indexing="ij")
order_start = {"R": (grid_c * grid_n).ravel(), "Q": (grid_n**2).ravel()}
order_start["S"] = order_start["R"]
end = task.predict_order_parameters(order_start, 20 * dim)
theory_cosine = (end["R"] / np.sqrt(end["Q"])).reshape(grid_c.shape)

fig, (real, theory_ax) = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
image = real.pcolormesh(
    a, b, plane["fraction"].sel(end_state="aligned").T, cmap="RdBu", vmin=0, vmax=1
)
real.contour(a, b, plane["label_predicted"].T, levels=[0.5], colors="black", linewidths=2)
real.set_xlabel("a (along the true teacher)")
real.set_ylabel("b (orthogonal to it)")
real.set_title("real runs; black: the theory's boundary")
fig.colorbar(image, ax=real, label="share of runs that end aligned")
image = theory_ax.pcolormesh(norms_grid, cosines_grid, theory_cosine, cmap="RdBu", vmin=0, vmax=1)
theory_ax.contour(norms_grid, cosines_grid, theory_cosine, levels=[0.5], colors="black")
theory_ax.set_xlabel("initial norm sqrt(Q)")
theory_ax.set_ylabel("initial cosine R / sqrt(Q)")
theory_ax.set_title("theory: final cosine of the ODE")
fig.colorbar(image, ax=theory_ax, label="final cosine")
if not FAST:
    fig.savefig("figures/11_weight_plane.png", dpi=120)
measured_side = plane["fraction"].sel(end_state="aligned").values > 0.5
predicted_side = plane["label_predicted"].values == 0
print(
    f"grid points where the majority of runs ends where the theory says: "
    f"{np.mean(measured_side == predicted_side):.3f}"
)

# %% [markdown]
# ## 4. The minimal fine-tuning shock
#
# A trained aligned network (cosine 0.98 with the teacher, $\sqrt Q \approx 3$) is
# shocked, $w \to w + \varepsilon\|w\|\hat d$, and trained on for $10D$ steps. The
# smallest $\varepsilon$ after which most runs end unaligned is bracketed by
# bisection along the direction that lowers the cosine fastest and along random
# directions; the ODE's critical shock along the same directions, from the shocked
# order parameters, stands beside it.

# %%
trained = task.plane_starts([3.0], [0.6])[0]
rng = np.random.default_rng(5)
directions = np.vstack(
    [task.toward_misalignment(trained), rng.normal(size=(2 if FAST else 16, dim))]
)
shock = minimal_fine_tuning_shock(
    task,
    trained,
    directions,
    steps=10 * dim,
    log_every=dim,
    streams=3 if FAST else 8,
    bisections=4 if FAST else 10,
    seed=6,
    progress=not FAST,
)
kinds = ["steepest"] + ["random"] * (directions.shape[0] - 1)
for kind, row in zip(kinds, shock.to_dataframe().itertuples()):
    print(
        f"{kind:9s} runs [{row.shock_low:.3f}, {row.shock_high:.3f}]   "
        f"ODE [{row.theory_low:.3f}, {row.theory_high:.3f}]"
    )

# %% [markdown]
# ## 5. A committee machine: off the plateau within the budget, or not
#
# A two-layer erf student with $K = 2$ units learns a teacher of $M = 2$ orthogonal
# units by online SGD (Saad & Solla 1995). From a small random start it first
# sits on the unspecialised plateau, where both units overlap equally with both
# teachers, and leaves it after a time that grows like the logarithm of its initial
# asymmetry. At finite $N$ that asymmetry is random, so within a budget of
# $\alpha = 60$ ($60N$ steps) some runs specialise and others are still stuck: an
# end state that is not symmetric. The ODE, started from each run's own overlaps,
# predicts which.

# %%
widths = [100] if FAST else [100, 200, 400]
rows = []
for width in widths:
    task = TeacherStudentTask(dim=width)
    record = train_ensemble(
        task,
        n=32 if FAST else 256,
        steps=60 * width,
        log_every=5 * width,
        seed=7,
        progress=not FAST,
    )
    measured = ensemble_fractions(record).sel(outcome=0)
    predicted = predicted_fractions(task, record)
    rows.append(
        (
            width,
            float(measured["fraction"]),
            float(measured["fraction_low"]),
            float(measured["fraction_high"]),
            float(predicted["fraction"].sel(outcome=0)),
            predicted.attrs["agreement"],
        )
    )
print("   N  specialised  [95% Wilson]      theory  runs predicted")
for width, fraction, low, high, theory, agreement in rows:
    print(
        f"{width:4d}  {fraction:.3f}        [{low:.3f}, {high:.3f}]  {theory:.3f}   {agreement:.3f}"
    )
fig, _ = plot_training_ensemble(
    record, "eps_g", ensemble_fractions(record), predicted_fractions(task, record)
)
fig.axes[0].set_yscale("log")
if not FAST:
    fig.savefig("figures/11_committee_plateau.png", dpi=120)
