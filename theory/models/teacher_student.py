r"""Soft committee machines under online SGD: the teacher–student order-parameter ODEs.

D. Saad and S. A. Solla, "On-line learning in soft committee machines", Phys. Rev. E
52, 4225 (1995); M. Biehl and H. Schwarze, "Learning by on-line gradient descent",
J. Phys. A 28, 643 (1995); S. Goldt, M. S. Advani, A. M. Saxe, F. Krzakala and
L. Zdeborová, "Dynamics of stochastic gradient descent for two-layer neural networks
in the teacher–student setup", NeurIPS 2019.

A student $\phi(x) = \sum_{i=1}^K v_i\, g(w_i\cdot x/\sqrt N)$ learns a teacher
$\phi^*(x) = \sum_{n=1}^M v^*_n\, g(w^*_n\cdot x/\sqrt N)$ from fresh Gaussian inputs
$x \sim \mathcal N(0, I_N)$ with output noise $\sigma$, by SGD with learning rates
$\eta$ (first layer, scaled by $1/\sqrt N$) and $\eta_v$ (second layer, $1/N$), and
weight decay $\kappa$. As $N \to \infty$ the overlaps $Q_{ik} = w_i\cdot w_k/N$,
$R_{in} = w_i\cdot w^*_n/N$ (and $v$) follow deterministic ODEs in $\alpha =
\text{steps}/N$, written with the Gaussian integrals $I_2, I_3, I_4, J_2$ of the local
fields' covariance $C = [[Q, R], [R^T, T]]$; $T_{nm} = w^*_n\cdot w^*_m/N$ is fixed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import sympy as sp

from .._fixed_points import FixedPoint, classify
from .._model import Model

ACTIVATIONS = ("erf", "linear")


class _Overlaps:
    """The covariance of the local fields and the Gaussian integrals over it.

    Indices `0..K-1` are student units and `K..K+M-1` teacher units.
    """

    def __init__(self, q: dict, r: dict, t: sp.Matrix, k: int, activation: str):
        self.q, self.r, self.t, self.k, self.activation = q, r, t, k, activation
        self._known: dict[tuple, sp.Expr] = {}

    def _once(self, key: tuple, build) -> sp.Expr:
        """Each integral is built once and shared, so CSE sees one expression."""
        if key not in self._known:
            self._known[key] = build()
        return self._known[key]

    def c(self, a: int, b: int) -> sp.Expr:
        k = self.k
        if a < k and b < k:
            return self.q[min(a, b), max(a, b)]
        if a < k:
            return self.r[a, b - k]
        if b < k:
            return self.r[b, a - k]
        return self.t[a - k, b - k]

    def i2(self, a: int, b: int) -> sp.Expr:
        return self._once(("i2", a, b), lambda: self._i2(a, b))

    def _i2(self, a: int, b: int) -> sp.Expr:
        c = self.c
        if self.activation == "linear":
            return c(a, b)
        return 2 / sp.pi * sp.asin(c(a, b) / sp.sqrt((1 + c(a, a)) * (1 + c(b, b))))

    def i3(self, a: int, b: int, d: int) -> sp.Expr:
        return self._once(("i3", a, b, d), lambda: self._i3(a, b, d))

    def _i3(self, a: int, b: int, d: int) -> sp.Expr:
        c = self.c
        if self.activation == "linear":
            return c(b, d)
        lambda3 = (1 + c(a, a)) * (1 + c(d, d)) - c(a, d) ** 2
        numerator = c(b, d) * (1 + c(a, a)) - c(a, b) * c(a, d)
        return 2 / sp.pi / sp.sqrt(lambda3) * numerator / (1 + c(a, a))

    def i4(self, a: int, b: int, e: int, d: int) -> sp.Expr:
        return self._once(("i4", a, b, e, d), lambda: self._i4(a, b, e, d))

    def _i4(self, a: int, b: int, e: int, d: int) -> sp.Expr:
        c = self.c
        if self.activation == "linear":
            return c(e, d)
        lambda4 = (1 + c(a, a)) * (1 + c(b, b)) - c(a, b) ** 2
        lambda0 = (
            lambda4 * c(e, d)
            - c(b, e) * c(b, d) * (1 + c(a, a))
            - c(a, e) * c(a, d) * (1 + c(b, b))
            + c(a, b) * c(a, e) * c(b, d)
            + c(a, b) * c(a, d) * c(b, e)
        )
        lambda1 = (
            lambda4 * (1 + c(e, e))
            - c(b, e) ** 2 * (1 + c(a, a))
            - c(a, e) ** 2 * (1 + c(b, b))
            + 2 * c(a, b) * c(a, e) * c(b, e)
        )
        lambda2 = (
            lambda4 * (1 + c(d, d))
            - c(b, d) ** 2 * (1 + c(a, a))
            - c(a, d) ** 2 * (1 + c(b, b))
            + 2 * c(a, b) * c(a, d) * c(b, d)
        )
        return 4 / sp.pi**2 / sp.sqrt(lambda4) * sp.asin(lambda0 / sp.sqrt(lambda1 * lambda2))

    def j2(self, a: int, b: int) -> sp.Expr:
        return self._once(("j2", a, b), lambda: self._j2(a, b))

    def _j2(self, a: int, b: int) -> sp.Expr:
        c = self.c
        if self.activation == "linear":
            return sp.Integer(1)
        return 2 / sp.pi / sp.sqrt(1 + c(a, a) + c(b, b) - c(a, b) ** 2 + c(a, a) * c(b, b))


def _teacher_overlaps(teacher: object | None, m: int) -> sp.Matrix:
    if teacher is None:
        return sp.eye(m)
    array = np.asarray(teacher, dtype=float)
    if array.shape != (m, m):
        raise ValueError(f"teacher overlaps T must have shape ({m}, {m}), got {array.shape}")
    if not np.all(np.isfinite(array)) or not np.allclose(array, array.T, rtol=0, atol=1e-12):
        raise ValueError("teacher overlaps T must be a finite symmetric matrix")
    if np.min(np.linalg.eigvalsh(array)) < -1e-12:
        raise ValueError("teacher overlaps T must be positive semi-definite")
    return sp.Matrix(m, m, lambda n, l: sp.Rational(repr(float(array[n, l]))))


def _second_layer(values: object | None, count: int, what: str) -> list[sp.Expr]:
    if values is None:
        return [sp.Integer(1)] * count
    array = np.asarray(values, dtype=float)
    if array.shape != (count,) or not np.all(np.isfinite(array)):
        raise ValueError(f"{what} must be {count} finite numbers, got {values!r}")
    return [sp.Rational(repr(float(v))) for v in array]


def _flows(
    k_units: int,
    m_units: int,
    activation: str,
    train_second_layer: bool,
    teacher: object | None,
    teacher_second_layer: object | None,
    student_second_layer: object | None,
):
    if not isinstance(k_units, int) or k_units < 1:
        raise ValueError(f"the student needs K >= 1 hidden units, got {k_units!r}")
    if not isinstance(m_units, int) or m_units < 1:
        raise ValueError(f"the teacher needs M >= 1 hidden units, got {m_units!r}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
    t = _teacher_overlaps(teacher, m_units)
    v_star = _second_layer(teacher_second_layer, m_units, "teacher_second_layer")
    q = {
        (i, k): sp.Symbol(f"Q_{i + 1}_{k + 1}", real=True)
        for i in range(k_units)
        for k in range(i, k_units)
    }
    r = {
        (i, n): sp.Symbol(f"R_{i + 1}_{n + 1}", real=True)
        for i in range(k_units)
        for n in range(m_units)
    }
    if train_second_layer:
        v = [sp.Symbol(f"v_{i + 1}", real=True) for i in range(k_units)]
        if student_second_layer is not None:
            raise ValueError("student_second_layer fixes v, but v is trained here")
    else:
        v = _second_layer(student_second_layer, k_units, "student_second_layer")
    eta, eta_v, sigma, kappa = sp.symbols("eta eta_v sigma kappa", nonnegative=True)
    o = _Overlaps(q, r, t, k_units, activation)
    students, teachers = range(k_units), range(k_units, k_units + m_units)

    def pull(i: int, b: int) -> sp.Expr:
        """$\\sum_m v^*_m I_3(i, b, m) - \\sum_j v_j I_3(i, b, j)$."""
        return sum(v_star[n - k_units] * o.i3(i, b, n) for n in teachers) - sum(
            v[j] * o.i3(i, b, j) for j in students
        )

    def noise(i: int, k: int) -> sp.Expr:
        total = sum(
            v_star[n - k_units] * v_star[m - k_units] * o.i4(i, k, n, m)
            for n in teachers
            for m in teachers
        )
        total -= 2 * sum(
            v[j] * v_star[n - k_units] * o.i4(i, k, j, n) for j in students for n in teachers
        )
        total += sum(v[j] * v[l] * o.i4(i, k, j, l) for j in students for l in students)
        return total + sigma**2 * o.j2(i, k)

    first, second, decay = {}, {}, {}
    for (i, n), symbol in r.items():
        first[symbol] = v[i] * pull(i, k_units + n)
        second[symbol] = sp.Integer(0)
        decay[symbol] = symbol
    for (i, k), symbol in q.items():
        first[symbol] = v[i] * pull(i, k) + v[k] * pull(k, i)
        second[symbol] = v[i] * v[k] * noise(i, k)
        decay[symbol] = 2 * symbol
    eps = (
        sum(v[i] * v[k] * o.i2(i, k) for i in students for k in students) / 2
        - sum(v[i] * v_star[n - k_units] * o.i2(i, n) for i in students for n in teachers)
        + sum(
            v_star[n - k_units] * v_star[m - k_units] * o.i2(n, m)
            for n in teachers
            for m in teachers
        )
        / 2
        + sigma**2 / 2
    )
    state = [*q.values(), *r.values()]
    field = [eta * first[s] + eta**2 * second[s] - kappa * decay[s] for s in state]
    if train_second_layer:
        for i in students:
            drift = sum(v_star[n - k_units] * o.i2(i, n) for n in teachers)
            drift -= sum(v[k] * o.i2(i, k) for k in students)
            state.append(v[i])
            field.append(eta_v * drift - kappa * v[i])
            first[v[i]] = sp.Integer(0)
    return state, field, [first[s] for s in state], eps, (eta, eta_v, sigma, kappa)


def teacher_student(
    K: int = 2,
    M: int = 2,
    activation: str = "erf",
    train_second_layer: bool = False,
    *,
    eta: float = 0.5,
    eta_v: float = 0.5,
    sigma: float = 0.0,
    kappa: float = 0.0,
    teacher: object | None = None,
    teacher_second_layer: object | None = None,
    student_second_layer: object | None = None,
) -> Model:
    r"""The order-parameter ODEs of online SGD in a soft committee machine.

    With $C$ the covariance of all local fields and $i, j, k, l$ student and $n, m$
    teacher indices (Saad & Solla 1995; Goldt et al. 2019):

    $$\frac{dR_{in}}{d\alpha} = \eta v_i\Bigl[\sum_m v^*_m I_3(i,n,m)
        - \sum_j v_j I_3(i,n,j)\Bigr] - \kappa R_{in},$$

    $$\frac{dQ_{ik}}{d\alpha} = \eta v_i[\dots]_{ik} + \eta v_k[\dots]_{ki}
      + \eta^2 v_i v_k\Bigl[\sum_{nm} v^*_n v^*_m I_4(i,k,n,m)
      - 2\sum_{jn} v_j v^*_n I_4(i,k,j,n) + \sum_{jl} v_j v_l I_4(i,k,j,l)
      + \sigma^2 J_2(i,k)\Bigr] - 2\kappa Q_{ik},$$

    $$\frac{dv_i}{d\alpha} = \eta_v\Bigl[\sum_n v^*_n I_2(i,n)
        - \sum_k v_k I_2(i,k)\Bigr] - \kappa v_i
      \quad\text{(when the second layer is trained)},$$

    with the integrals for $g(x) = \operatorname{erf}(x/\sqrt2)$ in closed form (and
    $I_2 = C_{ab}$, $I_3 = C_{bc}$, $I_4 = C_{cd}$, $J_2 = 1$ for linear $g$). The
    generalisation error, observable `eps_g`, is
    $\epsilon_g = \tfrac12\sum_{ik} v_i v_k I_2(i,k) - \sum_{in} v_i v^*_n I_2(i,n)
    + \tfrac12\sum_{nm} v^*_n v^*_m I_2(n,m) + \sigma^2/2$.

    For $K = M = 2$ the default map slice is [`specialisation_slice`][]; its runs need
    $\alpha$ in the thousands (`--t1 3000` on the command line).

    State symbols are `Q_i_k` ($i \le k$), `R_i_n` and, with a trained second layer,
    `v_i` (all 1-based). The predicate `"specialised"` holds where $\epsilon_g$ is
    below half its value on the symmetric plateau (for $K = M$ and $T = I$; with
    other teachers it is below a tenth of the error of a student with $Q = R = 0$).

    **Arguments:**

    - `K`, `M`: student and teacher widths, at least 1.
    - `activation`: `"erf"` or `"linear"`.
    - `train_second_layer`: whether $v$ is learned (else it is fixed).
    - `eta`, `eta_v`, `sigma`, `kappa`: defaults of the parameters of those names.
    - `teacher`: $T$, a symmetric positive semi-definite $M\times M$ matrix; $I$ by
      default.
    - `teacher_second_layer`: $v^*$; ones by default (a soft committee machine).
    - `student_second_layer`: the fixed student $v$ when it is not trained; ones by
      default.

    **Returns:**

    A [`basinlab.Model`][] in the time $\alpha$ = steps$/N$.

    **Raises:**

    - `ValueError`: $K < 1$ or $M < 1$, an unknown activation, a non-symmetric or
      indefinite $T$, second-layer vectors of the wrong length, or a negative
      learning rate, noise or weight decay.
    """
    if not isinstance(train_second_layer, bool):
        raise TypeError(f"train_second_layer must be True or False, got {train_second_layer!r}")
    for name, value in (("eta", eta), ("eta_v", eta_v), ("sigma", sigma), ("kappa", kappa)):
        if not value >= 0:
            raise ValueError(f"{name} must be non-negative, got {value}")
    state, field, _, eps, symbols = _flows(
        K, M, activation, train_second_layer, teacher, teacher_second_layer, student_second_layer
    )
    plateau_error = plateau(K)[1] if K == M and teacher is None else None
    if plateau_error is not None:
        threshold = sp.Rational(1, 2) * sp.nsimplify(plateau_error)
    else:
        zero = {s: 0 for s in state if s.name.startswith(("Q", "R"))}
        threshold = eps.subs(zero).subs(symbols[2], 0) / 10
    box = [
        ((0.0, 1.5) if s.name.split("_")[1] == s.name.split("_")[2] else (-1.0, 1.0))
        if s.name.startswith("Q")
        else (-1.2, 1.2)
        if s.name.startswith("R")
        else (-2.0, 2.0)
        for s in state
    ]
    return Model(
        f"teacher_student_K{K}_M{M}",
        state,
        field,
        params=dict(zip(symbols, (eta, eta_v, sigma, kappa))),
        predicates={"specialised": threshold + symbols[2] ** 2 / 2 - eps},
        observables={"eps_g": eps},
        description=f"Online SGD of a K={K} soft committee machine learning an M={M} "
        f"teacher ({activation}; Saad & Solla 1995, Goldt et al. 2019).",
        search_box=box,
        default_slice=specialisation_slice() if (K, M) == (2, 2) and teacher is None else None,
    )


def first_order_flow(
    K: int, M: int, activation: str = "erf", train_second_layer: bool = False, **teacher
) -> tuple[list[sp.Symbol], sp.Matrix]:
    r"""The $O(\eta)$ part of the first-layer flow: $\partial f/\partial\eta$ at
    $\eta = \kappa = 0$.

    For small $\eta$ the $\eta^2$ terms (the SGD noise) are negligible, and the
    symmetric plateau is a fixed point of this part.

    **Returns:**

    The state symbols and the matrix of $O(\eta)$ coefficients (zero for `v`).
    """
    state, _, first, _, _ = _flows(
        K,
        M,
        activation,
        train_second_layer,
        teacher.get("teacher"),
        teacher.get("teacher_second_layer"),
        teacher.get("student_second_layer"),
    )
    return state, sp.Matrix(first)


def plateau(K: int) -> tuple[dict[str, sp.Expr], sp.Expr]:
    r"""The symmetric, unspecialised plateau for $K = M$, $T = I$, $v = v^* = 1$.

    Every student unit overlaps equally with every teacher unit (Saad & Solla 1995):
    $Q_{ii} = Q_{ik} = 1/(2K - 1)$ and $R_{in} = 1/\sqrt{K(2K - 1)}$, where

    $$\epsilon_g = \frac{K}{\pi}\Bigl[\frac{\pi}{6} - K\arcsin\frac{1}{2K}\Bigr].$$

    **Returns:**

    The state as a dict from symbol name to exact value, and $\epsilon_g$ there.

    **Raises:**

    - `ValueError`: $K < 1$.
    """
    if not isinstance(K, int) or K < 1:
        raise ValueError(f"the plateau needs K >= 1, got {K!r}")
    q = sp.Rational(1, 2 * K - 1)
    r = 1 / sp.sqrt(K * (2 * K - 1))
    state = {f"Q_{i}_{k}": q for i in range(1, K + 1) for k in range(i, K + 1)}
    state |= {f"R_{i}_{n}": r for i in range(1, K + 1) for n in range(1, K + 1)}
    error = K / sp.pi * (sp.pi / 6 - K * sp.asin(sp.Rational(1, 2 * K)))
    return state, error


def specialised(K: int, train_second_layer: bool = False) -> dict[str, sp.Expr]:
    """The specialised solution for $K = M$, $T = I$: $Q = R = I$ (and $v = v^* = 1$),
    where $\\epsilon_g = 0$ without output noise.

    **Raises:**

    - `ValueError`: $K < 1$.
    """
    if not isinstance(K, int) or K < 1:
        raise ValueError(f"the specialised solution needs K >= 1, got {K!r}")
    state = {
        f"Q_{i}_{k}": sp.Integer(int(i == k)) for i in range(1, K + 1) for k in range(i, K + 1)
    }
    state |= {
        f"R_{i}_{n}": sp.Integer(int(i == n)) for i in range(1, K + 1) for n in range(1, K + 1)
    }
    if train_second_layer:
        state |= {f"v_{i}": sp.Integer(1) for i in range(1, K + 1)}
    return state


def at(
    expressions: sp.Matrix | sp.Expr, model_state: Sequence[sp.Symbol], point: dict[str, sp.Expr]
):
    """Substitute a point given by state names (as from [`plateau`][]) into expressions."""
    by_name = {str(s): s for s in model_state}
    return expressions.subs({by_name[name]: value for name, value in point.items()})


def small_learning_rate_stability(K: int, point: str = "plateau") -> FixedPoint:
    r"""Linear stability of the plateau or the specialised solution for small $\eta$.

    The eigenvalues are those of the Jacobian of the $O(\eta)$ flow
    ([`first_order_flow`][]) at the point, for $K = M$, $T = I$, $v = v^* = 1$ (time in
    units of $1/\eta$). On the plateau one eigenvalue is positive, which is why SGD
    leaves it, after a time of order $\ln(1/\delta)/\eta$ from a symmetry breaking
    $\delta$; the plateau also has zero eigenvalues, so it is classed
    non-hyperbolic. The specialised solution is stable.

    **Arguments:**

    - `K`: the width of student and teacher.
    - `point`: `"plateau"` or `"specialised"`.

    **Returns:**

    A [`basinlab.FixedPoint`][] of the $O(\eta)$ flow.

    **Raises:**

    - `ValueError`: $K < 1$ or an unknown point.
    """
    points = {"plateau": lambda: plateau(K)[0], "specialised": lambda: specialised(K)}
    if point not in points:
        raise ValueError(f"point must be one of {sorted(points)}, got {point!r}")
    state, first = first_order_flow(K, K)
    coordinates = points[point]()
    flow = Model(f"teacher_student_K{K}_first_order", state, first)
    return classify(flow, [coordinates[str(s)] for s in state], exact=True)


def specialisation_slice(
    norm: float = 1.0, second_student: tuple[float, float] = (0.2, 0.1), extent: float = 0.6
) -> dict[str, object]:
    r"""A 2-D slice of initial overlaps for $K = M = 2$: which teacher does student 1
    specialise to?

    The slice varies student 1's overlaps with the two teachers, $x = R_{11}$ and
    $y = R_{12}$, over $[0, \text{extent}]^2$, and holds fixed the student norms
    $Q_{11} = Q_{22} = \text{norm}$, their mutual overlap $Q_{12} = 0$, and student
    2's teacher overlaps $(R_{21}, R_{22}) = $ `second_student`. Its basins are those
    of the two specialised solutions $R = I$ and $R = \begin{pmatrix}0&1\\1&0
    \end{pmatrix}$; the boundary passes through the symmetric initialisations, whose
    flow is held near the plateau.

    **Returns:**

    Keyword arguments for [`basinlab.basin_map`][]: `x`, `y`, `bounds` and `fixed`.

    **Raises:**

    - `ValueError`: a value that cannot be a covariance of unit-norm teachers.
    """
    if not 0 < norm:
        raise ValueError(f"norm must be positive, got {norm}")
    fixed = {"Q_1_1": norm, "Q_2_2": norm, "Q_1_2": 0.0}
    fixed |= {"R_2_1": second_student[0], "R_2_2": second_student[1]}

    def covariance(r11: float, r12: float) -> np.ndarray:
        return np.array(
            [
                [norm, 0, r11, r12],
                [0, norm, *second_student],
                [r11, second_student[0], 1, 0],
                [r12, second_student[1], 0, 1],
            ]
        )

    # Valid overlaps form a convex set, so the square is valid when its corners are.
    corners = [(0, 0), (extent, 0), (0, extent), (extent, extent)]
    if any(np.min(np.linalg.eigvalsh(covariance(*c))) < 0 for c in corners):
        raise ValueError("the slice leaves the set of valid overlaps; lower extent or raise norm")
    return {"x": "R_1_1", "y": "R_1_2", "bounds": ((0.0, extent), (0.0, extent)), "fixed": fixed}
