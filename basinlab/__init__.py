"""basinlab: basins of attraction of training dynamics, exact and at scale.

Every public name is re-exported from its subpackage on first use: the symbolic ones
from `basinlab.theory` (SymPy), the numerical ones from `basinlab.simulations`
(JAX), and `certified_region` and `minimal_critical_shock` from `basinlab.proofs`.
Importing `basinlab` itself loads none of them, so the command line starts at once
and `import basinlab.theory` stays free of JAX.
"""

import importlib

_THEORY = (
    "FLOW",
    "BasinlabDeprecationWarning",
    "Bifurcation",
    "MAP",
    "FixedPoint",
    "KramersRate",
    "LearningCoefficient",
    "Model",
    "Ramp",
    "Noise",
    "bifurcation_curves",
    "bifurcations",
    "classify",
    "exact_mean_first_passage_time",
    "eyring_kramers",
    "fixed_point_continua",
    "fixed_points",
    "hessian",
    "jacobian",
    "learning_coefficient",
    "models",
    "stationary_autocorrelation",
    "stationary_covariance",
)
_SIMULATIONS = (
    "CONVERGED",
    "DIVERGED",
    "UNCONVERGED",
    "Attractor",
    "CompiledModel",
    "DamagedChunkWarning",
    "FractalTest",
    "LabelSettings",
    "NoiseSettings",
    "NotAMinimumError",
    "RecurrenceSettings",
    "SGLDSettings",
    "ResultFileError",
    "ShockSearch",
    "SolverSettings",
    "WadaTest",
    "basin_entropy",
    "basin_fractions",
    "basin_map",
    "calibrate",
    "cluster_attractors",
    "compile_model",
    "continuation",
    "continuation_along",
    "continuation_map",
    "critical_rate",
    "critical_shock_over_attractor",
    "critical_shock_search",
    "early_warning",
    "edge_state",
    "escape_times",
    "find_attractors",
    "fractal_test",
    "integrate",
    "join_processes",
    "local_learning_coefficient",
    "lyapunov_spectrum",
    "load",
    "plot_basin_map",
    "plot_calibration",
    "plot_continuation",
    "plot_continuation_map",
    "plot_early_warning",
    "plot_found_attractors",
    "plot_llc_trace",
    "plot_training_ensemble",
    "save",
    "tipping_probabilities",
    "trajectories",
    "wada_test",
    "transition_probabilities",
)
_PROOFS = ("certified_region", "minimal_critical_shock")
_SUBPACKAGES = ("theory", "simulations", "proofs")


def __getattr__(name: str):
    if name in _SUBPACKAGES:
        return importlib.import_module(f".{name}", __name__)
    for subpackage, names in (("theory", _THEORY), ("simulations", _SIMULATIONS)):
        if name in names:
            return getattr(importlib.import_module(f".{subpackage}", __name__), name)
    if name in _PROOFS:
        return getattr(importlib.import_module(".proofs", __name__), name)
    raise AttributeError(f"module 'basinlab' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_THEORY, *_SIMULATIONS, *_PROOFS, *_SUBPACKAGES])
