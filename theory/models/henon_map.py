"""The Hénon map: a reference system with a chaotic attractor."""

from __future__ import annotations

import sympy as sp

from .._model import Model


def henon_map(a: float = 1.4, b: float = 0.3) -> Model:
    r"""The Hénon map (M. Hénon, "A two-dimensional mapping with a strange attractor",
    Commun. Math. Phys. 50, 69, 1976),

    $$
    x_{k+1} = 1 - a x_k^2 + y_k, \qquad y_{k+1} = b x_k .
    $$

    A reference system, not a training model. At the classical $a = 1.4$, $b = 0.3$
    the map has one attractor, chaotic, with Lyapunov exponents $\lambda_1 \approx
    0.419$ and $\lambda_1 + \lambda_2 = \log b$ exactly (the Jacobian's determinant is
    $-b$ everywhere); every other start diverges. Its two fixed points are saddles.

    **Arguments:**

    - `a`, `b`: defaults of the parameters.

    **Returns:**

    A [`basinlab.Model`][] of kind `"map"` with state $(x, y)$ and parameters `a`, `b`.
    """
    x, y = sp.symbols("x y", real=True)
    pa, pb = sp.symbols("a b", real=True)
    return Model.iterated_map(
        "henon_map",
        [x, y],
        [1 - pa * x**2 + y, pb * x],
        params={pa: a, pb: b},
        description="Reference system (not a training model): the Henon map (1976), a chaotic "
        "attractor beside divergence.",
        search_box=[(-2.0, 2.0), (-2.0, 2.0)],
    )
