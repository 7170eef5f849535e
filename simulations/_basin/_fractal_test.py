"""Whether a basin boundary is fractal: boundary entropy in random balls against a
smooth boundary's, and the uncertainty exponent."""

from __future__ import annotations

import dataclasses

import numpy as np
import xarray as xr
from jaxtyping import Float, Int

from ...theory._checks import check_count, check_seed
from ...theory._legacy_arguments import legacy_arguments
from ._basin_entropy import basin_labels, entropies

FRACTAL = "fractal"
SMOOTH = "smooth"

# One-sided 95% normal quantile: the ball entropy must exceed the smooth reference
# by this many standard errors.
_Z = 1.6448536269514722


@dataclasses.dataclass(frozen=True)
class FractalTest:
    r"""The verdict of [`fractal_test`][] and the numbers behind it.

    **Fields:**

    - `verdict`: `"fractal"` or `"smooth"`.
    - `radius`: the ball radius, in grid points.
    - `boundary_entropy`: the mean entropy $\hat S_{bb}$ of random balls that hold
      more than one outcome; `boundary_entropy_error`: its standard error.
    - `smooth_reference`: the same mean for balls cut by a straight boundary.
    - `above_log2`: $\hat S_{bb} > \log 2$, Daza et al.'s sufficient condition.
    - `epsilons`: the perturbations, in grid points; `uncertain`: the fraction of
      points whose outcome changes under each.
    - `uncertainty_exponent`: $\alpha$ in $f(\varepsilon) \propto \varepsilon^\alpha$,
      and `uncertainty_exponent_error` its standard error; `boundary_dimension`:
      $d - \alpha$ for a slice of dimension $d$.
    """

    verdict: str
    radius: int
    boundary_entropy: float
    boundary_entropy_error: float
    smooth_reference: float
    above_log2: bool
    epsilons: Int[np.ndarray, " k"]
    uncertain: Float[np.ndarray, " k"]
    uncertainty_exponent: float
    uncertainty_exponent_error: float
    boundary_dimension: float

    def __post_init__(self):
        assert self.verdict in (FRACTAL, SMOOTH)
        assert self.epsilons.shape == self.uncertain.shape
        assert np.all((0 <= self.uncertain) & (self.uncertain <= 1))


def _ball_offsets(radius: int, dim: int) -> Int[np.ndarray, "m dim"]:
    axis = np.arange(-radius, radius + 1)
    grid = np.stack(np.meshgrid(*[axis] * dim, indexing="ij"), axis=-1).reshape(-1, dim)
    return grid[np.sum(grid**2, axis=1) <= radius**2]


def _smooth_reference(offsets: np.ndarray, rng: np.random.Generator, samples: int) -> float:
    """The mean entropy of a lattice ball cut by a random flat boundary, where cut."""
    normals = rng.standard_normal((samples, offsets.shape[1]))
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    radius = np.sqrt(np.max(np.sum(offsets**2, axis=1)))
    shifts = rng.uniform(-radius, radius, samples)
    sides = (normals @ offsets.T > shifts[:, None]).astype(np.int64)
    values = entropies(sides)
    return float(values[values > 0].mean())


def _uncertain_fraction(labels: np.ndarray, epsilon: int, margin: int) -> float:
    """The fraction of interior points whose label differs from one of the points
    `epsilon` away along an axis."""
    inner = tuple(slice(margin, n - margin) for n in labels.shape)
    centre = labels[inner]
    changed = np.zeros(centre.shape, dtype=bool)
    for axis in range(labels.ndim):
        for sign in (-1, 1):
            moved = list(inner)
            moved[axis] = slice(
                margin + sign * epsilon, labels.shape[axis] - margin + sign * epsilon
            )
            changed |= labels[tuple(moved)] != centre
    return float(changed.mean())


def _slope(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """The least-squares slope of y on x and its standard error (NaN where undefined)."""
    if x.size < 2:
        return float("nan"), float("nan")
    dx = x - x.mean()
    slope = float(dx @ (y - y.mean()) / (dx @ dx))
    if x.size < 3:
        return slope, float("nan")
    residuals = y - y.mean() - slope * dx
    return slope, float(np.sqrt(residuals @ residuals / (x.size - 2) / (dx @ dx)))


@legacy_arguments(renamed={"balls": "n"})
def fractal_test(
    result: xr.Dataset,
    *,
    radius: int = 5,
    n: int = 1000,
    seed: int = 0,
) -> FractalTest:
    r"""Test whether the basin boundaries of a basin map are fractal.

    Two independent measures are computed on the map's grid.

    - **Boundary entropy in random balls** (A. Puy, A. Daza, A. Wagemakers and
      M. A. F. Sanjuán, "A test for fractal boundaries based on the basin entropy",
      Commun. Nonlinear Sci. Numer. Simul. 95, 105588, 2021): balls of `radius` grid
      points are centred at random grid points until `n` of them hold more than
      one outcome; their mean entropy $\hat S_{bb}$ is compared with the mean for
      the same lattice ball cut by a straight boundary at a random angle and offset
      (computed here by Monte Carlo, so it includes the lattice's own bias). The
      boundary is called fractal when $\hat S_{bb}$ exceeds that reference by more
      than 1.645 standard errors (a one-sided test at 95%). $\hat S_{bb} > \log 2$
      is reported too: it is sufficient on its own (Daza et al. 2016).
    - **Uncertainty exponent** (C. Grebogi, S. W. McDonald, E. Ott and J. A. Yorke,
      "Final state sensitivity: an obstruction to predictability", Phys. Lett. A
      99, 415, 1983): the fraction $f(\varepsilon)$ of grid points whose outcome
      changes when moved by $\varepsilon$ grid points along some axis scales as
      $\varepsilon^\alpha$, with $\alpha = d - d_B$ for a boundary of box-counting
      dimension $d_B$ in a slice of dimension $d$: $\alpha = 1$ for a smooth curve in
      the plane, $\alpha < 1$ for a fractal. $\varepsilon$ runs over powers of two
      up to a sixteenth of the smallest side, and $\alpha$ is the least-squares
      slope of $\log f$ against $\log \varepsilon$. It is reported, not used for the
      verdict: on a grid it is biased at the smallest $\varepsilon$.

    **Arguments:**

    - `result`: a dataset from [`basinlab.basin_map`][]; at least 50 ball radii per
      side is advisable.
    - `radius`: the ball radius in grid points, at least 2.
    - `n`: boundary balls to average over, at least 100.
    - `seed`: the seed of the ball centres and of the reference lines.

    **Returns:**

    A [`FractalTest`][].

    **Raises:**

    - `ValueError`: `result` is not a basin map; `radius` or `n` is too small;
      the map is smaller than 8 radii per side; the map holds one outcome only, so
      it has no boundary; fewer than `n` boundary balls turn up in `100 * balls`
      tries.
    """
    labels = basin_labels(result, "fractal_test")
    radius = check_count(radius, "radius", minimum=2)
    n = check_count(n, "n", minimum=100)
    seed = check_seed(seed)
    if min(labels.shape) < 8 * radius:
        raise ValueError(
            f"the map {labels.shape} is too small for balls of radius {radius}: "
            "it needs at least 8 radii per side"
        )
    if np.unique(labels).size < 2:
        raise ValueError("the map holds one outcome only, so it has no boundary to test")
    rng = np.random.default_rng(seed)
    offsets = _ball_offsets(radius, labels.ndim)
    found: list[np.ndarray] = []
    tries = 0
    while sum(len(f) for f in found) < n:
        if tries >= 100 * n:
            raise ValueError(
                f"only {sum(len(f) for f in found)} of {tries} random balls met a boundary; "
                "the map has too little boundary for this test"
            )
        centres = np.stack(
            [rng.integers(radius, side - radius, size=n) for side in labels.shape], axis=1
        )
        tries += n
        points = centres[:, None, :] + offsets[None]
        values = entropies(labels[tuple(points[..., k] for k in range(labels.ndim))])
        found.append(values[values > 0])
    boundary = np.concatenate(found)[:n]
    mean, error = float(boundary.mean()), float(boundary.std(ddof=1) / np.sqrt(n))
    reference = _smooth_reference(offsets, rng, 20_000)
    largest = max(1, min(labels.shape) // 16)
    epsilons = 2 ** np.arange(int(np.log2(largest)) + 1)
    uncertain = np.array([_uncertain_fraction(labels, int(e), largest) for e in epsilons])
    usable = uncertain > 0
    alpha, alpha_error = _slope(np.log(epsilons[usable]), np.log(uncertain[usable]))
    return FractalTest(
        FRACTAL if mean > reference + _Z * error else SMOOTH,
        radius,
        mean,
        error,
        reference,
        bool(mean > np.log(2)),
        epsilons,
        uncertain,
        alpha,
        alpha_error,
        labels.ndim - alpha,
    )
