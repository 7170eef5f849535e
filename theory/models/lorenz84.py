"""Lorenz-84: a reference system where a fixed point, a limit cycle and a chaotic
attractor coexist."""

from __future__ import annotations

import sympy as sp

from .._model import Model


def lorenz84(F: float = 6.886, G: float = 1.347, a: float = 0.255, b: float = 4.0) -> Model:
    r"""Lorenz's 1984 model of the general circulation (E. N. Lorenz, "Irregularity: a
    fundamental property of the atmosphere", Tellus A 36, 98, 1984),

    $$
    \dot x = -y^2 - z^2 - a x + a F, \qquad
    \dot y = x y - b x z - y + G, \qquad
    \dot z = b x y + x z - z .
    $$

    A reference system, not a training model. At the defaults (C. Freire, J. A. C.
    Gallas et al.'s multistable region, used by G. Datseris and A. Wagemakers,
    "Effortless estimation of basins of attraction", Chaos 32, 023104, 2022) a stable
    fixed point, a stable limit cycle and a chaotic attractor coexist, the cycle and
    the chaotic set within a few hundredths of each other in places.

    **Arguments:**

    - `F`, `G`, `a`, `b`: defaults of the parameters.

    **Returns:**

    A [`basinlab.Model`][] with state $(x, y, z)$ and parameters `F`, `G`, `a`, `b`.
    """
    x, y, z = sp.symbols("x y z", real=True)
    pF, pG, pa, pb = sp.symbols("F G a b", real=True)
    return Model(
        "lorenz84",
        [x, y, z],
        [-(y**2) - z**2 - pa * x + pa * pF, x * y - pb * x * z - y + pG, pb * x * y + x * z - z],
        params={pF: F, pG: G, pa: a, pb: b},
        description="Reference system (not a training model): Lorenz-84, where a fixed point, a "
        "limit cycle and a chaotic attractor coexist.",
        search_box=[(-1.0, 2.5), (-2.5, 2.5), (-2.5, 2.5)],
    )
