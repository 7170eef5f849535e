"""Exact local bifurcations of fixed points along one parameter."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import sympy as sp

from ._legacy_arguments import legacy_arguments
from ._model import MAP, Model

FOLD = "fold"
TRANSCRITICAL = "transcritical"
PITCHFORK = "pitchfork"
DEGENERATE = "degenerate zero eigenvalue"
HOPF = "Hopf"
PERIOD_DOUBLING = "period doubling"


@dataclasses.dataclass(frozen=True)
class Bifurcation:
    r"""A local bifurcation of a fixed point.

    **Fields:**

    - `kind`: `"fold"` (saddle-node), `"transcritical"`, `"pitchfork"`,
      `"degenerate zero eigenvalue"` (a zero eigenvalue whose normal form is not one
      of these), `"Hopf"` (a pair $\pm i\omega$; flows), or `"period doubling"`
      (an eigenvalue $-1$; maps).
    - `param`: the parameter's name.
    - `value`: its exact value there.
    - `location`: the exact fixed point there.
    - `numeric`: `value` as a float.
    """

    kind: str
    param: str
    value: sp.Expr
    location: tuple[sp.Expr, ...]
    numeric: float

    def __post_init__(self):
        assert self.kind in (FOLD, TRANSCRITICAL, PITCHFORK, DEGENERATE, HOPF, PERIOD_DOUBLING)


def _hurwitz_condition(jacobian: sp.Matrix) -> sp.Expr:
    r"""The Hopf condition of Routh–Hurwitz: the $(n-1)$-th Hurwitz determinant of
    $\det(\lambda I - J)$ vanishes (a pair of eigenvalues on the imaginary axis;
    for $n = 2$ this is $\operatorname{tr} J = 0$)."""
    n = jacobian.shape[0]
    lam = sp.Dummy("lambda")
    coefficients = sp.Poly((lam * sp.eye(n) - jacobian).det(), lam).all_coeffs()  # a0 = 1
    a = lambda k: coefficients[k] if 0 <= k <= n else 0  # noqa: E731
    hurwitz = sp.Matrix(n - 1, n - 1, lambda i, j: a(2 * j - i + 1))
    return sp.expand(hurwitz.det())


def _zero_eigenvalue_kind(field, jacobian, state, parameter, at) -> str:
    """Fold, transcritical or pitchfork, from the null vectors of $J$ and the first
    derivatives of the normal form (Y. A. Kuznetsov, *Elements of Applied Bifurcation
    Theory*, §3.2 and §7.1)."""
    j_at = sp.simplify(jacobian.subs(at))
    right, left = j_at.nullspace(), j_at.T.nullspace()
    if len(right) != 1:
        return DEGENERATE
    v, w = right[0], left[0]
    h = sp.Dummy("h")
    along = {s: at[s] + h * v[i] for i, s in enumerate(state)}
    projected = sp.expand((w.T * field.subs({**at, **along}))[0])
    quadratic = sp.simplify(sp.diff(projected, h, 2).subs(h, 0))
    drift = sp.simplify((w.T * field.diff(parameter).subs(at))[0])
    if drift != 0:
        return FOLD if quadratic != 0 else DEGENERATE
    if quadratic != 0:
        return TRANSCRITICAL
    cubic = sp.simplify(sp.diff(projected, h, 3).subs(h, 0))
    return PITCHFORK if cubic != 0 else DEGENERATE


@legacy_arguments(positional=("params",))
def bifurcations(
    model: Model,
    param: str,
    interval: Sequence[float] | None = None,
    *,
    params: Mapping[str, float] | None = None,
) -> list[Bifurcation]:
    r"""The local bifurcations of the fixed points of a polynomial model along one
    parameter, exactly.

    With the other parameters at their values, SymPy solves (by Gröbner bases, through
    `sympy.solve`) for the real points $(x, p)$ with

    - $f(x; p) = 0$ and $\det J(x; p) = 0$: a zero eigenvalue. Its type follows from
      the null vectors $v$, $w$ of $J$ and $f$'s derivatives there: a **fold**
      (saddle-node) when $w \cdot \partial_p f \neq 0$ and
      $w \cdot D^2 f(v, v) \neq 0$; **transcritical** when $w \cdot \partial_p f = 0$
      and $w \cdot D^2 f(v, v) \neq 0$; **pitchfork** when that vanishes too and
      the cubic term does not.
    - for a flow, $f = 0$ and the $(n-1)$-th Hurwitz determinant of the
      characteristic polynomial $= 0$, with $\det(-J) > 0$ (in the plane,
      $\operatorname{tr} J = 0$ and $\det J > 0$): a **Hopf** point.
    - for a map $x \mapsto F(x)$, $F(x) = x$ with $\det(DF - I) = 0$ (the same
      zero-eigenvalue conditions on $F - x$) and $\det(DF + I) = 0$: **period
      doubling**.

    **Arguments:**

    - `model`: a model whose field is polynomial (or rational) in the state and
      `param`.
    - `param`: the parameter's name.
    - `interval`: `(low, high)`: keep points with the parameter inside it.
    - `params`: values of the other parameters (defaults otherwise).

    **Returns:**

    The [`Bifurcation`][]s, sorted by parameter value.

    **Raises:**

    - `ValueError`: `param` is not a parameter, the interval is empty or inverted,
      or the conditions are not polynomial, so that SymPy cannot solve them exactly.
    """
    names = model.param_names
    if param not in names:
        raise ValueError(f"{param!r} is not a parameter of {model.name!r}: {names}")
    if interval is not None:
        low, high = (float(v) for v in interval)
        if not low < high:
            raise ValueError(f"the interval must have low < high, got {tuple(interval)}")
    parameter = model.param_symbols[names.index(param)]
    others = dict(model.param_substitution(params, exact=True))
    others.pop(parameter)
    field = model.vector_field.subs(others)
    if model.kind == MAP:
        field = field - sp.Matrix(model.state)
    state = list(model.state)
    unknowns = [*state, parameter]
    numerators = [sp.fraction(sp.together(e))[0] for e in field]
    if not all(e.is_polynomial(*unknowns) for e in numerators):
        raise ValueError(f"the field of {model.name!r} is not polynomial; no exact bifurcations")
    jacobian = field.jacobian(state)
    conditions = [(DEGENERATE, sp.numer(sp.together(jacobian.det())))]
    if model.kind == MAP:
        conditions.append(
            (PERIOD_DOUBLING, sp.numer(sp.together((jacobian + 2 * sp.eye(len(state))).det())))
        )
    elif len(state) >= 2:
        conditions.append((HOPF, _hurwitz_condition(jacobian)))
    found = []
    for kind, condition in conditions:
        try:
            solutions = sp.solve([*numerators, condition], unknowns, dict=True)
        except NotImplementedError as error:
            raise ValueError(f"SymPy cannot solve the {kind} conditions exactly: {error}") from None
        for solution in solutions:
            if set(solution) != set(unknowns):
                continue  # a continuum: degenerate, not a codimension-one point
            if not all(sp.simplify(sp.im(v)) == 0 for v in solution.values()):
                continue
            value = sp.simplify(solution[parameter])
            numeric = float(sp.re(value.evalf(30)))
            if interval is not None and not low <= numeric <= high:
                continue
            at = {s: solution[s] for s in state}
            if kind == HOPF:
                determinant = sp.simplify((-jacobian).subs(at).subs(parameter, value).det())
                if not float(determinant) > 0:
                    continue
                label = HOPF
            elif kind == PERIOD_DOUBLING:
                label = PERIOD_DOUBLING
            else:
                label = _zero_eigenvalue_kind(
                    field,
                    jacobian,
                    state,
                    parameter,
                    {**at, parameter: value},
                )
            found.append(
                Bifurcation(label, param, value, tuple(sp.simplify(at[s]) for s in state), numeric)
            )
    return sorted(found, key=lambda b: (b.numeric, b.kind))


def bifurcation_curves(
    model: Model,
    x: str,
    y: str,
    y_values: Sequence[float],
    interval: Sequence[float] | None = None,
    *,
    params: Mapping[str, float] | None = None,
) -> dict[str, list[tuple[float, float]]]:
    """The bifurcation curves in the plane of two parameters: for each value of `y`,
    the exact bifurcations along `x` ([`bifurcations`][]), gathered by kind.

    **Arguments:**

    - `model`: as for `bifurcations`.
    - `x`: the parameter solved for; `y`: the one held at each of `y_values`.
    - `interval`: keep points with `x` inside it.
    - `params`: values of the other parameters.

    **Returns:**

    For each kind of bifurcation found, its points `(x, y)`, by increasing `y`.

    **Raises:**

    - `ValueError`: as for `bifurcations`, or `x == y`.
    """
    if x == y:
        raise ValueError(f"x and y must be two different parameters, got {x!r} twice")
    curves: dict[str, list[tuple[float, float]]] = {}
    for value in sorted(float(v) for v in y_values):
        for point in bifurcations(model, x, interval, params={**(params or {}), y: value}):
            curves.setdefault(point.kind, []).append((point.numeric, value))
    return curves
