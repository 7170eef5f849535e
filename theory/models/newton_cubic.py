"""Newton's method for z^3 - 1 as a map of the plane."""

from __future__ import annotations

import sympy as sp

from .._model import Model


def newton_cubic() -> Model:
    r"""Newton's method for the roots of $z^3 - 1$, as a real map of $(x, y)$.

    With $z = x + iy$, one step is

    $$
    z_{k+1} = N(z_k) = z_k - \frac{z_k^3 - 1}{3 z_k^2} = \frac{2 z_k^3 + 1}{3 z_k^2},
    $$

    split into its real and imaginary parts. Its fixed points are the three cube roots
    of unity, where $N' = 0$ (superattracting); $z = 0$ is a pole, sent to infinity.
    The three basins are images of each other under rotation by $2\pi/3$, so under
    any rotation-invariant initial distribution each has probability $1/3$, and their
    common boundary is a fractal (the Julia set of $N$): every boundary point
    borders all three basins (A. Cayley, "The Newton–Fourier imaginary problem", Am.
    J. Math. 2, 97, 1879; J. H. Hubbard, D. Schleicher and S. Sutherland, "How to find
    all roots of complex polynomials by Newton's method", Invent. Math. 146, 1,
    2001). It is basinlab's test case for fractal basin boundaries, basin entropy and
    the uncertainty exponent.

    The predicate `"real_root"` is $x > 0$, which holds only at the root $z = 1$.

    **Returns:**

    A [`basinlab.Model`][] of kind `"map"` with state $(x, y)$ and no parameters.
    """
    x, y = sp.symbols("x y", real=True)
    z = x + sp.I * y
    step = sp.expand_complex((2 * z**3 + 1) / (3 * z**2))
    real, imaginary = (sp.factor(sp.simplify(part)) for part in step.as_real_imag())
    return Model.iterated_map(
        "newton_cubic",
        [x, y],
        [real, imaginary],
        predicates={"real_root": x > 0},
        description="Newton's method for z^3 - 1 in the plane: three basins with a fractal "
        "boundary (Cayley 1879).",
        search_box=[(-2.0, 2.0), (-2.0, 2.0)],
    )
