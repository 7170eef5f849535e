"""A planar system with a stable fixed point and a stable limit cycle."""

from __future__ import annotations

import sympy as sp

from .._model import Model


def bistable_cycle(rotation: float = 1.0) -> Model:
    r"""A stable fixed point inside a stable limit cycle, separated by an unstable one.

    With $\rho = x^2 + y^2$ and $g(\rho) = -(\rho - 1)(\rho - 4)$,

    $$
    \dot x = x\,g(\rho) - \omega y, \qquad \dot y = y\,g(\rho) + \omega x .
    $$

    In polar coordinates $\dot r = r\,g(r^2)$ and $\dot\theta = \omega$: the origin
    is a stable focus ($g(0) = -4$), the circle $r = 1$ is an unstable limit cycle and
    the circle $r = 2$ a stable one. The basin of the origin is the open unit disc;
    every other point except the unit circle ends on the outer cycle. Fixed-point
    analysis finds only the origin, so this model checks that basinlab finds
    attractors the theory did not list.

    The predicate `"inside"` is $\rho < 1$.

    **Arguments:**

    - `rotation`: default of the angular velocity $\omega$.

    **Returns:**

    A [`basinlab.Model`][] with state $(x, y)$ and parameter `rotation`.
    """
    x, y = sp.symbols("x y", real=True)
    omega = sp.Symbol("rotation", real=True)
    rho = x**2 + y**2
    growth = -(rho - 1) * (rho - 4)
    return Model(
        "bistable_cycle",
        [x, y],
        [x * growth - omega * y, y * growth + omega * x],
        params={omega: rotation},
        predicates={"inside": rho < 1},
        observables={"radius_squared": rho},
        description="A stable focus at the origin inside a stable limit cycle of radius 2.",
    )
