"""A smooth ramp of one parameter in time, for rate-induced tipping."""

from __future__ import annotations

import math
import numbers

TANH = "tanh"
LINEAR = "linear"
_SHAPES = (TANH, LINEAR)
# A tanh ramp starts and ends where it is this close (as a share of its size) to its
# start and end values.
_ENDS_WITHIN = 1e-9


class Ramp:
    r"""A parameter moving from `start` to `end` at rate $r$.

    - `"tanh"` (P. Ashwin, S. Wieczorek, R. Vitolo and P. Cox, "Tipping points in open
      systems: bifurcation, noise-induced and rate-dependent examples in the climate
      system", Phil. Trans. R. Soc. A 370, 1166, 2012): with $\Delta = $ `end` $-$
      `start`,
      $$\lambda(t) = \lambda_0 + \frac{\Delta}{2}\Big(1 + \tanh\frac{|\Delta| r t}{2}\Big),
      \qquad \dot\lambda = r\,\mathrm{sign}(\Delta)(\lambda - \lambda_0)(\lambda_0 + \Delta
      - \lambda),$$
      over $t \in [-T, T]$ with $T$ where $\lambda$ is within $10^{-9}\Delta$ of its
      ends. The fastest change, at the midpoint, is $r\Delta^2/4$ in size.
    - `"linear"`: $\lambda(t) = \lambda_0 + r t\,\mathrm{sign}\,\Delta$ over $t \in [0,
      |\Delta|/r]$.

    **Arguments:**

    - `param`: the name of the parameter ramped.
    - `start`, `end`: its values before and after.
    - `rate`: $r > 0$.
    - `shape`: `"tanh"` or `"linear"`.

    **Raises:**

    - `ValueError`: `start == end`, a value that is not finite, a rate that is not
      positive, or an unknown shape.
    - `TypeError`: `param` is not text, or a value is not a number.
    """

    def __init__(self, param: str, start: float, end: float, rate: float = 1.0, shape: str = TANH):
        if not isinstance(param, str):
            raise TypeError(f"param must be a parameter's name, got {param!r}")
        values = {}
        for name, value in (("start", start), ("end", end), ("rate", rate)):
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise TypeError(f"{name} must be a number, got {value!r}")
            if not math.isfinite(value):
                raise ValueError(f"{name} must be finite, got {value!r}")
            values[name] = float(value)
        if values["start"] == values["end"]:
            raise ValueError(f"a ramp must move: start and end are both {start}")
        if values["rate"] <= 0:
            raise ValueError(f"rate must be positive, got {rate}")
        if shape not in _SHAPES:
            raise ValueError(f"shape must be one of {list(_SHAPES)}, got {shape!r}")
        self.param, self.shape = param, shape
        self.start, self.end, self.rate = values["start"], values["end"], values["rate"]

    def __repr__(self) -> str:
        return (
            f"Ramp({self.param!r}, start={self.start}, end={self.end}, rate={self.rate}, "
            f"shape={self.shape!r})"
        )

    @property
    def size(self) -> float:
        return self.end - self.start

    def with_rate(self, rate: float) -> Ramp:
        """The same ramp at another rate."""
        return Ramp(self.param, self.start, self.end, rate, self.shape)

    def span(self) -> tuple[float, float]:
        """The times at which the ramp starts and ends."""
        if self.shape == LINEAR:
            return 0.0, abs(self.size) / self.rate
        half = 2 * math.atanh(1 - 2 * _ENDS_WITHIN) / (abs(self.size) * self.rate)
        return -half, half

    def value(self, t: float) -> float:
        """$\\lambda(t)$; before the span the start value, after it the end value."""
        low, high = self.span()
        if self.shape == LINEAR:
            return self.start + math.copysign(min(max(t, low), high) * self.rate, self.size)
        return self.start + self.size / 2 * (1 + math.tanh(abs(self.size) * self.rate * t / 2))
