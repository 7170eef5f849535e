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
# # How robust is the aligned basin?
#
# "Which basin does training end in" is the first question; the alignment question
# is also how *robust* the aligned basin is. This notebook measures it four ways on
# the alignment double well as the reward bias $b$ grows:
#
# 1. **Continuation**: the share of initialisations that train into alignment,
#    followed across $b$, with the exact bifurcation points marked;
# 2. **The minimal critical shock**: the smallest kick to the aligned minimum that
#    sends training to the misaligned one, bracketed between a simulated upper bound
#    and a lower bound proved in exact arithmetic;
# 3. **Escape under noise**: how long SGD-like noise takes to carry a run out of the
#    aligned basin, against the Eyring–Kramers law computed exactly from the
#    SymPy Hessians;
# 4. **Tipping**: where runs trained at one bias end up after the bias changes.
#
# The loss is $L(a, c) = \frac{a^4}{4} - \frac{b a^3}{3} - \frac{a^2}{2} + b a
# + \frac12 (c - 1 - \kappa a)^2$, with the aligned minimum at $(1, 1 + \kappa)$, the
# misaligned one at $(-1, 1 - \kappa)$ and a saddle at $(b, 1 + \kappa b)$.

# %%
import os

import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import numpyro.distributions as dist
import scipy.integrate
import sympy as sp

import basinlab as bl
from basinlab.simulations import NoiseSettings, basin_entropy, fractal_test

FAST = os.environ.get("BASINLAB_FAST") == "1"
model = bl.models.alignment_double_well()
a, c = model.state
b, kappa = model.param_symbols
ALIGNED = (1.0, 2.0)  # (1, 1 + kappa) at the default coupling kappa = 1
box = dist.Uniform(jnp.array([-2.5, -1.5]), jnp.array([2.5, 3.5])).to_event(1)

# %% [markdown]
# ## 1. The aligned basin across the bias
#
# `bifurcations` solves $f = 0$, $\det J = 0$ exactly. In this model the saddle meets
# the aligned minimum at $b = 1$ and they exchange stability (transcritical): the
# aligned attractor survives, moved to $a = b$. In the tilted well
# (`alignment_tilted_well`) the aligned minimum instead vanishes in a fold at
# $b^* = 2\sqrt3/9$, and the aligned fraction falls to zero there.

# %%
points = {
    "default": bl.bifurcations(model, "bias", (0, 1.5)),
    "tilted": bl.bifurcations(bl.models.alignment_tilted_well(), "bias", (0, 1)),
}
for name, found in points.items():
    for point in found:
        print(f"{name}: {point.kind} at bias = {point.value} = {float(point.value):.4f}")

# %%
count = 7 if FAST else 25
samples = 400 if FAST else 4000
default_sweep = bl.continuation(
    model, "bias", np.linspace(0, 1.2, count), box, n=samples, progress=not FAST
)
tilted = bl.models.alignment_tilted_well()
tilted_box = dist.Uniform(jnp.array([-2.0, -2.0]), jnp.array([2.0, 4.0])).to_event(1)
tilted_sweep = bl.continuation(
    tilted, "bias", np.linspace(0, 0.6, count), tilted_box, n=samples, progress=not FAST
)
fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
bl.plot_continuation(default_sweep, points["default"], ax=axes[0])
bl.plot_continuation(tilted_sweep, points["tilted"], ax=axes[1])
axes[0].set_title("alignment double well: transcritical at b = 1")
axes[1].set_title("tilted well: fold at b* = 2√3/9")
if not FAST:
    fig.savefig("figures/05_continuation.png", dpi=120)


# %%
def aligned_fraction(sweep):
    """The fraction of the attractors with a > 0 (aligned), at each value."""
    aligned = (sweep["location"].sel(state="a") > 0).any("value").values
    return sweep["fraction"].values[:, aligned].sum(axis=1)


fold = float(points["tilted"][0].value)
values = tilted_sweep["value"].values
tilted_aligned = aligned_fraction(tilted_sweep)
assert np.all(tilted_aligned[values > fold] == 0)
assert np.all(tilted_aligned[values < fold - 0.05] > 0.05)
assert np.all(aligned_fraction(default_sweep) > 0)  # the aligned attractor persists
print(np.round(aligned_fraction(default_sweep), 3))

# %% [markdown]
# ## 2. The minimal critical shock
#
# The smallest perturbation $\delta$ of the aligned minimum $x^*$ such that training
# from $x^* + \delta$ ends misaligned is the distance from $x^*$ to the basin boundary,
# which in this 2-D gradient flow is the stable manifold of the saddle.
# `minimal_critical_shock` brackets it: the *upper* bound is a perturbation that was
# simulated and left (best of many rays, bisected, then refined by a local search
# over directions); the *lower* bound is the radius of the largest ball around $x^*$
# proved, by exact interval arithmetic, to lie inside a certified region of the
# basin (a sublevel set of the loss, or of an SOS Lyapunov function, whichever is
# larger). Here we also trace the saddle's stable manifold independently with scipy
# (backward in time), whose distance to $x^*$ is the exact answer up to the solver's
# tolerance.


# %%
def stable_manifold_distance(bias: float, coupling: float = 1.0) -> float:
    def field(_, x):
        a_, c_ = x
        drift = c_ - 1 - coupling * a_
        return [-((a_ - bias) * (a_ * a_ - 1) - coupling * drift), -drift]

    saddle = np.array([bias, 1 + coupling * bias])
    step = 1e-6
    jacobian = np.array(
        [
            (np.array(field(0, saddle + step * e)) - np.array(field(0, saddle - step * e)))
            / (2 * step)
            for e in np.eye(2)
        ]
    ).T
    values, vectors = np.linalg.eig(jacobian)
    direction = vectors[:, np.argmin(values)]
    best = np.inf
    for sign in (1, -1):
        back = scipy.integrate.solve_ivp(
            lambda t, x: [-v for v in field(t, x)],
            (0, 12),
            saddle + sign * 1e-8 * direction,
            rtol=1e-11,
            atol=1e-12,
            dense_output=True,
        )
        curve = back.sol(np.linspace(0, back.t[-1], 100_000)).T
        curve = curve[np.all(np.abs(curve) < 10, axis=1)]
        best = min(best, float(np.min(np.linalg.norm(curve - [1, 1 + coupling], axis=1))))
    return best


biases = [0.2, 0.6] if FAST else [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
shocks = []
for bias in biases:
    found = bl.minimal_critical_shock(
        model,
        ALIGNED,
        params={"bias": bias},
        n=48 if FAST else 256,
        refinements=4 if FAST else 12,
        progress=False,
    )
    exact = stable_manifold_distance(bias)
    shocks.append((bias, found.lower, exact, found.upper))
    print(
        f"b = {bias:.1f}: certified {found.lower:.4f} <= exact {exact:.4f} <= "
        f"simulated {found.upper:.4f}  (gap {found.relative_gap:.0%})"
    )
    assert found.lower <= exact <= found.upper <= exact * 1.01

# %%
table = np.array(shocks)
fig, ax = plt.subplots(figsize=(6.4, 4.2), layout="constrained")
ax.fill_between(table[:, 0], table[:, 1], table[:, 3], color="#4c72b0", alpha=0.15)
ax.plot(table[:, 0], table[:, 3], "o-", color="#4c72b0", label="simulated (upper bound)")
ax.plot(table[:, 0], table[:, 1], "s-", color="#55a868", label="certified (lower bound)")
ax.plot(table[:, 0], table[:, 2], "k--", label="distance to the stable manifold (scipy)")
ax.set_xlabel("reward bias b")
ax.set_ylabel("minimal critical shock (Euclidean)")
ax.set_title("How hard must the aligned minimum be kicked to tip it?")
ax.legend(fontsize=8)
if not FAST:
    fig.savefig("figures/05_critical_shock.png", dpi=120)
assert np.all(np.diff(table[:, 2]) < 0)  # a larger bias makes the aligned basin shallower

# %% [markdown]
# The simulated bound sits on the exact distance; the certified bound is smaller,
# because a sublevel set of the loss cannot reach the boundary where the loss is
# above the saddle's, and a quadratic Lyapunov function's ellipse stops where
# $\dot V$ first fails. Both vanish as $b \to 1$, where the barrier
# $\frac{(1 - b)^3 (b + 3)}{12}$ closes.
#
# ## 3. Escape from the aligned basin under noise
#
# With isotropic noise $dx = -\nabla L\,dt + \sqrt{2D}\,dW$ a run leaves the aligned
# basin after a mean time that the Eyring–Kramers law predicts for small $D$:
# $\tau \approx \frac{2\pi}{|\lambda^-|} \sqrt{\frac{|\det H(s)|}{\det H(m)}}
# \, e^{\Delta L / D}$. basinlab computes the barrier and the prefactor exactly from
# SymPy; the simulation runs until each run reaches the misaligned minimum's
# basin, and the mean time comes with a 95% interval.

# %%
D = sp.Symbol("D", positive=True)
bias = 0.2
noisy = model.with_noise(bl.Noise.isotropic(D, 2), {D: 0.05})
saddle = (sp.Rational(1, 5), sp.Rational(6, 5))
# The barrier L(saddle) - L(minimum), exactly from the loss (the law's own field).
barrier = float(bl.eyring_kramers(noisy, (1, 2), saddle, 1.0, params={"bias": bias}).barrier)
ratios = [2.0, 3.0, 4.0] if FAST else [2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0]
escapes = []
for ratio in ratios:
    temperature = barrier / ratio
    law = bl.eyring_kramers(noisy, (1, 2), saddle, temperature, params={"bias": bias})
    runs = bl.escape_times(
        noisy,
        ALIGNED,
        n=100 if FAST else 1000,
        t1=8 * law.mean_time,
        params={"bias": bias, "D": temperature},
        settings=NoiseSettings(brownian="increments", dt=0.02),
        progress=not FAST,
    )
    escapes.append(
        (
            ratio,
            law.mean_time,
            runs.attrs["mean_time"],
            runs.attrs["mean_time_low"],
            runs.attrs["mean_time_high"],
        )
    )
    print(
        f"barrier/D = {ratio}: Eyring-Kramers {law.mean_time:.1f}, simulated "
        f"{runs.attrs['mean_time']:.1f} [{runs.attrs['mean_time_low']:.1f}, "
        f"{runs.attrs['mean_time_high']:.1f}]"
    )

# %%
escape = np.array(escapes)
fig, ax = plt.subplots(figsize=(6.4, 4.2), layout="constrained")
ax.errorbar(
    escape[:, 0],
    escape[:, 2],
    yerr=[escape[:, 2] - escape[:, 3], escape[:, 4] - escape[:, 2]],
    fmt="o",
    color="#4c72b0",
    capsize=3,
    label="simulated mean escape time (95%)",
)
ax.plot(escape[:, 0], escape[:, 1], "k--", label="Eyring–Kramers (exact prefactor)")
ax.set_yscale("log")
ax.set_xlabel("barrier / D")
ax.set_ylabel("mean time to leave the aligned basin")
ax.set_title(f"Escape from the aligned minimum at b = {bias}")
ax.legend(fontsize=8)
if not FAST:
    fig.savefig("figures/05_escape_times.png", dpi=120)
# Kramers is asymptotic: its relative error shrinks as the barrier grows.
error = np.abs(escape[:, 2] / escape[:, 1] - 1)
assert error[-1] < 0.3
assert np.all(np.diff(escape[:, 2]) > 0)

# %% [markdown]
# ## 4. Tipping between two biases
#
# Train from the same initialisations at $b = 0.2$ and at $b = 0.8$: the tipping
# matrix gives $P(\text{end in basin } j \text{ at } b = 0.8 \mid \text{start in basin }
# i \text{ at } b = 0.2)$. Runs that were aligned at the lower bias and end misaligned
# at the higher one are those whose initialisation the shift of the basin boundary
# has passed over.

# %%
n = 2000 if FAST else 20_000
before = bl.basin_fractions(model, box, n=n, params={"bias": 0.2}, progress=False)
after = bl.basin_fractions(model, box, n=n, params={"bias": 0.8}, progress=False)
tipping = bl.tipping_probabilities(before, after)
# Rows and columns of the attractors (the outcomes DIVERGED and UNCONVERGED are empty).
tipping = tipping.isel(
    start=slice(0, before["attractor_name"].size), end=slice(0, after["attractor_name"].size)
)
print(tipping["probability"].to_pandas().round(3))

# %%
matrix = tipping["probability"].values
fig, ax = plt.subplots(figsize=(6.4, 4.6), layout="constrained")
image = ax.imshow(matrix, vmin=0, vmax=1, cmap="viridis")
for (i, j), p in np.ndenumerate(matrix):
    low = tipping["probability_low"].values[i, j]
    high = tipping["probability_high"].values[i, j]
    ax.text(
        j,
        i,
        f"{p:.3f}\n[{low:.3f}, {high:.3f}]",
        ha="center",
        va="center",
        color="white" if p < 0.5 else "black",
        fontsize=9,
    )
ax.set_xticks(range(matrix.shape[1]), [str(v) for v in tipping["end"].values], fontsize=8)
ax.set_yticks(range(matrix.shape[0]), [str(v) for v in tipping["start"].values], fontsize=8)
ax.set_xlabel("ends at b = 0.8")
ax.set_ylabel("ended at b = 0.2")
fig.colorbar(image, ax=ax, label="probability")
ax.set_title("Tipping probabilities")
if not FAST:
    fig.savefig("figures/05_tipping.png", dpi=120)
aligned_before = int(np.argmax(before["attractor_location"].values[:, 0]))
aligned_after = int(np.argmax(after["attractor_location"].values[:, 0]))
misaligned_before, misaligned_after = 1 - aligned_before, 1 - aligned_after
# The misaligned basin grows with the bias: some aligned starts tip, none come back.
assert matrix[misaligned_before, misaligned_after] == 1.0
assert 0 < matrix[aligned_before, misaligned_after] < 1
print(f"P(tip to misaligned | aligned at b = 0.2) = {matrix[aligned_before, misaligned_after]:.3f}")

# %% [markdown]
# ## 5. The boundary is smooth: basin entropy
#
# A fractal basin boundary would make the final state unpredictable at every scale;
# the aligned basin's boundary is not one. The basin entropy of a fine map, and the
# fractal test (the boundary entropy in random balls against a straight boundary's,
# and the uncertainty exponent $\alpha$, which is 1 for a smooth curve in the plane),
# say so; Newton's method for $z^3 - 1$ is shown beside it as a fractal reference.

# %%
resolution = 200 if FAST else 600
well_map = bl.basin_map(model, "a", "c", ((-2.5, 2.5), (-1.5, 3.5)), resolution, progress=not FAST)
newton_map = bl.basin_map(
    bl.models.newton_cubic(),
    "x",
    "y",
    ((-1.5, 1.5), (-1.5, 1.5)),
    2 * resolution,
    progress=not FAST,
)
verdicts = {}
for name, result in (("alignment double well", well_map), ("Newton z^3 - 1", newton_map)):
    s_b, s_bb = basin_entropy(result, box_size=5)
    verdicts[name] = fractal_test(result, radius=5)
    print(
        f"{name}: S_b = {s_b:.4f}, S_bb = {s_bb:.4f}; balls "
        f"{verdicts[name].boundary_entropy:.3f} vs smooth {verdicts[name].smooth_reference:.3f}"
        f" -> {verdicts[name].verdict}; alpha = {verdicts[name].uncertainty_exponent:.3f}"
    )
assert verdicts["alignment double well"].verdict == "smooth"
assert verdicts["Newton z^3 - 1"].verdict == "fractal"

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4.6), layout="constrained")
bl.plot_basin_map(well_map, axes[0], show="time")
bl.plot_basin_map(newton_map, axes[1], show="time")
if not FAST:
    fig.savefig("figures/05_convergence_times.png", dpi=120)

# %% [markdown]
# Starts near the boundary take longest to settle: they linger by the saddle (left),
# or bounce between the three basins of Newton's map before one captures them
# (right).
