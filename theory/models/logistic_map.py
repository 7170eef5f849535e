"""The logistic map."""

from __future__ import annotations

import sympy as sp

from .._model import Model
from .._values import symbolic_arguments


def logistic_map(r: float = 3.2) -> Model:
    r"""The logistic map $x_{k+1} = r\,x_k (1 - x_k)$ (R. M. May, "Simple mathematical
    models with very complicated dynamics", Nature 261, 459, 1976).

    For $1 < r < 3$ the fixed point $1 - 1/r$ attracts every $x_0 \in (0, 1)$; at
    $r = 3$ it loses stability ($F' = 2 - r = -1$, a period-doubling bifurcation) to
    the period-2 orbit of [`logistic_period_two`][], which attracts up to
    $r = 1 + \sqrt 6$. Starts outside $[0, 1]$ go to $-\infty$.

    **Arguments:**

    - `r`: default of the growth rate $r$.

    **Returns:**

    A [`basinlab.Model`][] of kind `"map"` with state $x$ and parameter `r`.
    """
    x = sp.Symbol("x", real=True)
    rate = sp.Symbol("r", positive=True)
    return Model.iterated_map(
        "logistic_map",
        [x],
        [rate * x * (1 - x)],
        params={rate: r},
        description="The logistic map x -> r x (1 - x) (May 1976); a period-2 orbit at "
        "the default r = 3.2.",
        search_box=[(-0.5, 1.5)],
    )


def logistic_period_two(r: object) -> tuple[sp.Expr, sp.Expr]:
    r"""The two points of the logistic map's period-2 orbit,

    $$x_\pm = \frac{r + 1 \pm \sqrt{(r - 3)(r + 1)}}{2r},$$

    the roots of $F(F(x)) = x$ other than the fixed points; real for $r > 3$.

    **Returns:**

    `(x_minus, x_plus)`, exact for exact `r`.
    """
    (r,) = symbolic_arguments(r=r)
    r = sp.nsimplify(r)
    root = sp.sqrt((r - 3) * (r + 1))
    return (r + 1 - root) / (2 * r), (r + 1 + root) / (2 * r)
