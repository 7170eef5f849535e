"""Calibration of the teacher-student ODE to a real SGD run: seconds and ESS per second.

A K = M = 2 erf committee machine is trained by online SGD (N = 1000, eta = 1,
alpha up to 80), and the ODE's eta and the noise of the held-out eps_g are fitted to
its logged eps_g(alpha). basinlab runs NUTS (NumPyro) through diffrax with gradients
in forward mode (`--gradients reverse`: by the checkpointed adjoint), its chains in
parallel on `--host-devices` CPU devices (one per core by default). The peer is what
one writes by hand without them: a random-walk Metropolis sampler in NumPy whose
likelihood solves the same ODE (SymPy-lambdified to NumPy) with SciPy's solve_ivp
(RK45, same tolerances). The peer is given a head start: its proposal scales are
2.4/sqrt(2) times the posterior standard deviations that NUTS found (the optimal
scaling of Roberts, Gelman & Gilks 1997), so it needs no tuning run.

Both report the smallest bulk ESS over the two unknowns (ArviZ) per second of
sampling; basinlab's seconds include compilation.

Usage: python benchmarks/calibration.py [--warmup 500] [--draws 1000] [--peer-draws 1000]
[--host-devices K] [--gradients auto|forward|reverse]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import warnings

import numpy as np

RTOL, ATOL = 1e-6, 1e-8


def peer_sampler(compiled, run, params, scales, draws, chains, seed):
    """Random-walk Metropolis on (log eta, log noise) with a solve_ivp likelihood."""
    import scipy.integrate
    import scipy.stats
    import sympy as sp

    model = compiled.model
    symbols = [*model.state, *model.param_symbols]
    field = sp.lambdify(symbols, list(model.vector_field), "numpy")
    error = sp.lambdify(symbols, model.observables["eps_g"], "numpy")
    names = model.param_names
    times = run["time"].values
    data = run["eps_g"].values
    y0 = run["y"].values[0]

    def log_posterior(theta):
        eta, noise = np.exp(theta)
        values = {**params, "eta": eta}
        p = [values[n] for n in names]
        solution = scipy.integrate.solve_ivp(
            lambda t, y: field(*y, *p),
            (times[0], times[-1]),
            y0,
            t_eval=times,
            rtol=RTOL,
            atol=ATOL,
        )
        if not solution.success:
            return -np.inf
        curve = error(*solution.y, *p)
        log_likelihood = scipy.stats.norm.logpdf(data, curve, noise).sum()
        prior = scipy.stats.lognorm.logpdf(eta, 0.5) + scipy.stats.halfnorm.logpdf(noise, 0, 0.01)
        return log_likelihood + prior + theta.sum()  # + log Jacobian of exp

    rng = np.random.default_rng(seed)
    samples = np.empty((chains, draws, 2))
    started = time.perf_counter()
    for chain in range(chains):
        theta = np.log([1.0, 0.001])
        current = log_posterior(theta)
        for i in range(2 * draws):  # the first half is burn-in
            proposal = theta + scales * rng.standard_normal(2)
            candidate = log_posterior(proposal)
            if np.log(rng.random()) < candidate - current:
                theta, current = proposal, candidate
            if i >= draws:
                samples[chain, i - draws] = np.exp(theta)
    seconds = time.perf_counter() - started
    return {"eta": samples[..., 0], "noise": samples[..., 1]}, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warmup", type=int, default=500, help="NUTS warm-up steps")
    parser.add_argument("--draws", type=int, default=1000, help="NUTS draws per chain")
    parser.add_argument("--peer-draws", type=int, default=1000, help="RWM draws after burn-in")
    parser.add_argument(
        "--host-devices",
        type=int,
        default=os.cpu_count() or 1,
        help="CPU devices for JAX, so that chains run in parallel (1: one after the other)",
    )
    parser.add_argument(
        "--gradients",
        choices=("auto", "forward", "reverse"),
        default="auto",
        help="forward mode or the checkpointed adjoint (auto: basinlab's default)",
    )
    arguments = parser.parse_args()
    # Read by XLA when JAX starts, so before basinlab is imported.
    os.environ["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={arguments.host_devices}"

    import numpyro.distributions as dist

    import basinlab as bl
    from basinlab.simulations import training

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        import arviz as az

    started = time.perf_counter()
    run = training.teacher_student_run(dim=1000, t1=80.0, initial_overlap=0.02, progress=False)
    print(f"real SGD run: {time.perf_counter() - started:.1f} s")
    compiled, params = training.teacher_student_model(run)
    del params["eta"]
    priors = {"eta": dist.LogNormal(0.0, 0.5), "noise": dist.HalfNormal(0.01)}
    fit = bl.calibrate(
        compiled,
        run,
        priors,
        observed=["eps_g"],
        params=params,
        num_warmup=arguments.warmup,
        num_samples=arguments.draws,
        settings=bl.SolverSettings(rtol=RTOL, atol=ATOL),
        forward_mode={"auto": None, "forward": True, "reverse": False}[arguments.gradients],
        progress=False,
    )
    diagnostics = fit.diagnostics
    seconds = diagnostics.attrs["seconds"]
    ess = float(diagnostics["ess_bulk"].min())
    eta = fit.posterior["eta"].values.ravel()
    attrs = fit.posterior.attrs
    print(
        f"basinlab NUTS ({attrs['chain_method']} chains, "
        f"{'forward mode' if attrs['forward_mode'] else 'checkpointed adjoint'}): "
        f"{seconds:.1f} s, min bulk ESS {ess:.0f}, {ess / seconds:.2f} ESS/s, "
        f"R-hat {float(diagnostics['r_hat'].max()):.4f}, "
        f"divergences {diagnostics.attrs['divergences']}, "
        f"eta {eta.mean():.4f} [{np.quantile(eta, 0.05):.4f}, {np.quantile(eta, 0.95):.4f}]"
    )
    log_sd = np.array(
        [np.std(np.log(fit.posterior[name].values.ravel())) for name in ("eta", "noise")]
    )
    peer_samples, peer_seconds = peer_sampler(
        compiled, run, params, 2.4 / np.sqrt(2) * log_sd, arguments.peer_draws, 2, seed=0
    )
    peer = az.from_dict(posterior=peer_samples)
    peer_ess = float(min(az.ess(peer, method="bulk")[n] for n in ("eta", "noise")))
    peer_eta = peer.posterior["eta"].values.ravel()
    print(
        f"peer RWM + solve_ivp: {peer_seconds:.1f} s, min bulk ESS {peer_ess:.0f}, "
        f"{peer_ess / peer_seconds:.2f} ESS/s, R-hat {float(az.rhat(peer)['eta']):.4f}, "
        f"eta {peer_eta.mean():.4f}"
    )
    print(f"ratio (ESS per second): {ess / seconds / (peer_ess / peer_seconds):.1f}x")
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {sys.version.split()[0]}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
