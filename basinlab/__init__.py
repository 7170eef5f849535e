"""basinlab: basins of attraction of training dynamics, exact and at scale.

The symbolic names (from `basinlab.theory`) are imported at once; the numerical ones
(from `basinlab.simulations`, which needs JAX) and `certified_region` (from
`basinlab.proofs`) on first use, so that
`import basinlab.theory` stays free of JAX.
"""

import importlib

from .theory import FixedPoint as FixedPoint
from .theory import Model as Model
from .theory import classify as classify
from .theory import fixed_point_continua as fixed_point_continua
from .theory import fixed_points as fixed_points
from .theory import hessian as hessian
from .theory import jacobian as jacobian
from .theory import models as models

_SIMULATIONS = (
    "CONVERGED",
    "DIVERGED",
    "UNCONVERGED",
    "Attractor",
    "CompiledModel",
    "LabelSettings",
    "SolverSettings",
    "basin_fractions",
    "basin_map",
    "calibrate",
    "compile_model",
    "integrate",
    "load",
    "plot_basin_map",
    "plot_calibration",
    "save",
    "trajectories",
)


_PROOFS = ("certified_region", "proofs")


def __getattr__(name: str):
    if name in _SIMULATIONS:
        return getattr(importlib.import_module(".simulations", __name__), name)
    if name == "proofs":
        return importlib.import_module(".proofs", __name__)
    if name in _PROOFS:
        return getattr(importlib.import_module(".proofs", __name__), name)
    raise AttributeError(f"module 'basinlab' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_SIMULATIONS, *_PROOFS])
