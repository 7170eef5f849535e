r"""Deep linear networks: exact learning dynamics (Saxe, McClelland & Ganguli 2014).

A. M. Saxe, J. L. McClelland and S. Ganguli, "Exact solutions to the nonlinear
dynamics of learning in deep linear neural networks", ICLR 2014, arXiv:1312.6120.

The network $y = W^{32} W^{21} x$ is trained by full-batch gradient descent with
learning rate $\lambda$ on whitened inputs; $\tau = 1/\lambda$. In the SVD basis of the
input–output correlation $\Sigma^{31} = \sum_\alpha s_\alpha u_\alpha v_\alpha^T$ each
mode $\alpha$ has vectors $a^\alpha, b^\alpha$ in the hidden layer and (Eq 5)

$$\tau \dot a^\alpha = (s_\alpha - a^\alpha\cdot b^\alpha)\,b^\alpha
    - \sum_{\gamma\ne\alpha}(a^\alpha\cdot b^\gamma)\,b^\gamma, \qquad
  \tau \dot b^\alpha = (s_\alpha - a^\alpha\cdot b^\alpha)\,a^\alpha
    - \sum_{\gamma\ne\alpha}(a^\gamma\cdot b^\alpha)\,a^\gamma ,$$

the gradient flow of the energy (Eq 6)
$E = \frac{1}{2\tau}\sum_\alpha (s_\alpha - a^\alpha\cdot b^\alpha)^2
   + \frac{1}{2\tau}\sum_{\alpha\ne\beta}(a^\alpha\cdot b^\beta)^2$.

The closed forms here accept numbers or SymPy expressions: with numbers they return a
float, with any symbol a SymPy expression.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import sympy as sp

from .._model import Model
from .._values import symbolic_arguments, symbolic_value


def _positive(value: object, what: str) -> None:
    value = symbolic_value(value, what)
    if value.is_number and not value > 0:
        raise ValueError(f"{what} must be positive, got {value}")


def _result(expression: sp.Expr) -> sp.Expr | float:
    return float(expression) if not expression.free_symbols else expression


def deep_linear_mode(s: float = 3.0, tau: float = 1.0) -> Model:
    r"""One scalar mode of a two-layer linear network (Saxe et al. 2014, Eq 8).

    $$\tau \dot a = b\,(s - ab), \qquad \tau \dot b = a\,(s - ab),$$

    the gradient flow of $E = (s - ab)^2 / 2\tau$. The mode strength is $u = ab$; the
    quantity $a^2 - b^2$ is conserved. The minima form the hyperbola $ab = s$, and the
    origin is a saddle, so the fixed points are not isolated.

    The observables are `u` ($ab$) and `conserved` ($a^2 - b^2$); the predicate
    `"learned"` is $ab > s/2$.

    **Arguments:**

    - `s`: default of the singular value $s$.
    - `tau`: default of the time constant $\tau = 1/\lambda$.

    **Returns:**

    A gradient-flow [`basinlab.Model`][] with state $(a, b)$ and parameters `s`, `tau`.

    **Raises:**

    - `ValueError`: `s` or `tau` is not positive.
    """
    _positive(s, "s")
    _positive(tau, "tau")
    a, b = sp.symbols("a b", real=True)
    s_, tau_ = sp.symbols("s tau", positive=True)
    return Model.gradient_flow(
        (s_ - a * b) ** 2 / (2 * tau_),
        state=[a, b],
        params={s_: s, tau_: tau},
        predicates={"learned": a * b - s_ / 2},
        observables={"u": a * b, "conserved": a**2 - b**2},
        name="deep_linear_mode",
        description="One mode (a, b) of a two-layer linear network; u = ab learns s "
        "along a sigmoid (Saxe et al. 2014).",
    )


def deep_linear_modes(
    singular_values: Sequence[float] = (3.0, 2.0, 1.0), hidden: int = 3, tau: float = 1.0
) -> Model:
    r"""Coupled modes of a two-layer linear network (Saxe et al. 2014, Eqs 5–6).

    Mode $\alpha = 1..k$ has hidden-layer vectors $a^\alpha, b^\alpha \in
    \mathbb{R}^{N_2}$; the flow is Eq 5 in the module docstring, the gradient flow of
    the energy $E$ of Eq 6. The state symbols are `a_α_i` and `b_α_i` (1-based). The
    global minima are the best rank-$N_2$ approximations of $\Sigma^{31}$; every other
    fixed point is a saddle (Eq 7).

    The observables are `u_α` ($a^\alpha\cdot b^\alpha$); the predicates `learned_α`
    are $a^\alpha\cdot b^\alpha > s_\alpha / 2$.

    **Arguments:**

    - `singular_values`: $s_1 \ge s_2 \ge \dots > 0$, the defaults of `s_1`, `s_2`, ...
    - `hidden`: the hidden-layer width $N_2$.
    - `tau`: default of $\tau$.

    **Returns:**

    A gradient-flow [`basinlab.Model`][] of dimension $2kN_2$.

    **Raises:**

    - `ValueError`: no singular values, a value that is not positive, values not in
      decreasing order, `hidden < 1`, or `tau` not positive.
    """
    values = [float(v) for v in singular_values]
    if not values:
        raise ValueError("deep_linear_modes needs at least one singular value")
    if any(v <= 0 for v in values):
        raise ValueError(f"singular values must be positive, got {values}")
    if any(later > earlier for earlier, later in itertools.pairwise(values)):
        raise ValueError(f"singular values must be sorted in decreasing order, got {values}")
    if not isinstance(hidden, int) or hidden < 1:
        raise ValueError(f"hidden must be a positive integer, got {hidden!r}")
    _positive(tau, "tau")
    k = len(values)
    a = [
        [sp.Symbol(f"a_{alpha}_{i}", real=True) for i in range(1, hidden + 1)]
        for alpha in range(1, k + 1)
    ]
    b = [
        [sp.Symbol(f"b_{alpha}_{i}", real=True) for i in range(1, hidden + 1)]
        for alpha in range(1, k + 1)
    ]
    s = [sp.Symbol(f"s_{alpha}", positive=True) for alpha in range(1, k + 1)]
    tau_ = sp.Symbol("tau", positive=True)

    def dot(x, y):
        return sum(xi * yi for xi, yi in zip(x, y))

    energy = sum((s[al] - dot(a[al], b[al])) ** 2 for al in range(k))
    energy += sum(dot(a[al], b[be]) ** 2 for al in range(k) for be in range(k) if al != be)
    return Model.gradient_flow(
        energy / (2 * tau_),
        state=[x for al in range(k) for x in (*a[al], *b[al])],
        params={**dict(zip(s, values)), tau_: tau},
        predicates={f"learned_{al + 1}": dot(a[al], b[al]) - s[al] / 2 for al in range(k)},
        observables={f"u_{al + 1}": dot(a[al], b[al]) for al in range(k)},
        name="deep_linear_modes",
        description="k coupled modes of a two-layer linear network with N2 hidden units "
        "(Saxe et al. 2014, Eq 5).",
    )


def deep_linear_depth(s: float = 3.0, depth: int = 4, tau: float = 1.0) -> Model:
    r"""One mode of a depth-$N_l$ linear network: a chain of scalar weights.

    With $N_l$ layers there are $N_l - 1$ weights $a_1, \dots, a_{N_l - 1}$, the mode
    strength is $u = \prod_i a_i$, and training is the gradient flow of
    $E = (s - u)^2 / 2\tau$:

    $$\tau \dot a_i = (s - u) \prod_{j \ne i} a_j .$$

    Each $a_i^2 - a_j^2$ is conserved. From balanced weights $a_i = u^{1/(N_l-1)}$ the
    strength follows the reduced dynamics of Eq 15,
    $\tau \dot u = (N_l - 1)\,u^{2 - 2/(N_l - 1)}(s - u)$ (see
    [`reduced_depth_rate`][]).

    The observables are `u` and `conserved_i_j` ($a_i^2 - a_{j}^2$ for consecutive
    $i, j$); the predicate `"learned"` is $u > s/2$.

    **Arguments:**

    - `s`: default of $s$.
    - `depth`: the number of layers $N_l \ge 2$.
    - `tau`: default of $\tau$.

    **Returns:**

    A gradient-flow [`basinlab.Model`][] with state $(a_1, \dots, a_{N_l-1})$.

    **Raises:**

    - `ValueError`: `depth < 2`, or `s` or `tau` not positive.
    """
    if not isinstance(depth, int) or depth < 2:
        raise ValueError(f"depth must be an integer of at least 2, got {depth!r}")
    _positive(s, "s")
    _positive(tau, "tau")
    weights = [sp.Symbol(f"a_{i}", real=True) for i in range(1, depth)]
    s_, tau_ = sp.symbols("s tau", positive=True)
    u = sp.Mul(*weights)
    conserved = {
        f"conserved_{i}_{i + 1}": weights[i - 1] ** 2 - weights[i] ** 2 for i in range(1, depth - 1)
    }
    return Model.gradient_flow(
        (s_ - u) ** 2 / (2 * tau_),
        state=weights,
        params={s_: s, tau_: tau},
        predicates={"learned": u - s_ / 2},
        observables={"u": u, **conserved},
        name="deep_linear_depth",
        description="One mode of a depth-N_l linear network as a chain of scalar weights "
        "(Saxe et al. 2014, Eq 15).",
    )


def mode_strength(t: object, s: object, u0: object, tau: object = 1) -> sp.Expr | float:
    r"""The balanced mode's strength $u(t)$ (Saxe et al. 2014, Eq 12).

    $$u(t) = \frac{s\,e^{2st/\tau}}{e^{2st/\tau} - 1 + s/u_0},$$

    the solution of $\tau \dot u = 2u(s - u)$ from $u(0) = u_0$.

    **Raises:**

    - `ValueError`: a numeric `s`, `u0` or `tau` is not positive.
    """
    t, s, u0, tau = symbolic_arguments(t=t, s=s, u0=u0, tau=tau)
    for value, what in ((s, "s"), (u0, "u0"), (tau, "tau")):
        _positive(value, what)
    growth = sp.exp(2 * s * t / tau)
    return _result(s * growth / (growth - 1 + s / u0))


def learning_time(s: object, u0: object, uf: object, tau: object = 1) -> sp.Expr | float:
    r"""The time the balanced mode takes from $u_0$ to $u_f$ (Saxe et al. 2014, Eq 11).

    $$t = \frac{\tau}{2s}\ln\frac{u_f\,(s - u_0)}{u_0\,(s - u_f)} .$$

    For $u_0 = \varepsilon$, $u_f = s - \varepsilon$ this is about
    $(\tau/s)\ln(s/\varepsilon)$.

    **Raises:**

    - `ValueError`: numeric values outside $0 < u_0 < s$, $0 < u_f < s$, or $\tau > 0$.
    """
    s, u0, uf, tau = symbolic_arguments(s=s, u0=u0, uf=uf, tau=tau)
    _check_interval(s, u0, uf, tau)
    return _result(tau / (2 * s) * sp.log(uf * (s - u0) / (u0 * (s - uf))))


def infinite_depth_learning_time(
    s: object, u0: object, uf: object, depth: object, tau: object = 1
) -> sp.Expr | float:
    r"""Learning time in the deep limit (Saxe et al. 2014, Eqs 16–17).

    For $\tau \dot u = N_l u^2 (s - u)$,

    $$t = \frac{\tau}{N_l}\left[\frac{1}{s^2}
          \ln\frac{u_f (u_0 - s)}{u_0 (u_f - s)} + \frac{1}{s u_0} - \frac{1}{s u_f}\right].$$

    **Raises:**

    - `ValueError`: numeric values outside $0 < u_0 < s$, $0 < u_f < s$, $\tau > 0$,
      or a non-positive depth.
    """
    s, u0, uf, depth, tau = symbolic_arguments(s=s, u0=u0, uf=uf, depth=depth, tau=tau)
    _check_interval(s, u0, uf, tau)
    _positive(depth, "depth")
    bracket = sp.log(uf * (u0 - s) / (u0 * (uf - s))) / s**2 + 1 / (s * u0) - 1 / (s * uf)
    return _result(tau / depth * bracket)


def reduced_depth_rate(u: object, s: object, depth: object, tau: object = 1) -> sp.Expr | float:
    r"""$\dot u$ of the balanced depth-$N_l$ mode (Saxe et al. 2014, Eq 15).

    $$\dot u = \frac{N_l - 1}{\tau}\, u^{2 - 2/(N_l - 1)}\,(s - u).$$
    """
    u, s, depth, tau = symbolic_arguments(u=u, s=s, depth=depth, tau=tau)
    return _result((depth - 1) * u ** (2 - 2 / (depth - 1)) * (s - u) / tau)


def depth_learning_time(s: float, u0: float, uf: float, depth: int, tau: float = 1.0) -> float:
    r"""The time the balanced depth-$N_l$ mode takes from $u_0$ to $u_f$ (Eq 15).

    $$t = \tau\int_{u_0}^{u_f}\frac{du}{(N_l - 1)\,u^{2 - 2/(N_l-1)}\,(s - u)},$$

    by adaptive quadrature. For $N_l = 3$ it is Eq 11 ([`learning_time`][]); as
    $N_l \to \infty$ it approaches Eq 17 ([`infinite_depth_learning_time`][]).

    **Arguments:**

    - `s`, `u0`, `uf`, `tau`: as for [`learning_time`][], as numbers.
    - `depth`: the number of layers $N_l \ge 2$, weights in between.

    **Raises:**

    - `ValueError`: values outside $0 < u_0 < s$, $0 < u_f < s$, $\tau > 0$, or
      `depth < 2`.
    """
    exact = symbolic_arguments(s=s, u0=u0, uf=uf, tau=tau)
    _check_interval(*exact)
    s, u0, uf, tau = (float(v) for v in exact)
    if not isinstance(depth, int) or depth < 2:
        raise ValueError(f"depth must be an integer of at least 2, got {depth!r}")
    power = 2 - 2 / (depth - 1)
    import scipy.integrate  # on use: loading SciPy would slow every model build

    integral, _ = scipy.integrate.quad(
        lambda u: 1.0 / ((depth - 1) * u**power * (s - u)), u0, uf, epsabs=0, epsrel=1e-11
    )
    return tau * integral


def _check_interval(s: sp.Basic, u0: sp.Basic, uf: sp.Basic, tau: sp.Basic) -> None:
    _positive(tau, "tau")
    if all(v.is_number for v in (s, u0, uf)) and not (0 < u0 < s and 0 < uf < s):
        raise ValueError(f"need 0 < u0 < s and 0 < uf < s, got s={s}, u0={u0}, uf={uf}")
