"""Noise for stochastic training dynamics: $dx = f\\,dt + g\\,dW$."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

import sympy as sp

from ._expressions import as_expression


@dataclasses.dataclass(frozen=True)
class Noise:
    r"""The noise of an SDE $dx = f(x)\,dt + g(x)\,dW_t$, given by $g$ or by
    $\Sigma = g g^\top$.

    Give either `diffusion` ($g$, an $n \times m$ matrix driven by $m$ independent
    Brownian motions) or `covariance` ($\Sigma$, symmetric $n \times n$, of which the
    compiled model takes the square root of the positive part at each state). Build
    one with the class methods rather than directly.

    **Fields:**

    - `diffusion`: $g$ as a SymPy `Matrix`, or `None`.
    - `covariance`: $\Sigma$ as a SymPy `Matrix`, or `None`.
    - `description`: what the noise stands for, for results and plots.
    """

    diffusion: sp.Matrix | None = None
    covariance: sp.Matrix | None = None
    description: str = ""

    def __post_init__(self):
        assert (self.diffusion is None) != (self.covariance is None)
        if self.covariance is not None:
            assert self.covariance.shape[0] == self.covariance.shape[1]

    @classmethod
    def diagonal(cls, amplitudes: Iterable[object], description: str = "") -> Noise:
        """Independent noise on each state: $g = \\operatorname{diag}(g_1, \\dots, g_n)$.

        **Raises:**

        - `TypeError`: an amplitude is a string or not SymPy.
        """
        values = [as_expression(v, "a noise amplitude") for v in amplitudes]
        return cls(diffusion=sp.diag(*values), description=description)

    @classmethod
    def matrix(cls, diffusion: Sequence[Sequence[object]] | sp.Matrix, description: str = ""):
        """A full diffusion matrix $g$, $n \\times m$."""
        return cls(diffusion=_matrix(diffusion), description=description)

    @classmethod
    def from_covariance(
        cls, covariance: Sequence[Sequence[object]] | sp.Matrix, description: str = ""
    ) -> Noise:
        """Noise given by its covariance $\\Sigma = g g^\\top$.

        **Raises:**

        - `ValueError`: $\\Sigma$ is not square and symmetric.
        """
        matrix = _matrix(covariance)
        if matrix.shape[0] != matrix.shape[1] or not (matrix - matrix.T).is_zero_matrix:
            raise ValueError(f"a noise covariance must be square and symmetric, got {matrix}")
        return cls(covariance=matrix, description=description)

    @classmethod
    def isotropic(cls, temperature: object, dimension: int) -> Noise:
        r"""$g = \sqrt{2D}\,I$: overdamped Langevin dynamics at temperature $D$, whose
        stationary density is $\propto e^{-L/D}$ for a gradient flow of $L$.

        **Arguments:**

        - `temperature`: $D$, a number or a parameter symbol.
        - `dimension`: $n$.
        """
        amplitude = sp.sqrt(2 * as_expression(temperature, "the temperature"))
        return cls.diagonal(
            [amplitude] * dimension, description=f"isotropic, temperature {temperature}"
        )

    @classmethod
    def sgd(
        cls,
        loss: object,
        state: Sequence[sp.Symbol],
        learning_rate: object,
        batch_size: object,
        floor: object = 0,
    ) -> Noise:
        r"""The anisotropic noise of SGD near a minimum: $\Sigma = (\eta / B)\,
        (H(x) + \sigma_0^2 I)$.

        Minibatch gradients of a loss $L$ have, near a minimum, a covariance close to
        the Hessian $H$ (the Fisher information), scaled by $1/B$; SGD with learning
        rate $\eta$ then follows $dx = -\nabla L\,dt + \sqrt{(\eta/B) H}\,dW$ in the
        time $t = \eta \cdot$ steps (Z. Zhu, J. Wu, B. Yu, L. Wu and J. Ma, "The
        anisotropic noise in stochastic gradient descent", ICML 2019; S. Jastrzębski
        et al., "Three factors influencing minima in SGD", 2017). Sharp minima
        (large $H$) therefore get more noise than flat ones. Where $H$ is not positive
        semi-definite, its negative part is dropped. Curvature alone then gives no noise
        where $H$ is not positive (past an inflection point on the way out of a well, in
        1-D), so a run cannot escape on it; the isotropic `floor` $\sigma_0^2$ stands
        for gradient noise that curvature does not explain (label noise, data noise)
        and lets it.

        **Arguments:**

        - `loss`: $L$.
        - `state`: the state symbols.
        - `learning_rate`, `batch_size`: $\eta$ and $B$, numbers or parameter symbols.
        - `floor`: $\sigma_0^2 \ge 0$.
        """
        loss = as_expression(loss, "the loss")
        scale = as_expression(learning_rate, "the learning rate") / as_expression(
            batch_size, "the batch size"
        )
        floor = as_expression(floor, "the noise floor")
        if floor.is_negative:
            raise ValueError(f"the noise floor must not be negative, got {floor}")
        curvature = sp.hessian(loss, list(state)) + floor * sp.eye(len(state))
        return cls(
            covariance=scale * curvature,
            description=f"SGD: (learning rate {learning_rate} / batch {batch_size}) x "
            f"(Hessian + {floor} I)",
        )

    @property
    def expressions(self) -> sp.Matrix:
        """$g$ or $\\Sigma$, whichever was given."""
        return self.diffusion if self.diffusion is not None else self.covariance

    def with_expressions(self, matrix: sp.Matrix) -> Noise:
        """The same kind of noise with other expressions (with symbols made real)."""
        if self.diffusion is not None:
            return dataclasses.replace(self, diffusion=matrix)
        return dataclasses.replace(self, covariance=matrix)

    @property
    def brownian_dimension(self) -> int:
        """$m$, the number of independent Brownian motions."""
        return self.expressions.shape[1]


def _matrix(rows: Sequence[Sequence[object]] | sp.MatrixBase) -> sp.Matrix:
    """A matrix of checked entries. Each entry is checked before `sp.Matrix` sees it,
    because `sp.Matrix` would parse (and so run) a string entry."""
    if isinstance(rows, sp.MatrixBase):
        return sp.Matrix(rows)
    return sp.Matrix([[as_expression(v, "a noise entry") for v in row] for row in rows])
