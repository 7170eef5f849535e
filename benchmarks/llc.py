"""The local learning coefficient of a trained network: SGLD steps per second, basinlab
against devinterp, and the two estimates side by side.

A 3-2-3 linear network is trained by gradient descent on 10,000 noise-free samples of a
rank-2 map (Aoyagi's lambda = 4). Both sides then run the same SGLD (Lau et al. 2023,
Algorithm 1): step size 1e-5, gamma = 30, n beta = n / log n, minibatches of 200,
`--chains` chains of `--burn-in` + `--draws` steps from the trained weights, and
lambda-hat = n beta (mean minibatch loss - loss at w*). basinlab runs all chains at
once in one compiled scan (`local_learning_coefficient`); the peer is devinterp's
PyTorch `SGLD` optimiser, one model per chain, as devinterp's sampler runs them.
devinterp subtracts the full-data loss at w* (basinlab's `reference="full"`);
basinlab is run both that way and with its default paired minibatch reference.

Usage: python benchmarks/llc.py [--chains 8] [--burn-in 20000] [--draws 10000]
[--json FILE]. The peer needs `pip install devinterp torch`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np

SAMPLES, BATCH, STEP, GAMMA = 10_000, 200, 1e-5, 30.0


def trained_network(seed: int = 1):
    import jax
    import jax.numpy as jnp
    import optax

    import basinlab.simulations  # noqa: F401  (switches JAX to float64 first)

    rng = np.random.default_rng(seed)
    teacher = rng.normal(size=(3, 2)) @ rng.normal(size=(2, 3)) / 2
    x = rng.normal(size=(SAMPLES, 3))
    y = x @ teacher.T

    def loss(weights, batch):
        inputs, outputs = batch
        return 0.5 * jnp.sum((outputs - inputs @ weights[0].T @ weights[1].T) ** 2, axis=1)

    weights = [jnp.asarray(rng.normal(size=s) * 0.1) for s in ((2, 3), (3, 2))]
    optimiser = optax.sgd(0.05)
    state = optimiser.init(weights)
    data = (jnp.asarray(x), jnp.asarray(y))

    @jax.jit
    def descend(weights, state):
        gradient = jax.grad(lambda w: jnp.mean(loss(w, data)))(weights)
        updates, state = optimiser.update(gradient, state)
        return optax.apply_updates(weights, updates), state

    for _ in range(3000):
        weights, state = descend(weights, state)
    return loss, [np.asarray(w) for w in weights], x, y


def basinlab_side(loss, weights, x, y, chains, burn_in, draws, reference):
    import basinlab as bl

    settings = bl.SGLDSettings(
        step_size=STEP,
        gamma=GAMMA,
        chains=chains,
        steps=draws,
        burn_in=burn_in,
        batch_size=BATCH,
        reference=reference,
        gamma_factors=(1.0,),
    )
    started = time.perf_counter()
    result = bl.local_learning_coefficient(loss, weights, data=(x, y), settings=settings)
    seconds = time.perf_counter() - started
    return {
        "estimate": result.attrs["estimate"],
        "std_error": result.attrs["std_error"],
        "seconds": seconds,
        "steps_per_second": chains * (burn_in + draws) / seconds,
        "diagnosis": result.attrs["diagnosis"],
    }


def devinterp_side(weights, x, y, chains, burn_in, draws, seed=0):
    import torch
    from devinterp.optim.sgld import SGLD

    torch.manual_seed(seed)
    torch.set_default_dtype(torch.float64)
    inputs, outputs = torch.tensor(x), torch.tensor(y)
    nbeta = SAMPLES / np.log(SAMPLES)

    def batch_loss(layers, rows):
        prediction = inputs[rows] @ layers[0].T @ layers[1].T
        return 0.5 * ((outputs[rows] - prediction) ** 2).sum(dim=1).mean()

    with torch.no_grad():
        star = float(
            batch_loss(
                [torch.tensor(w, dtype=torch.float64) for w in weights], torch.arange(SAMPLES)
            )
        )
    traces = []
    started = time.perf_counter()
    for _ in range(chains):
        layers = [torch.nn.Parameter(torch.tensor(w, dtype=torch.float64)) for w in weights]
        sampler = SGLD(layers, lr=STEP, localization=GAMMA, nbeta=nbeta)
        trace = []
        for step in range(burn_in + draws):
            rows = torch.randint(0, SAMPLES, (BATCH,))
            sampler.zero_grad()
            value = batch_loss(layers, rows)
            value.backward()
            sampler.step()
            if step >= burn_in:
                trace.append(float(value.detach()))
        traces.append(trace)
    seconds = time.perf_counter() - started
    excess = nbeta * (np.array(traces) - star)
    chain_means = excess.mean(axis=1)
    return {
        "estimate": float(chain_means.mean()),
        "chain_spread": float(chain_means.std(ddof=1) / np.sqrt(chains)),
        "seconds": seconds,
        "steps_per_second": chains * (burn_in + draws) / seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chains", type=int, default=8)
    parser.add_argument("--burn-in", type=int, default=20_000)
    parser.add_argument("--draws", type=int, default=10_000)
    parser.add_argument("--json", help="write the measurements to this file")
    arguments = parser.parse_args()
    loss, weights, x, y = trained_network()
    measured = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "chains": arguments.chains,
        "steps": arguments.burn_in + arguments.draws,
    }
    for reference in ("full", "paired"):
        measured[f"basinlab_{reference}"] = basinlab_side(
            loss, weights, x, y, arguments.chains, arguments.burn_in, arguments.draws, reference
        )
    measured["devinterp"] = devinterp_side(
        weights, x, y, arguments.chains, arguments.burn_in, arguments.draws
    )
    ratio = (
        measured["basinlab_full"]["steps_per_second"] / measured["devinterp"]["steps_per_second"]
    )
    measured["ratio"] = ratio
    for side in ("basinlab_full", "basinlab_paired", "devinterp"):
        m = measured[side]
        error = m.get("std_error", m.get("chain_spread"))
        print(
            f"{side:16} llc {m['estimate']:.3f} +- {error:.3f}   "
            f"{m['steps_per_second']:,.0f} chain-steps/s ({m['seconds']:.1f} s)"
        )
    print(f"ratio (basinlab / devinterp, same reference): {ratio:.1f}x   Aoyagi: lambda = 4")
    if arguments.json:
        with open(arguments.json, "w") as handle:
            json.dump(measured, handle, indent=2)


if __name__ == "__main__":
    main()
