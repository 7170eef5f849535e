"""The magnetic pendulum: a reference system of three basins with fractal
boundaries."""

from __future__ import annotations

import sympy as sp

from .._model import Model


def magnetic_pendulum(
    strength: float = 1.0, height: float = 0.3, friction: float = 0.2, frequency: float = 0.5
) -> Model:
    r"""A pendulum's bob over three magnets, in the plane (the model of
    DynamicalSystems.jl and Attractors.jl; A. E. Motter, M. Gruiz, G. Károlyi and T.
    Tél, "Doubly transient chaos", Phys. Rev. Lett. 111, 194101, 2013):

    $$
    \ddot{\mathbf r} = -\omega^2 \mathbf r - \alpha \dot{\mathbf r}
    - \sum_{i=1}^{3} \gamma \frac{\mathbf r - \mathbf m_i}{D_i^3}, \qquad
    D_i = \sqrt{|\mathbf r - \mathbf m_i|^2 + d^2},
    $$

    with the magnets $\mathbf m_i = (\cos\theta_i, \sin\theta_i)$, $\theta_i = 2\pi
    i/3$, at height $d$ below the bob's plane. State $(x, y, v_x, v_y)$.

    A reference system, not a training model. Each magnet holds a stable fixed point,
    and rotation by $2\pi/3$ maps the model onto itself, so a start distribution
    invariant under that rotation gives each magnet's basin exactly $1/3$.

    **Arguments:**

    - `strength`: $\gamma$; `height`: $d$; `friction`: $\alpha$; `frequency`: $\omega$.

    **Returns:**

    A [`basinlab.Model`][] with state $(x, y, v_x, v_y)$ and those four parameters.
    """
    x, y, vx, vy = sp.symbols("x y v_x v_y", real=True)
    gamma, d, alpha, omega = sp.symbols("strength height friction frequency", positive=True)
    pull_x = pull_y = sp.Integer(0)
    for i in range(3):
        mx, my = sp.cos(2 * sp.pi * i / 3), sp.sin(2 * sp.pi * i / 3)
        distance = ((x - mx) ** 2 + (y - my) ** 2 + d**2) ** sp.Rational(3, 2)
        pull_x += gamma * (x - mx) / distance
        pull_y += gamma * (y - my) / distance
    return Model(
        "magnetic_pendulum",
        [x, y, vx, vy],
        [vx, vy, -(omega**2) * x - alpha * vx - pull_x, -(omega**2) * y - alpha * vy - pull_y],
        params={gamma: strength, d: height, alpha: friction, omega: frequency},
        description="Reference system (not a training model): a pendulum over three magnets, "
        "three basins of 1/3 each by symmetry.",
        search_box=[(-2.0, 2.0), (-2.0, 2.0), (-3.0, 3.0), (-3.0, 3.0)],
    )
