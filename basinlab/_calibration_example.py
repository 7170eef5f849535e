"""Built-in calibration examples: a real training run, its theory, the fit, the plots."""

from __future__ import annotations

import dataclasses
import json
import pathlib


@dataclasses.dataclass(frozen=True)
class ExampleSize:
    """The sizes of an example run: the full demo, or a fast one for tests.

    **Fields:**

    - `dim`: the input dimension of the teacher–student run.
    - `t1`: its length in $\\alpha$.
    - `num_warmup`, `num_samples`: NUTS iterations per chain.
    """

    dim: int
    t1: float
    num_warmup: int
    num_samples: int

    def __post_init__(self):
        assert self.dim >= 2 and self.t1 > 0
        assert self.num_warmup >= 1 and self.num_samples >= 1


FULL = ExampleSize(dim=1000, t1=80.0, num_warmup=500, num_samples=500)
FAST = ExampleSize(dim=500, t1=40.0, num_warmup=100, num_samples=100)
EXAMPLES = ("teacher-student",)


def teacher_student(
    out: pathlib.Path,
    seed: int = 0,
    size: ExampleSize = FULL,
    progress: bool = True,
    request: dict | None = None,
) -> dict[str, object]:
    """Train a K = M = 2 committee machine, compare it with its ODE, and fit $\\eta$.

    The real run (online SGD at input dimension `N`, $\\eta = 1$, a small initial
    overlap 0.02 with the teacher) is compared with the order-parameter ODE at the
    same settings. Then the ODE's learning rate, treated as unknown with prior
    LogNormal(0, 0.5), and the noise of the held-out $\\epsilon_g$ are fitted to the
    logged $\\epsilon_g(\\alpha)$ by NUTS. The posterior of $\\eta$ says how far the
    theory's time scale matches the real run's; the basin group gives the posterior
    probability that the run ends specialised.

    Writes `run.nc`, `comparison.nc`, `calibration.nc` (ArviZ), `comparison.png` and
    `calibration.png` to `out`, each atomically; `request` (what the command line
    asked) is recorded in `run.nc`, which is written last.

    **Returns:**

    A summary: the true and fitted $\\eta$ with its 90% interval, R-hat, ESS,
    divergences, seconds and the posterior probability of specialising.
    """
    # Imported here, so that the command line can list EXAMPLES without loading JAX.
    import matplotlib.pyplot as plt
    import numpy as np
    import numpyro.distributions as dist

    from .simulations import calibrate, plot_calibration, save
    from .simulations._storage._atomic import atomic_output, save_figure
    from .simulations.training import (
        compare_with_theory,
        plot_comparison,
        teacher_student_model,
        teacher_student_run,
    )

    out.mkdir(parents=True, exist_ok=True)
    eta = 1.0
    run = teacher_student_run(
        dim=size.dim,
        eta=eta,
        t1=size.t1,
        seed=seed,
        initial_overlap=0.02,
        progress=progress,
    )
    comparison = compare_with_theory(run)
    save(comparison, out / "comparison.nc")
    fig, _ = plot_comparison(comparison)
    save_figure(fig, out / "comparison.png", dpi=120)
    plt.close(fig)
    compiled, params = teacher_student_model(run)
    del params["eta"]
    idata = calibrate(
        compiled,
        run,
        {"eta": dist.LogNormal(0.0, 0.5), "noise": dist.HalfNormal(0.01)},
        observed=["eps_g"],
        params=params,
        num_warmup=size.num_warmup,
        num_samples=size.num_samples,
        seed=seed,
        progress=progress,
    )
    with atomic_output(out / "calibration.nc") as temporary:
        idata.to_netcdf(str(temporary))
    fig, _ = plot_calibration(idata, "eps_g", yscale="log")
    save_figure(fig, out / "calibration.png", dpi=120)
    plt.close(fig)
    # The run is written last, with the request that made it: a run.nc on disk means
    # the whole example finished.
    save(run.assign_attrs(request=json.dumps(request or {})), out / "run.nc")
    draws = idata.posterior["eta"].values.ravel()
    diagnostics = idata.diagnostics
    basins = idata.basins
    return {
        "eta_true": eta,
        "eta_mean": float(draws.mean()),
        "eta_interval": tuple(float(q) for q in np.quantile(draws, [0.05, 0.95])),
        "r_hat": float(diagnostics["r_hat"].max()),
        "ess_bulk": float(diagnostics["ess_bulk"].min()),
        "divergences": int(diagnostics.attrs["divergences"]),
        "seconds": float(diagnostics.attrs["seconds"]),
        "p_specialised": float(basins["probability"].sel(outcome="specialised")),
        "p_specialised_interval": (
            float(basins["low"].sel(outcome="specialised")),
            float(basins["high"].sel(outcome="specialised")),
        ),
        "eps_g_max_gap": float(comparison.attrs["eps_g_max_gap"]),
        "dim": size.dim,
    }


def run_example(
    name: str,
    out: pathlib.Path,
    seed: int,
    fast: bool,
    progress: bool,
    request: dict | None = None,
) -> dict[str, object]:
    """Run the built-in example `name` (one of `EXAMPLES`).

    **Raises:**

    - `ValueError`: an unknown example.
    """
    if name not in EXAMPLES:
        raise ValueError(f"unknown calibration example {name!r}; choose from {list(EXAMPLES)}")
    return teacher_student(out, seed, FAST if fast else FULL, progress, request)
