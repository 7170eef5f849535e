"""Fixed points of a model and their linear stability."""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping, Sequence

import mpmath
import numpy as np
import scipy.optimize
import sympy as sp

from ._model import Model, ParamKey
from ._time_limit import TimeLimitExceeded, time_limit

STABLE_NODE = "stable node"
STABLE_FOCUS = "stable focus"
SADDLE = "saddle"
UNSTABLE = "unstable"
NON_HYPERBOLIC = "non-hyperbolic"
KINDS = (STABLE_NODE, STABLE_FOCUS, SADDLE, UNSTABLE, NON_HYPERBOLIC)

# Eigenvalues of exact points are computed at this many digits, so that a real part
# below `_EXACT_ZERO` is zero to within rounding of an exact computation.
_DIGITS = 50
_EXACT_ZERO = 1e-35


@dataclasses.dataclass(frozen=True)
class FixedPoint:
    """A fixed point $x^*$ with $f(x^*) = 0$, and its linear stability.

    **Fields:**

    - `location`: the coordinates as SymPy numbers: exact (rational or algebraic) when
      `exact` is true, floats otherwise.
    - `numeric`: the same coordinates as floats.
    - `kind`: one of `"stable node"`, `"stable focus"`, `"saddle"`, `"unstable"`,
      `"non-hyperbolic"`.
    - `eigenvalues`: the eigenvalues of the Jacobian at $x^*$, sorted by real part.
    - `index`: the number of eigenvalues with positive real part (the number of
      unstable directions; for a gradient flow, the Morse index of the critical point).
    - `exact`: whether `location` came from an exact symbolic solution.
    """

    location: tuple[sp.Expr, ...]
    numeric: tuple[float, ...]
    kind: str
    eigenvalues: tuple[complex, ...]
    index: int
    exact: bool

    def __post_init__(self):
        assert self.kind in KINDS, self.kind
        assert len(self.location) == len(self.numeric)
        assert 0 <= self.index <= len(self.eigenvalues)

    @property
    def stable(self) -> bool:
        """Whether the point is asymptotically stable (every real part negative)."""
        return self.kind in (STABLE_NODE, STABLE_FOCUS)


def jacobian(model: Model) -> sp.Matrix:
    r"""The Jacobian $\partial f_i / \partial x_j$ of the vector field, symbolically."""
    return model.vector_field.jacobian(model.state)


def hessian(model: Model) -> sp.Matrix:
    r"""The Hessian $\partial^2 L / \partial x_i \partial x_j$ of a gradient flow's loss.

    **Raises:**

    - `ValueError`: the model has no loss.
    """
    if model.loss is None:
        raise ValueError(f"model {model.name!r} is not a gradient flow: it has no loss")
    return sp.hessian(model.loss, model.state)


def _kind(eigenvalues: Sequence[complex], zero: float) -> tuple[str, int]:
    real = np.array([e.real for e in eigenvalues])
    index = int(np.sum(real > zero))
    if np.any(np.abs(real) <= zero):
        return NON_HYPERBOLIC, index
    if index == 0:
        complex_pair = any(abs(e.imag) > zero for e in eigenvalues)
        return (STABLE_FOCUS if complex_pair else STABLE_NODE), 0
    if index == len(eigenvalues):
        return UNSTABLE, index
    return SADDLE, index


def classify(
    model: Model,
    point: Sequence[object],
    params: Mapping[ParamKey, float] | None = None,
    exact: bool | None = None,
) -> FixedPoint:
    """Classify a fixed point by the eigenvalues of the Jacobian there.

    Exact points are evaluated at 50 significant digits, so a real part is taken as
    zero only when it vanishes to that precision; numeric points use a tolerance of
    $10^{-8}$ relative to the largest eigenvalue.

    **Arguments:**

    - `model`: the model.
    - `point`: the coordinates, SymPy numbers or floats, one per state.
    - `params`: parameter overrides.
    - `exact`: whether the coordinates are exact; inferred from their types if `None`.

    **Returns:**

    A [`basinlab.FixedPoint`][].

    **Raises:**

    - `ValueError`: `point` has the wrong length or is not finite.
    """
    point = list(point)
    if len(point) != model.dim:
        raise ValueError(
            f"point has {len(point)} coordinates but {model.name!r} has {model.dim} states"
        )
    location = tuple(sp.sympify(c) for c in point)
    if exact is None:
        exact = all(not c.has(sp.Float) for c in location)
    numeric = tuple(float(sp.re(c.evalf(_DIGITS))) for c in location)
    if not np.all(np.isfinite(numeric)):
        raise ValueError(f"fixed point {numeric} is not finite")
    substitution = model.param_substitution(params, exact=exact)
    substitution |= dict(zip(model.state, location))
    jac = jacobian(model).subs(substitution)
    with mpmath.workdps(_DIGITS):
        rows = jac.evalf(_DIGITS).tolist()
        matrix = mpmath.matrix([[mpmath.mpmathify(v) for v in row] for row in rows])
        eigenvalues = [complex(e) for e in mpmath.eig(matrix, left=False, right=False)]
    eigenvalues.sort(key=lambda e: (e.real, e.imag))
    scale = max([1.0] + [abs(e) for e in eigenvalues])
    zero = _EXACT_ZERO * scale if exact else 1e-8 * scale
    kind, index = _kind(eigenvalues, zero)
    return FixedPoint(location, numeric, kind, tuple(eigenvalues), index, bool(exact))


def _exact_solutions(
    field: sp.Matrix, state: list[sp.Symbol], timeout: float | None
) -> tuple[list[tuple[sp.Expr, ...]], list[dict[sp.Symbol, sp.Expr]]] | None:
    """The real isolated roots of a polynomial field, and its continua of roots, exactly.

    `None` when the field is not polynomial or SymPy cannot solve it in time.
    """
    if not all(component.is_polynomial(*state) for component in field):
        return None
    try:
        with time_limit(timeout):
            solutions = sp.solve(list(field), state, dict=True)
    except (TimeLimitExceeded, NotImplementedError):
        return None
    roots, continua = [], []
    for solution in solutions:
        coordinates = [sp.sympify(solution.get(s, s)) for s in state]
        if any(c.free_symbols for c in coordinates):
            continuum = dict(zip(state, coordinates))
            if continuum not in continua:
                continua.append(continuum)
            continue
        imaginary = [abs(complex(c.evalf(_DIGITS)).imag) for c in coordinates]
        if max(imaginary) > _EXACT_ZERO:
            continue
        roots.append(tuple(sp.re(c) if c.is_real is None else c for c in coordinates))
    return roots, continua


def fixed_point_continua(
    model: Model, params: Mapping[ParamKey, float] | None = None, timeout: float | None = 20.0
) -> list[dict[sp.Symbol, sp.Expr]]:
    """The continua (curves, surfaces) of fixed points, as SymPy parametrisations.

    Each continuum is a dict from every state symbol to an expression in the states
    that remain free, e.g. `{a: s/b, b: b}` for the hyperbola $ab = s$ of a deep
    linear mode. Only polynomial fields that SymPy solves within `timeout` are
    covered; an empty list means none were found.

    **Raises:**

    - `ValueError`: a parameter is unknown.
    """
    solved = _exact_solutions(model.substituted(params, exact=True), model.state, timeout)
    return [] if solved is None else solved[1]


# Above this dimension the symbolic Jacobian costs more than finite differences save.
_SYMBOLIC_JACOBIAN_MAX_DIM = 4


def _numeric_roots(
    model: Model,
    params: Mapping[ParamKey, float] | None,
    search_box: Sequence[tuple[float, float]],
    n_seeds: int,
    seed: int,
    timeout: float | None,
) -> list[tuple[float, ...]]:
    """Roots from seeded hybrid Powell solves; those found before `timeout` are kept."""
    substitution = model.param_substitution(params, exact=False)
    field = model.vector_field.subs(substitution)
    function = sp.lambdify([model.state], list(field), modules="numpy", cse=True)
    derivative = None
    if model.dim <= _SYMBOLIC_JACOBIAN_MAX_DIM:
        rows = sp.lambdify([model.state], field.jacobian(model.state).tolist(), "numpy")

        def derivative(x):
            return np.asarray(rows(x), dtype=float)

    low, high = np.array(search_box, dtype=float).T
    seeds = np.random.default_rng(seed).uniform(low, high, size=(n_seeds, model.dim))
    roots: list[np.ndarray] = []
    with np.errstate(all="ignore"), warnings.catch_warnings():
        # Seeds outside a field's domain (sqrt of a negative) are expected; they fail.
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            with time_limit(timeout):
                for start in seeds:
                    try:
                        result = scipy.optimize.root(
                            lambda x: np.asarray(function(x), dtype=float),
                            start,
                            jac=derivative,
                            method="hybr",
                            options={"xtol": 1e-13},
                        )
                    except (ValueError, ZeroDivisionError, OverflowError):
                        continue
                    x = result.x
                    if not (np.all(np.isfinite(x)) and np.all(x >= low) and np.all(x <= high)):
                        continue
                    residual = np.max(np.abs(np.asarray(function(x), dtype=float)))
                    if not residual <= 1e-10 * max(1.0, np.max(np.abs(x))):
                        continue
                    scale = [1e-6 * max(1.0, np.max(np.abs(r))) for r in roots]
                    if all(np.max(np.abs(x - r)) > d for r, d in zip(roots, scale)):
                        roots.append(x)
        except TimeLimitExceeded:
            pass
    return [tuple(float(v) for v in r) for r in roots]


def fixed_points(
    model: Model,
    params: Mapping[ParamKey, float] | None = None,
    *,
    timeout: float | None = 20.0,
    search_box: Sequence[tuple[float, float]] | None = None,
    n_seeds: int = 400,
    seed: int = 0,
) -> list[FixedPoint]:
    r"""Find and classify the fixed points $f(x^*; p) = 0$ of a model.

    For a polynomial vector field SymPy's solver is tried first, with the parameter
    values as exact rationals; its real solutions are exact, and $f(x^*) = 0$ holds
    identically. Continua of fixed points are not points: they are left out here and
    given by [`basinlab.theory.fixed_point_continua`][]. If the field is not
    polynomial, or the solver fails or runs past `timeout`, the roots are found
    numerically:
    a hybrid Powell solve (MINPACK, through SciPy) from `n_seeds` random starts in
    `search_box`, polished to a residual below $10^{-10}$ and deduplicated; only roots
    inside the box, and those found within another `timeout`, are returned, so the
    numeric search can miss some.

    **Arguments:**

    - `model`: the model.
    - `params`: parameter overrides, by symbol or name.
    - `timeout`: seconds allowed to the exact solver, and again to the numeric search.
    - `search_box`: `(low, high)` per state for the numeric search; the model's own
      `search_box`, else $[-10, 10]$ each, by default.
    - `n_seeds`: number of numeric starts.
    - `seed`: the seed of the numeric starts.

    **Returns:**

    A list of [`basinlab.FixedPoint`][], stable points first.

    **Raises:**

    - `ValueError`: a parameter is unknown, or `search_box` does not give one
      non-empty interval per state.
    """
    if search_box is None:
        search_box = model.search_box or [(-10.0, 10.0)] * model.dim
    search_box = [tuple(map(float, interval)) for interval in search_box]
    if len(search_box) != model.dim or any(lo >= hi for lo, hi in search_box):
        raise ValueError(
            f"search_box must give one interval (low < high) per state, got {search_box}"
        )
    solved = _exact_solutions(model.substituted(params, exact=True), model.state, timeout)
    if solved is not None:
        points = [classify(model, r, params, exact=True) for r in solved[0]]
    else:
        roots = _numeric_roots(model, params, search_box, n_seeds, seed, timeout)
        points = [classify(model, r, params, exact=False) for r in roots]
    return sorted(points, key=lambda p: (not p.stable, p.index, p.numeric))
