"""Escape from a minimum under noise: the Eyring–Kramers law and the exact 1-D time."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence

import numpy as np
import sympy as sp

from ._fixed_points import FixedPoint, hessian
from ._legacy_arguments import legacy_arguments
from ._model import Model, ParamKey
from ._values import symbolic_values


@dataclasses.dataclass(frozen=True)
class KramersRate:
    r"""An Eyring–Kramers escape rate, $k = A\,e^{-\Delta L / D}$.

    **Fields:**

    - `barrier`: $\Delta L = L(\text{saddle}) - L(\text{minimum})$, exact.
    - `prefactor`: $A = \frac{|\lambda^-|}{2\pi}\sqrt{\det H(\text{minimum}) /
      |\det H(\text{saddle})|}$, exact.
    - `temperature`: $D$.
    - `rate`: $k$ as a float.
    - `mean_time`: $1/k$, the asymptotic mean time to go from the minimum over the
      saddle into the next basin.
    """

    barrier: sp.Expr
    prefactor: sp.Expr
    temperature: float
    rate: float
    mean_time: float

    def __post_init__(self):
        assert self.temperature > 0 and self.rate > 0
        assert math.isclose(self.rate * self.mean_time, 1.0)

    @property
    def barrier_over_temperature(self) -> float:
        """$\\Delta L / D$: the law is asymptotic in this number (relative error
        $O(D / \\Delta L)$), so check that it is large."""
        return float(self.barrier) / self.temperature


def _point(point: FixedPoint | Sequence[object]) -> tuple[sp.Expr, ...]:
    if isinstance(point, FixedPoint):
        return point.location
    point = list(point)
    exact = symbolic_values(point, "coordinate")
    return tuple(sp.nsimplify(e) if isinstance(c, float) else e for c, e in zip(point, exact))


def _positive_temperature(temperature: float) -> float:
    value = float(temperature)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"the temperature D must be positive and finite, got {temperature}")
    return value


def _gradient_model(model: Model, what: str) -> sp.Expr:
    if model.loss is None:
        raise ValueError(f"{what} needs a gradient flow, and model {model.name!r} has no loss")
    return model.loss


@legacy_arguments(positional=("params",), renamed={"minimum": "attractor"})
def eyring_kramers(
    model: Model,
    attractor: FixedPoint | Sequence[object],
    saddle: FixedPoint | Sequence[object],
    temperature: float,
    *,
    params: Mapping[ParamKey, float] | None = None,
) -> KramersRate:
    r"""The Eyring–Kramers rate of escape from a minimum over a saddle.

    For overdamped Langevin dynamics $dx = -\nabla L\,dt + \sqrt{2D}\,dW$ (a gradient
    flow with [`basinlab.Noise.isotropic`][] noise), the rate of transitions from a
    local minimum $m$ over an index-1 saddle $s$ is, as $D \to 0$,

    $$
    k = \frac{|\lambda^-(s)|}{2\pi} \sqrt{\frac{\det H(m)}{|\det H(s)|}}
        \; e^{-(L(s) - L(m))/D}\,(1 + O(D)),
    $$

    with $H$ the Hessian of $L$ and $\lambda^-(s)$ its negative eigenvalue at $s$
    (H. Eyring, J. Chem. Phys. 3, 107, 1935; H. A. Kramers, Physica 7, 284, 1940;
    A. Bovier, M. Eckhoff, V. Gayrard and M. Klein, "Metastability in reversible
    diffusion processes I", J. Eur. Math. Soc. 6, 399, 2004, for the proof). The
    barrier and prefactor are computed exactly from SymPy; the law itself is only
    asymptotic (in 1-D see [`exact_mean_first_passage_time`][]). With several saddles
    out of $m$, their rates add.

    **Arguments:**

    - `model`: a gradient flow.
    - `attractor`, `saddle`: fixed points, or their exact coordinates.
    - `temperature`: $D > 0$.
    - `params`: parameter overrides.

    **Returns:**

    A [`KramersRate`][].

    **Raises:**

    - `ValueError`: the model has no loss; `attractor` is not a strict minimum or
      `saddle` not an index-1 saddle of $L$; the temperature is not positive.
    """
    loss = _gradient_model(model, "the Eyring–Kramers law")
    temperature = _positive_temperature(temperature)
    substitution = model.param_substitution(params, exact=True)
    hessian_at = hessian(model).subs(substitution)
    loss_at = loss.subs(substitution)
    low, high = _point(attractor), _point(saddle)
    at_minimum = dict(zip(model.state, low))
    at_saddle = dict(zip(model.state, high))
    h_minimum = sp.simplify(hessian_at.subs(at_minimum))
    h_saddle = sp.simplify(hessian_at.subs(at_saddle))
    # Floating eigenvalues decide the kinds; SymPy's own (mpmath) can exhaust its
    # precision on a plain rational 2x2 Hessian such as [[13/5, -1], [-1, 1]].
    minimum_curvatures = list(np.linalg.eigvalsh(np.array(h_minimum.evalf(30), dtype=float)))
    saddle_curvatures = sorted(np.linalg.eigvalsh(np.array(h_saddle.evalf(30), dtype=float)))
    if min(minimum_curvatures) <= 0:
        raise ValueError(f"{low} is not a strict minimum of the loss of {model.name!r}")
    if not (saddle_curvatures[0] < 0 < (saddle_curvatures[1:] or [1.0])[0]):
        raise ValueError(f"{high} is not an index-1 saddle of the loss of {model.name!r}")
    unstable = min(h_saddle.eigenvals(multiple=True), key=lambda v: complex(v).real)
    barrier = sp.simplify(loss_at.subs(at_saddle) - loss_at.subs(at_minimum))
    prefactor = sp.simplify(
        sp.Abs(unstable) / (2 * sp.pi) * sp.sqrt(h_minimum.det() / sp.Abs(h_saddle.det()))
    )
    rate = float(prefactor) * math.exp(-float(barrier) / temperature)
    return KramersRate(barrier, prefactor, temperature, rate, 1 / rate)


@legacy_arguments(positional=("params",))
def exact_mean_first_passage_time(
    model: Model,
    start: float,
    target: float,
    temperature: float,
    *,
    params: Mapping[ParamKey, float] | None = None,
) -> float:
    r"""The mean time for $dx = -L'(x)\,dt + \sqrt{2D}\,dW$ in 1-D to first reach
    `target` from `start`, exactly (by quadrature, not asymptotics).

    For `target` $b$ above `start` $x_0$, with nothing to stop the motion below,

    $$
    T(x_0 \to b) = \frac{1}{D} \int_{x_0}^{b} dy\; e^{L(y)/D}
                   \int_{-\infty}^{y} dz\; e^{-L(z)/D},
    $$

    and the mirror image for $b < x_0$ (C. W. Gardiner, *Stochastic Methods*, §5.5.1;
    the standard backward-equation solution). Both integrals are evaluated by adaptive
    Gauss–Kronrod quadrature (`scipy.integrate.quad`, relative tolerance $10^{-10}$),
    with the exponents shifted so that they stay in range; the loss must grow without
    bound on the far side.

    **Arguments:**

    - `model`: a 1-D gradient flow.
    - `start`, `target`: $x_0$ and $b$.
    - `temperature`: $D > 0$.
    - `params`: parameter overrides.

    **Returns:**

    $T$ as a float.

    **Raises:**

    - `ValueError`: the model is not a 1-D gradient flow, `start == target`, a value
      is not finite, or the temperature is not positive.
    """
    import scipy.integrate  # on use: SciPy's integrate would add 0.6 s to every import

    loss = _gradient_model(model, "the exact first-passage time")
    if model.dim != 1:
        raise ValueError(f"the exact first-passage time is for 1-D models; {model.name!r} is not")
    temperature = _positive_temperature(temperature)
    start, target = float(start), float(target)
    if not (math.isfinite(start) and math.isfinite(target)) or start == target:
        raise ValueError(f"start and target must be finite and different, got {start}, {target}")
    direction = 1 if target > start else -1
    x = model.state[0]
    # Reflect so that the target lies to the right; the far side is then -infinity.
    reflected = sp.lambdify(
        x, loss.subs(model.param_substitution(params, exact=False)).subs(x, direction * x), "math"
    )
    low, high = direction * start, direction * target
    grid = [low - 5 + (high - low + 5) * i / 400 for i in range(401)]
    # Shift both exponents by their extremes so that neither overflows.
    inner_shift = min(reflected(v) for v in grid)
    outer_shift = max(reflected(v) for v in grid if v >= low)

    def inner(y: float) -> float:
        return scipy.integrate.quad(
            lambda z: math.exp(-(reflected(z) - inner_shift) / temperature),
            -math.inf,
            y,
            epsabs=0.0,
            epsrel=1e-11,
            limit=200,
        )[0]

    outer = scipy.integrate.quad(
        lambda y: math.exp((reflected(y) - outer_shift) / temperature) * inner(y),
        low,
        high,
        epsabs=0.0,
        epsrel=1e-10,
        limit=200,
    )[0]
    return outer * math.exp((outer_shift - inner_shift) / temperature) / temperature
