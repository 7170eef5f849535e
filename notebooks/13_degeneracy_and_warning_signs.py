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
# # Degeneracy and warning signs
#
# Two things researchers measure in real training, each checked here against an exact
# answer.
#
# **The local learning coefficient (LLC)** $\hat\lambda(w^*)$ of a minimum (Lau,
# Furman, Wang, Murfet & Wei 2023) is estimated by SGLD chains localised at $w^*$,
# $\hat\lambda = n\beta(\mathbb E[L_n(w)] - L_n(w^*))$ with $\beta = 1/\log n$. Its
# ground truth is the real log canonical threshold $\lambda$: $d/2$ at a regular
# minimum, half the Hessian's rank at a Morse–Bott one, and Aoyagi's closed form for
# deep linear networks. The claims in `basinlab.proofs` derive them exactly.
#
# **Early-warning signals.** As a parameter nears a fold or transcritical point, the
# slowest eigenvalue goes to 0 and, under small noise, the variance grows as
# $1/|\lambda|$ and the lag-1 autocorrelation tends to 1. The Lyapunov equation
# predicts both exactly; SDE runs and real minibatch-SGD runs measure them, and a
# receiver-operating curve against runs far from the point says how early the signal
# can be told apart.

# %%
import os

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import numpyro.distributions as dist
import optax
import sympy as sp

import basinlab as bl
from basinlab import proofs
from basinlab.simulations import training
from basinlab.simulations.training import noisy_reward_sgd

FAST = os.environ.get("BASINLAB_FAST") == "1"
os.makedirs("figures", exist_ok=True)
N = 10_000
NBETA = N / np.log(N)

# %% [markdown]
# ## 1. Exact learning coefficients
#
# The claims check Aoyagi's formula against the separate reduced-rank regression
# result of Aoyagi & Watanabe (2005) in every case with widths up to 7, and against
# the zeta functions $\int \prod a_i^{2z}$ at the origin of a chain of scalar weights.

# %%
for claim in proofs.claims():
    if claim.id.startswith("learning_coefficient."):
        verdict = claim.check()
        print(f"{verdict.status:8} {claim.id}: {verdict.detail[:110]}")

for widths, rank in [
    ((2, 2, 2), 0),
    ((2, 2, 2), 2),
    ((3, 2, 3), 0),
    ((3, 2, 3), 2),
    ((4, 3, 4), 1),
]:
    exact = bl.models.deep_linear_learning_coefficient(widths, rank)
    print(
        f"widths {widths}, rank {rank}: lambda = {exact.value}, m = {exact.multiplicity}, "
        f"d/2 = {exact.dim / 2}"
    )


# %% [markdown]
# ## 2. The estimator against the exact values
#
# Population losses of the catalogue (no minibatch noise) at nominal $n = 10^4$, and a
# 3-2-3 linear network trained on data. The settings below keep each estimate
# trusted: a step size that widens the stiffest direction by a few percent at most,
# a burn-in of several relaxation times of the flattest one.


# %%
def quadratic(curvatures):
    w = sp.symbols(f"w1:{len(curvatures) + 1}", real=True)
    return bl.Model.gradient_flow(
        sum(h * x**2 for h, x in zip(curvatures, w)) / 2, state=w, name="quadratic"
    )


scale = 0.05 if FAST else 1.0


def settings(step_size, gamma, steps, burn_in, **options):
    return bl.SGLDSettings(
        step_size=step_size,
        gamma=gamma,
        steps=int(steps * scale),
        burn_in=int(burn_in * scale),
        **options,
    )


cases = [
    (
        "quadratic, d = 3",
        quadratic((1.0, 2.0, 3.0)),
        [0, 0, 0],
        None,
        1.5,
        settings(5e-6, 1.0, 20_000, 1500),
    ),
    (
        "deep linear mode, ab = 3",
        bl.models.deep_linear_mode(s=3.0),
        [3**0.5, 3**0.5],
        None,
        0.5,
        settings(1e-5, 50.0, 3000, 12_000),
    ),
]
if not FAST:
    two_modes = [2.0**0.5, 0, 2.0**0.5, 0, 0, 1, 0, 1]
    cases += [
        (
            "2-2-2 network, true map 0",
            bl.models.deep_linear_modes((1.0, 1.0), hidden=2),
            np.zeros(8),
            {"s_1": 0.0, "s_2": 0.0},
            1.5,
            settings(4e-5, 1.0, 20_000, 150_000, gamma_factors=(1.0,)),
        ),
        (
            "2-2-2 network, rank 2",
            bl.models.deep_linear_modes((2.0, 1.0), hidden=2),
            two_modes,
            None,
            2.0,
            settings(1e-5, 10.0, 4000, 60_000),
        ),
        (
            "3-2-3 network, true map 0",
            bl.models.deep_linear_modes((1.0, 1.0, 1.0), hidden=2),
            np.zeros(12),
            {"s_1": 0.0, "s_2": 0.0, "s_3": 0.0},
            2.5,
            settings(4e-5, 0.5, 20_000, 300_000, gamma_factors=(1.0,)),
        ),
    ]
table = []
for name, model, point, params, exact, chosen in cases:
    result = bl.local_learning_coefficient(model, point, n=N, params=params, settings=chosen)
    table.append(
        (
            name,
            exact,
            result.attrs["estimate"],
            result.attrs["std_error"],
            result.attrs["diagnosis"],
        )
    )
    print(
        f"{name:28} exact {exact:4.2f}  estimated {table[-1][2]:.3f} ± {table[-1][3]:.3f}  "
        f"({table[-1][4]})"
    )

# %% [markdown]
# A trained network on data: noise-free targets from a rank-2 map, trained by gradient
# descent from small weights. Aoyagi gives $\lambda = 4$ against $d/2 = 6$. The point
# is Morse–Bott, so the chain is Gaussian across the minimum set and its exact mean
# with $\gamma$ and the step size follows from the Hessian's spectrum.

# %%
rng = np.random.default_rng(1)
teacher = rng.normal(size=(3, 2)) @ rng.normal(size=(2, 3)) / 2
inputs = rng.normal(size=(N, 3))
outputs = inputs @ teacher.T


def network_loss(weights, batch):
    x, y = batch
    return 0.5 * jnp.sum((y - x @ weights[0].T @ weights[1].T) ** 2, axis=1)


weights = [jnp.asarray(rng.normal(size=s) * 0.1) for s in ((2, 3), (3, 2))]
optimiser = optax.sgd(0.05)
state = optimiser.init(weights)
data = (jnp.asarray(inputs), jnp.asarray(outputs))


@jax.jit
def descend(weights, state):
    gradient = jax.grad(lambda w: jnp.mean(network_loss(w, data)))(weights)
    updates, state = optimiser.update(gradient, state)
    return optax.apply_updates(weights, updates), state


for _ in range(3000):
    weights, state = descend(weights, state)
trained = bl.local_learning_coefficient(
    network_loss,
    weights,
    data=(inputs, outputs),
    settings=settings(1e-5, 30.0, 10_000, 20_000, batch_size=200, gamma_factors=(1.0,)),
)
print(
    "trained 3-2-3 network: Aoyagi",
    bl.models.deep_linear_learning_coefficient((3, 2, 3), 2).value,
    f"estimated {trained.attrs['estimate']:.3f} ± {trained.attrs['std_error']:.3f}",
    f"({trained.attrs['diagnosis']})",
)
fig, ax = bl.plot_llc_trace(trained)
fig.savefig("figures/13_llc_trace.png", dpi=120)

# %% [markdown]
# ## 3. Where the bias comes from
#
# - **$\gamma$.** At a quadratic minimum the measure is Gaussian and, with the SGLD
#   step, exactly $\hat\lambda = \sum_i n\beta h_i / (2a_i(1 - \epsilon a_i/4))$,
#   $a_i = n\beta h_i + \gamma$: $\gamma$ pulls it down, the step size up.
# - **$\beta$ (through $n\beta$).** At the origin of $(ab)^2$ the multiplicity is 2,
#   and the estimate approaches $\lambda = 1/2$ only as $1/\log(n\beta)$.
# - **Chain length.** Chains start at $w^*$; a burn-in shorter than the flattest
#   direction's relaxation time leaves them bunched there, and the estimate low.

# %%
gammas = [1.0, 300.0] if FAST else [1.0, 10.0, 30.0, 100.0, 300.0, 1000.0]
model = quadratic((1.0, 2.0, 3.0))
step = 2e-5
measured = bl.local_learning_coefficient(
    model,
    [0, 0, 0],
    n=N,
    settings=bl.SGLDSettings(
        step_size=step, gamma=1.0, steps=int(4000 * scale), burn_in=500, gamma_factors=tuple(gammas)
    ),
)
curvatures = np.array([1.0, 2.0, 3.0])
exact_curve = [
    np.sum(
        NBETA
        * curvatures
        / (2 * (NBETA * curvatures + g) * (1 - step * (NBETA * curvatures + g) / 4))
    )
    for g in gammas
]
fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
axes[0].errorbar(gammas, measured.llc.values, measured.llc_std_error.values, fmt="o", label="SGLD")
axes[0].plot(gammas, exact_curve, "k-", label="exact for the discrete chain")
axes[0].axhline(1.5, ls=":", color="grey", label="d/2")
axes[0].set_xscale("log")
axes[0].set_xlabel("gamma")
axes[0].set_ylabel("LLC estimate")
axes[0].legend(fontsize=8)

mode = bl.models.deep_linear_mode(s=1.0)
sizes = [10**3] if FAST else [10**3, 10**4, 10**5]
origin = []
for size in sizes:
    # The chains spread to |a|, |b| ~ 1/sqrt(gamma), where the curvature is ~ n beta:
    # the step must shrink as 1/(n beta), and the relaxation 2/(step gamma) grows.
    nbeta = size / np.log(size)
    result = bl.local_learning_coefficient(
        mode,
        [0.0, 0.0],
        n=size,
        params={"s": 0.0},
        settings=bl.SGLDSettings(
            step_size=0.1 / nbeta,
            gamma=1.0,
            steps=int(20 * nbeta),
            burn_in=int(60 * nbeta),
            gamma_factors=(1.0,),
        ),
    )
    origin.append((result.attrs["estimate"], result.attrs["std_error"]))
origin = np.array(origin)
axes[1].errorbar(np.log(np.array(sizes) / np.log(sizes)), origin[:, 0], origin[:, 1], fmt="o")
axes[1].axhline(0.5, color="k", label="lambda = 1/2 (m = 2)")
axes[1].set_xlabel("log(n beta)")
axes[1].set_ylabel("LLC at the origin of (ab)^2")
axes[1].legend(fontsize=8)

burn_ins = [0, 5000] if FAST else [0, 1000, 5000, 20_000, 100_000]
short = []
for burn_in in burn_ins:
    result = bl.local_learning_coefficient(
        bl.models.deep_linear_modes((1.0, 1.0), hidden=2),
        np.zeros(8),
        n=N,
        params={"s_1": 0.0, "s_2": 0.0},
        settings=bl.SGLDSettings(
            step_size=4e-5,
            gamma=1.0,
            steps=int(10_000 * scale),
            burn_in=burn_in,
            gamma_factors=(1.0,),
        ),
    )
    short.append(
        (result.attrs["estimate"], result.attrs["std_error"], result.attrs["burn_in_relaxations"])
    )
short = np.array(short)
axes[2].errorbar(np.maximum(short[:, 2], 1e-3), short[:, 0], short[:, 1], fmt="o")
axes[2].axhline(1.5, color="k", label="Aoyagi: 3/2")
axes[2].set_xscale("log")
axes[2].set_xlabel("burn-in, in relaxation times")
axes[2].set_ylabel("LLC, 2-2-2 network at 0")
axes[2].legend(fontsize=8)
fig.tight_layout()
fig.savefig("figures/13_llc_bias.png", dpi=120)
print("LLC at the origin of (ab)^2 against log(n beta):", np.round(origin, 3).tolist())
print("LLC of the 2-2-2 network against burn-in:", np.round(short, 3).tolist())

# %% [markdown]
# ## 4. The estimator's variance, and its fix
#
# With minibatches, each draw's $L_B(w_t)$ is noisy. Taking $L(w^*)$ from one
# minibatch shared by every chain adds one error to all of them: the chains agree
# with each other and are all off together, by
# $n\beta(L_n(w^*) - L_{B_0}(w^*))$, of standard deviation
# $n\beta\,\mathrm{sd}[\ell_i(w^*)]/\sqrt B$. Subtracting $L_B(w^*)$ on each draw's
# own minibatch (`reference="paired"`, the default) cancels the batch's noise.

# %%
x = rng.normal(size=(N, 2))
y = x @ np.array([1.0, -0.5]) + rng.normal(size=N)
least_squares = np.linalg.lstsq(x, y, rcond=None)[0]


def regression_loss(w, batch):
    inputs, outputs = batch
    return 0.5 * (outputs - inputs @ w) ** 2


for reference in ("paired", "full", "one_batch"):
    result = bl.local_learning_coefficient(
        regression_loss,
        least_squares,
        data=(x, y),
        seed=3,
        settings=bl.SGLDSettings(
            step_size=2e-5,
            gamma=1.0,
            chains=8,
            steps=int(4000 * scale),
            burn_in=500,
            batch_size=100,
            reference=reference,
            gamma_factors=(1.0,),
        ),
    )
    chains = result.chain_llc.values[0]
    print(
        f"{reference:9}: {result.attrs['estimate']:8.3f} ± {result.attrs['std_error']:.3f}  "
        f"(exact 1; chains' spread {np.std(chains):.2f}, shared error "
        f"{result.attrs['shared_reference_error']:.1f})"
    )

# %% [markdown]
# ## 5. Degeneracy and basins
#
# The LLC at each attractor of the tilted well, beside its basin fraction: both minima
# are regular ($\lambda = 1$), however different their basins. Then a family whose
# exact $\lambda$ jumps: $L = x^4/4 - \mu x^2/2 + y^2/2$ has a pitchfork at $\mu = 0$
# (exact, from `bifurcations`), where the minimum is $x^4/4 + y^2/2$ and
# $\lambda = 1/4 + 1/2 = 3/4$ (thresholds of functions of separate variables add;
# Watanabe 2009, §7); elsewhere $\lambda = 1$. At finite $n$ the estimate dips
# around the exact point.

# %%
tilted = bl.models.alignment_tilted_well()
fractions = bl.basin_fractions(
    tilted, dist.Uniform(np.array([-2.0, -1.0]), np.array([2.0, 3.0])), n=500 if FAST else 20_000
)
for point in bl.fixed_points(tilted):
    if point.stable:
        result = bl.local_learning_coefficient(
            tilted,
            point.numeric,
            n=N,
            settings=bl.SGLDSettings(
                step_size=5e-6,
                gamma=1.0,
                steps=int(20_000 * scale),
                burn_in=int(10_000 * scale),
                gamma_factors=(1.0,),
            ),
        )
        label = int(
            np.argmin(
                [
                    np.linalg.norm(np.subtract(point.numeric, q))
                    for q in fractions["attractor_location"].values
                ]
            )
        )
        print(
            f"minimum {np.round(point.numeric, 3)}: lambda exact "
            f"{bl.learning_coefficient(tilted, point).value}, estimated "
            f"{result.attrs['estimate']:.3f} ± {result.attrs['std_error']:.3f}; basin fraction "
            f"{float(fractions['fraction'][label]):.3f} ({result.attrs['diagnosis']})"
        )

u, v, mu = sp.symbols("u v mu", real=True)
pitchfork = bl.Model.gradient_flow(
    u**4 / 4 - mu * u**2 / 2 + v**2 / 2, state=[u, v], params={mu: 0.0}, name="pitchfork_well"
)
print("bifurcations along mu:", [(b.kind, b.value) for b in bl.bifurcations(pitchfork, "mu")])
mus = np.linspace(-0.2, 0.2, 3 if FAST else 17)
along = []
for value in mus:
    stable = [q for q in bl.fixed_points(pitchfork, params={"mu": value}) if q.stable or value == 0]
    point = max(stable, key=lambda q: q.numeric[0]).numeric if value != 0 else (0.0, 0.0)
    result = bl.local_learning_coefficient(
        pitchfork,
        point,
        n=N,
        params={"mu": value},
        settings=bl.SGLDSettings(
            step_size=1e-4,
            gamma=1.0,
            steps=int(10_000 * scale),
            burn_in=int(20_000 * scale),
            gamma_factors=(1.0,),
        ),
    )
    along.append((result.attrs["estimate"], result.attrs["std_error"]))
along = np.array(along)
fig, ax = plt.subplots(figsize=(6, 3.6))
ax.errorbar(mus, along[:, 0], along[:, 1], fmt="o", label="SGLD, n = 10^4")
ax.plot([mus[0], 0, 0, mus[-1]], [1, 1, 0.75, 1], "k:", label="exact lambda (3/4 at mu = 0)")
ax.axvline(0, color="grey", lw=0.8)
ax.set_xlabel("mu")
ax.set_ylabel("LLC of the minimum at u >= 0")
ax.legend(fontsize=8)
fig.savefig("figures/13_llc_jump.png", dpi=120)
print("LLC along mu:", np.round(along[:, 0], 3).tolist())

# %% [markdown]
# The same comparison on real training runs, through a training ensemble: a soft
# committee machine (two erf students, two teachers, online SGD; Saad & Solla 1995)
# trained from starts $w_i = \xi + \delta\,\zeta_i$. In three runs of four the
# asymmetry $\delta$ is log-uniform over seven decades, and the time on the plateau
# grows like $\log(1/\delta)$; in the fourth the students start equal ($\delta = 0$,
# as a copied unit would), and the symmetric plateau, being invariant, holds them for
# good. Each run is replayed to its final weights and the LLC of the empirical loss
# measured there. The specialised student is the teacher, a regular minimum:
# $\lambda = d/2$. The plateau is a saddle of the loss, not a minimum, and the
# estimator says so rather than return a number.

# %%
dim = 8 if FAST else 20
committee = training.TeacherStudentTask(dim=dim)
runs = 8 if FAST else 256
rng = np.random.default_rng(0)
asymmetry = (
    10.0 ** rng.uniform(-8, -1, size=(runs, 1, 1)) * (np.arange(runs) % 4 != 3)[:, None, None]
)
starts = 0.1 * rng.normal(size=(runs, 1, dim)) + asymmetry * rng.normal(size=(runs, 2, dim))
record = training.train_ensemble(
    committee,
    n=runs,
    steps=(400 if FAST else 1000) * dim,
    log_every=20 * dim,
    starts=starts,
    progress=False,
)
coefficients = training.ensemble_learning_coefficients(
    committee,
    record,
    starts=starts,
    per_end_state=1 if FAST else 4,
    n=100_000,
    settings=bl.SGLDSettings(
        step_size=2e-4,
        gamma=1.0,
        batch_size=200,
        chains=4,
        steps=max(100, int(4000 * scale)),
        burn_in=int(3000 * scale),
        gamma_factors=(1.0,) if FAST else (0.5, 1.0, 2.0),
    ),
    progress=False,
)
print(f"exact lambda of the specialised minimum: d/2 = {committee.students * dim / 2:g}")
for k, name in enumerate(coefficients.outcome_name.values):
    row = coefficients.sel(outcome=k)
    print(
        f"{name}: basin fraction {float(row.fraction):.3f} "
        f"[{float(row.fraction_low):.3f}, {float(row.fraction_high):.3f}]; "
        f"LLC {float(row.llc_mean):.3f} (spread {float(row.llc_spread):.3f}) over "
        f"{int(row.measured)} runs, {int(row.refused)} refused"
    )
for run in coefficients.run.values:
    row = coefficients.sel(run=run)
    print(
        f"  run {run} ({coefficients.outcome_name.values[int(row.label)]}, "
        f"delta {asymmetry[run, 0, 0]:.1e}): "
        f"{float(row.llc):.3f} ± {float(row.llc_std_error):.3f}; {str(row.diagnosis.values)[:90]}"
    )

# %% [markdown]
# ## 6. Early warnings before a fold and a transcritical point
#
# The tilted well's aligned minimum vanishes in a fold at $b^* = 2\sqrt 3/9$; the
# double well's aligned minimum meets the saddle in a transcritical point at $b = 1$.
# With isotropic noise, runs at each bias are compared with the Lyapunov prediction
# and with runs at $b = 0$.

# %%
quiet = bl.NoiseSettings(dt=0.01, brownian="increments")
fold_values = [0.3, 0.38] if FAST else [0.1, 0.2, 0.25, 0.3, 0.33, 0.35, 0.36, 0.37, 0.38]
runs_per_value = 12 if FAST else 200
length = 50.0 if FAST else 100.0
noisy_tilted = tilted.with_noise(bl.Noise.diagonal([sp.Rational(1, 40)] * 2))
fold = bl.early_warning(
    noisy_tilted,
    "bias",
    fold_values,
    attractor=(1.0, 2.0),
    reference=0.0,
    n=runs_per_value,
    t1=length,
    settings=quiet,
)
fig, axes = bl.plot_early_warning(fold)
fig.savefig("figures/13_fold_warning.png", dpi=120)
print(
    f"fold at {fold.attrs['bifurcation']:.4f} ({fold.attrs['bifurcation_exact']}); horizons at "
    f"t1 = {length:g}: variance {fold.attrs['horizon_variance']:.3f}, autocorrelation "
    f"{fold.attrs['horizon_autocorrelation']:.3f}"
)

double = bl.models.alignment_double_well().with_noise(bl.Noise.diagonal([sp.Rational(1, 40)] * 2))
transcritical = bl.early_warning(
    double,
    "bias",
    [0.8, 0.9] if FAST else [0.3, 0.5, 0.7, 0.8, 0.85, 0.9],
    attractor=(1.0, 2.0),
    reference=0.0,
    n=runs_per_value,
    t1=length,
    settings=quiet,
)
fig, axes = bl.plot_early_warning(transcritical)
fig.savefig("figures/13_transcritical_warning.png", dpi=120)
print(
    f"transcritical at {transcritical.attrs['bifurcation']}; horizons: variance "
    f"{transcritical.attrs['horizon_variance']:.3f}, autocorrelation "
    f"{transcritical.attrs['horizon_autocorrelation']:.3f}"
)

# %% [markdown]
# The horizon depends on how long each series is: longer series estimate the
# autocorrelation better, and the signal is told apart from farther away.

# %%
for series_length in (25.0,) if FAST else (25.0, 50.0, 100.0, 200.0, 400.0):
    result = bl.early_warning(
        noisy_tilted,
        "bias",
        fold_values,
        attractor=(1.0, 2.0),
        reference=0.0,
        n=runs_per_value,
        t1=series_length,
        settings=quiet,
    )
    print(
        f"t1 = {series_length:5.0f}: horizon (autocorrelation) "
        f"{result.attrs['horizon_autocorrelation']:.3f},"
        f" (variance) {result.attrs['horizon_variance']:.3f}"
    )

# %% [markdown]
# ## 7. Real SGD runs
#
# Minibatch SGD on a data set of noisy reward labels whose mean loss is the tilted
# well. The SGD noise is the per-sample gradient covariance over the batch size, so
# its SDE predicts the logged alignment's variance and autocorrelation.

# %%
values = [0.0, 0.37] if FAST else [0.0, 0.2, 0.3, 0.33, 0.36, 0.37]
runs, sgd_model = noisy_reward_sgd(
    values, start=(0.9, 1.9), n=8 if FAST else 100, steps=10_000 if FAST else 60_000, log_every=100
)
settled = runs.time.values > 50
paths = {value: runs.state.sel(value=value, name="a").values[:, settled] for value in values}
sgd = bl.early_warning(
    sgd_model,
    "bias",
    values[1:],
    attractor=(0.9, 1.9),
    reference=0.0,
    observable="a",
    interval=1.0,
    paths=paths,
)
for value in sgd.value.values:
    here = sgd.sel(value=value)
    print(
        f"b = {value:.2f}: variance {np.mean(here.variance.values):.3g} (predicted "
        f"{float(here.predicted_variance):.3g}), autocorrelation "
        f"{np.mean(here.autocorrelation.values):.3f} (predicted "
        f"{float(here.predicted_autocorrelation):.3f}), AUC {float(here.auc_autocorrelation):.2f}"
    )
print(f"SGD horizon (autocorrelation): {sgd.attrs['horizon_autocorrelation']:.3f}")
fig, axes = bl.plot_early_warning(sgd)
fig.savefig("figures/13_sgd_warning.png", dpi=120)
plt.close("all")
