"""basinlab: basins of attraction of training dynamics, exact and at scale."""

from .simulations import CONVERGED as CONVERGED
from .simulations import DIVERGED as DIVERGED
from .simulations import UNCONVERGED as UNCONVERGED
from .simulations import Attractor as Attractor
from .simulations import CompiledModel as CompiledModel
from .simulations import LabelSettings as LabelSettings
from .simulations import SolverSettings as SolverSettings
from .simulations import basin_fractions as basin_fractions
from .simulations import basin_map as basin_map
from .simulations import compile_model as compile_model
from .simulations import integrate as integrate
from .simulations import load as load
from .simulations import plot_basin_map as plot_basin_map
from .simulations import save as save
from .theory import FixedPoint as FixedPoint
from .theory import Model as Model
from .theory import classify as classify
from .theory import fixed_points as fixed_points
from .theory import hessian as hessian
from .theory import jacobian as jacobian
from .theory import models as models
