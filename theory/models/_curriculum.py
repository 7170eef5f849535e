"""Curricula: piecewise-constant data weights over training phases."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence

import sympy as sp

# Weights given as decimals (0.7 + 0.2 + 0.1) miss 1 by rounding alone.
_SUM_TOLERANCE = 1e-9


class Curriculum:
    r"""A data schedule: training runs through phases, and in phase $p$ the data of
    task (mode) $k$ carries the weight $w_{p,k} \ge 0$, with $\sum_k w_{p,k} = 1$.

    Phase $p$ lasts from $T_{p-1}$ to $T_p = T_{p-1} + L_p$ ($T_0 = 0$). Only the
    last phase may last for ever ($L = \infty$); after a finite schedule ends, every
    weight is zero: there is no more data, and training stops.

    A mode trained at weight $w(t)$ moves as it would at weight one in the
    *effective time* $W(t) = \int_0^t w(t')\,dt'$, which is piecewise linear here
    ([`Curriculum.cumulative_weight`][]); its inverse
    ([`Curriculum.time_to_accumulate`][]) turns closed-form learning times into
    times under the schedule.

    **Arguments:**

    - `phases`: a sequence of `(length, weights)` pairs, `weights` a mapping from
      mode name to weight, every phase naming the same modes.

    **Raises:**

    - `ValueError`: no phases; a length that is not positive, or infinite before the
      last phase; a weight that is negative or not finite; weights of a phase that do
      not sum to one; phases naming different modes.
    """

    def __init__(self, phases: Sequence[tuple[float, Mapping[str, float]]]):
        phases = list(phases)
        if not phases:
            raise ValueError("a curriculum needs at least one phase")
        lengths, weights = [], []
        modes = None
        for index, phase in enumerate(phases, start=1):
            if not (isinstance(phase, tuple | list) and len(phase) == 2):
                raise ValueError(f"phase {index} must be a (length, weights) pair, got {phase!r}")
            length, phase_weights = phase
            lengths.append(_length(length, index, last=index == len(phases)))
            if not isinstance(phase_weights, Mapping) or not phase_weights:
                raise ValueError(f"phase {index} needs a mapping from mode to weight")
            names = tuple(str(name) for name in phase_weights)
            if modes is None:
                modes = names
            elif set(names) != set(modes):
                raise ValueError(
                    f"phase {index} names the modes {sorted(names)}, phase 1 {sorted(modes)}"
                )
            weights.append({str(k): _weight(v, index, str(k)) for k, v in phase_weights.items()})
            total = sum(weights[-1].values())
            if abs(total - 1) > _SUM_TOLERANCE:
                raise ValueError(f"the weights of phase {index} sum to {total:.12g}, not 1")
        self.modes: tuple[str, ...] = modes
        self.lengths: tuple[float, ...] = tuple(lengths)
        self.weights: tuple[dict[str, float], ...] = tuple(
            {mode: w[mode] for mode in modes} for w in weights
        )
        self.ends: tuple[float, ...] = tuple(
            math.fsum(self.lengths[: p + 1]) for p in range(len(self.lengths))
        )

    @classmethod
    def constant(cls, weights: Mapping[str, float]) -> Curriculum:
        """One phase with these weights, for ever."""
        return cls([(math.inf, weights)])

    def __repr__(self) -> str:
        return f"Curriculum({list(zip(self.lengths, self.weights))!r})"

    def _check_mode(self, mode: str) -> None:
        if mode not in self.modes:
            raise ValueError(f"unknown mode {mode!r}; this curriculum has {list(self.modes)}")

    def weight(self, mode: str, t: float) -> float:
        """The weight $w_k(t)$ of `mode`'s data at time `t` (zero after the schedule).

        **Raises:**

        - `ValueError`: `mode` is not in the curriculum, or `t` is negative.
        """
        self._check_mode(mode)
        if t < 0:
            raise ValueError(f"time must be non-negative, got {t}")
        for end, weights in zip(self.ends, self.weights):
            if t < end:
                return weights[mode]
        return 0.0

    def cumulative_weight(self, mode: str, t: float) -> float:
        r"""$W_k(t) = \int_0^t w_k(t')\,dt'$.

        **Raises:**

        - `ValueError`: `mode` is not in the curriculum, or `t` is negative.
        """
        self._check_mode(mode)
        if t < 0:
            raise ValueError(f"time must be non-negative, got {t}")
        total, start = 0.0, 0.0
        for end, weights in zip(self.ends, self.weights):
            total += weights[mode] * (min(t, end) - start)
            if t <= end:
                break
            start = end
        return total

    def time_to_accumulate(self, mode: str, amount: float) -> float:
        r"""The first time $t$ with $W_k(t) = $ `amount`; `math.inf` if the schedule
        never gives `mode` that much.

        **Raises:**

        - `ValueError`: `mode` is not in the curriculum, or `amount` is negative.
        """
        self._check_mode(mode)
        if not amount >= 0:
            raise ValueError(f"amount must be non-negative, got {amount}")
        if amount == 0:
            return 0.0
        accumulated, start = 0.0, 0.0
        for end, weights in zip(self.ends, self.weights):
            rate = weights[mode]
            if rate > 0 and accumulated + rate * (end - start) >= amount:
                return start + (amount - accumulated) / rate
            accumulated += rate * (end - start)
            start = end
        return math.inf

    def symbolic_weights(
        self, t: sp.Symbol, prefix: str = "phase"
    ) -> tuple[dict[str, sp.Expr], dict[sp.Symbol, float]]:
        r"""Each mode's weight as a piecewise expression of the clock `t`, with the
        lengths and weights as parameters.

        The parameters are `phase_p_length` for each finite phase and
        `phase_p_<mode>` for each mode but the last; the last mode's weight is one
        minus the others', so a parameter sweep keeps every phase's weights summing
        to one.

        **Arguments:**

        - `t`: the clock symbol.
        - `prefix`: the parameters' name prefix.

        **Returns:**

        `(weights, params)`: the expression of each mode's weight, and the
        parameters with their values in this curriculum.
        """
        params: dict[sp.Symbol, float] = {}
        ends: list[sp.Expr] = []
        elapsed = sp.Integer(0)
        for p, length in enumerate(self.lengths, start=1):
            if math.isinf(length):
                break
            symbol = sp.Symbol(f"{prefix}_{p}_length", positive=True)
            params[symbol] = length
            elapsed = elapsed + symbol
            ends.append(elapsed)
        *free, last = self.modes
        phase_weights: list[dict[str, sp.Expr]] = []
        for p, weights in enumerate(self.weights, start=1):
            symbols = {mode: sp.Symbol(f"{prefix}_{p}_{mode}", nonnegative=True) for mode in free}
            params.update({symbols[mode]: weights[mode] for mode in free})
            phase_weights.append({**symbols, last: 1 - sum(symbols.values())})
        expressions = {}
        for mode in self.modes:
            pieces = [(w[mode], t < end) for w, end in zip(phase_weights, ends)]
            if len(ends) == len(phase_weights):  # the schedule ends: no more data
                pieces.append((sp.Integer(0), True))
            else:
                pieces.append((phase_weights[-1][mode], True))
            expressions[mode] = sp.Piecewise(*pieces)
        return expressions, params


def _length(value: object, phase: int, last: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"the length of phase {phase} must be a number, got {value!r}")
    length = float(value)
    if math.isnan(length) or length <= 0:
        raise ValueError(f"the length of phase {phase} must be positive, got {value!r}")
    if math.isinf(length) and not last:
        raise ValueError(f"only the last phase may last for ever; phase {phase} has length inf")
    return length


def _weight(value: object, phase: int, mode: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"the weight of {mode!r} in phase {phase} must be a number, got {value!r}")
    weight = float(value)
    if not (math.isfinite(weight) and weight >= 0):
        raise ValueError(
            f"the weight of {mode!r} in phase {phase} must be finite and non-negative, "
            f"got {value!r}"
        )
    return weight
