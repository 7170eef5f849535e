"""A certified region inside a basin, and how much of the simulated basin it covers."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping, Sequence

import numpy as np
import sympy as sp
from jaxtyping import ArrayLike, Bool, Float

from ..simulations import CONVERGED, integrate, wilson_interval
from ..theory import MAP, FixedPoint, Model, default_window, fixed_points
from ..theory._legacy_arguments import legacy_arguments
from ..theory._values import symbolic_values
from ._lyapunov import LyapunovCertificate, lyapunov_certificate
from ._sublevel import SublevelCertificate, sublevel_certificate

SUBLEVEL = "sublevel"
SOS = "sos"


@dataclasses.dataclass(frozen=True)
class BasinComparison:
    """The certified region against the simulated basin, by Monte Carlo in a window.

    **Fields:**

    - `window`: `(low, high)` per state; samples are uniform in it.
    - `samples`: how many were drawn.
    - `in_basin`: samples that ended on the attractor.
    - `in_region`: samples inside the certified region.
    - `region_escapes`: samples inside the region that did *not* end on the attractor
      (0 unless the certificate or the solver is wrong).
    - `ratio`: `in_region / in_basin`, the region's share of the basin in the window.
    - `ratio_low`, `ratio_high`: its 95% Wilson interval.
    """

    window: tuple[tuple[float, float], ...]
    samples: int
    in_basin: int
    in_region: int
    region_escapes: int
    ratio: float
    ratio_low: float
    ratio_high: float

    def __post_init__(self):
        assert 0 <= self.region_escapes <= self.in_region <= self.samples
        assert 0 <= self.in_basin <= self.samples


@dataclasses.dataclass(frozen=True)
class CertifiedRegion:
    r"""A set of initial conditions proved to end on one attractor.

    **Fields:**

    - `model`, `params`: the model's name and the parameter values.
    - `state`: the state names.
    - `attractor`: the fixed point, exact.
    - `method`: `"sublevel"` ($\{x \in B : L < c\}$ of a gradient flow) or `"sos"`
      ($\{V < c\}$ of a Lyapunov function certified by sums of squares).
    - `description`: the region as a SymPy relation of the state symbols.
    - `certificate`: the [`SublevelCertificate`][] or [`LyapunovCertificate`][].
    - `comparison`: a [`BasinComparison`][], or `None` when it was not computed.
    """

    model: str
    params: dict[str, float]
    state: tuple[str, ...]
    attractor: tuple[sp.Expr, ...]
    method: str
    description: sp.Basic
    certificate: SublevelCertificate | LyapunovCertificate
    comparison: BasinComparison | None = None

    def __post_init__(self):
        assert self.method in (SUBLEVEL, SOS), self.method
        assert len(self.state) == len(self.attractor)

    @property
    def label(self) -> str:
        return f"certified ({self.method})"

    @property
    def detail(self) -> str:
        """One line saying what the exact checks established."""
        return self.certificate.report

    @functools.cached_property
    def _inside(self):
        by_name = {str(s): s for s in self.description.free_symbols}
        symbols = [by_name.get(name, sp.Dummy(name)) for name in self.state]
        return sp.lambdify([symbols], self.description, "numpy")

    def contains(self, points: Float[ArrayLike, "n dim"]) -> Bool[np.ndarray, " n"]:
        """Whether each point lies in the region (evaluated in floating point, so
        points within rounding of the boundary may go either way).

        **Raises:**

        - `ValueError`: `points` is not of shape `(n, dim)`.
        """
        points = np.asarray(points, dtype=float)
        if points.ndim != 2 or points.shape[1] != len(self.state):
            raise ValueError(f"points must have shape (n, {len(self.state)}), got {points.shape}")
        inside = np.asarray(self._inside(points.T), dtype=bool)
        return np.broadcast_to(inside, points.shape[:1]).copy()


def _description(certificate: SublevelCertificate | LyapunovCertificate) -> sp.Basic:
    if isinstance(certificate, SublevelCertificate):
        inside = [
            sp.And(lo <= s, s <= hi) for s, (lo, hi) in zip(certificate.state, certificate.box)
        ]
        return sp.And(certificate.loss < certificate.level, *inside)
    return certificate.lyapunov() < certificate.level


def _location(model: Model, attractor: FixedPoint | Sequence[object]) -> tuple[object, ...]:
    location = attractor.location if isinstance(attractor, FixedPoint) else tuple(attractor)
    if len(location) != model.dim:
        raise ValueError(
            f"the attractor needs {model.dim} coordinates for {model.name!r}, got {location}"
        )
    return location


@legacy_arguments(positional=("params",), renamed={"samples": "n"})
def compare_with_basin(
    region: CertifiedRegion,
    model: Model,
    *,
    params: Mapping[str, float] | None = None,
    window: Sequence[Sequence[float]] | None = None,
    n: int = 4000,
    seed: int = 0,
    tolerance: float = 1e-3,
    progress: bool = False,
    **setting_overrides,
) -> BasinComparison:
    """Estimate the region's share of the simulated basin by uniform samples.

    A sample is in the basin when its trajectory converged to within `tolerance` of
    the attractor.

    **Arguments:**

    - `region`: the certified region.
    - `model`, `params`: the model and parameter overrides it was certified for.
    - `window`: `(low, high)` per state; by default a box around the fixed points.
    - `n`, `seed`: the Monte Carlo sample.
    - `tolerance`: the distance (max-norm) to the attractor that counts as arrival.
    - `progress`, `**setting_overrides`: as for [`basinlab.integrate`][].

    **Raises:**

    - `ValueError`: `window` does not give one interval per state, or `samples < 1`.
    """
    if n < 1:
        raise ValueError(f"n must be positive, got {n}")
    box = np.asarray(
        window if window is not None else default_window(model, fixed_points(model, params=params)),
        dtype=float,
    )
    if box.shape != (model.dim, 2) or np.any(box[:, 0] >= box[:, 1]):
        raise ValueError(f"window must give (low, high) with low < high per state, got {box}")
    rng = np.random.default_rng(seed)
    starts = rng.uniform(box[:, 0], box[:, 1], size=(n, model.dim))
    result = integrate(model, starts, params=params, progress=progress, **setting_overrides)
    target = np.array(
        [float(sp.re(c.evalf(30))) for c in symbolic_values(region.attractor, "coordinate")]
    )
    arrived = (result["status"].values == CONVERGED) & (
        np.max(np.abs(result["y_final"].values - target), axis=1) <= tolerance
    )
    inside = region.contains(starts)
    in_basin, in_region = int(arrived.sum()), int(inside.sum())
    in_both = int((arrived & inside).sum())
    low, high = wilson_interval(in_both, max(in_basin, 1), 0.95)
    return BasinComparison(
        tuple(map(tuple, box.tolist())),
        n,
        in_basin,
        in_region,
        in_region - in_both,
        in_both / in_basin if in_basin else float("nan"),
        float(low),
        float(high),
    )


@legacy_arguments(positional=("params",), renamed={"samples": "n"})
def certified_region(
    model: Model,
    attractor: FixedPoint | Sequence[object],
    *,
    params: Mapping[str, float] | None = None,
    method: str = "auto",
    compare: bool = True,
    window: Sequence[Sequence[float]] | None = None,
    n: int = 4000,
    seed: int = 0,
    progress: bool = False,
    **setting_overrides,
) -> CertifiedRegion:
    r"""A region proved to lie in the basin of a stable fixed point.

    For a gradient flow with a polynomial loss the region is a sublevel set
    $\{x \in B : L(x) < c\}$ in a box, certified by the exact critical points and
    rational interval arithmetic (`method="sublevel"`, see
    [`basinlab.proofs.sublevel_certificate`][]). For any polynomial vector field it is
    a sublevel set $\{V < c\}$ of a quadratic Lyapunov function, with $\dot V < 0$
    certified by a rational sum-of-squares decomposition (`method="sos"`, see
    [`basinlab.proofs.lyapunov_certificate`][]). Either way the exact check has
    passed before the region is returned; if it fails, an error is raised, never a
    weaker region.

    **Arguments:**

    - `model`: the model.
    - `attractor`: the stable fixed point, as a [`basinlab.FixedPoint`][] or its
      coordinates (exact values, or floats matched to an exact critical point).
    - `params`: parameter overrides, taken as exact decimals.
    - `method`: `"sublevel"`, `"sos"`, or `"auto"` (sublevel for gradient flows, SOS
      otherwise).
    - `compare`: also estimate the region's share of the simulated basin
      ([`compare_with_basin`][]) with `n` uniform samples in `window`.
    - `window`, `n`, `seed`, `progress`, `**setting_overrides`: for the
      comparison.

    **Returns:**

    A [`CertifiedRegion`][], with `contains` usable on arrays of points.

    **Raises:**

    - `ValueError`: `method` is unknown; the model is a map, or not polynomial (or, for
      `"sublevel"`, not a gradient flow); the attractor is not a stable fixed point
      with the coordinates the method needs.
    - `basinlab.proofs.CertificateFailed`: no region could be certified exactly.
    """
    if method not in ("auto", SUBLEVEL, SOS):
        raise ValueError(f"method must be 'auto', 'sublevel' or 'sos', got {method!r}")
    if model.kind == MAP:
        # Both certificates are about flows: a loss that decreases along dx/dt, or a
        # Lyapunov function with dV/dt < 0; a map needs V(F(x)) < V(x) instead.
        raise ValueError(f"model {model.name!r} is a map; certified regions are for flows")
    location = _location(model, attractor)
    if method == "auto":
        polynomial_loss = model.loss is not None and model.loss.is_polynomial(*model.state)
        method = SUBLEVEL if polynomial_loss else SOS
    if method == SUBLEVEL:
        certificate = sublevel_certificate(model, location, params=params)
        exact = certificate.minimum
    else:
        certificate = lyapunov_certificate(model, location, params=params)
        exact = certificate.centre
    region = CertifiedRegion(
        model.name,
        {str(k): v for k, v in model.resolve_params(params).items()},
        tuple(model.state_names),
        tuple(exact),
        method,
        _description(certificate),
        certificate,
    )
    if not compare:
        return region
    comparison = compare_with_basin(
        region,
        model,
        params=params,
        window=window,
        n=n,
        seed=seed,
        progress=progress,
        **setting_overrides,
    )
    return dataclasses.replace(region, comparison=comparison)
