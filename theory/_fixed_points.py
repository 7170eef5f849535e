"""Fixed points of a model and their linear stability."""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable, Mapping, Sequence

import mpmath
import numpy as np
import sympy as sp

from ._checks import check_count, check_seed
from ._expressions import SUPPORTED_FUNCTIONS, code_symbols
from ._legacy_arguments import legacy_arguments
from ._model import MAP, Model, ParamKey
from ._time_limit import TimeLimitExceeded, time_limit
from ._values import symbolic_values

STABLE_NODE = "stable node"
STABLE_FOCUS = "stable focus"
SADDLE = "saddle"
UNSTABLE = "unstable"
NON_HYPERBOLIC = "non-hyperbolic"
KINDS = (STABLE_NODE, STABLE_FOCUS, SADDLE, UNSTABLE, NON_HYPERBOLIC)

# Eigenvalues of exact points are computed at this many digits at first, and a real
# part below 10**(15 - digits) of the largest eigenvalue counts as zero. A point that
# looks non-hyperbolic is looked at again with twice the digits, up to the most: an
# eigenvalue 1e-600 beside one of 1e600 (a coupling of 1e300) needs over 1200.
_DIGITS = 50
_MOST_DIGITS = 3200
_NUMERIC_ZERO = 1e-8


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
    - `index`: the number of unstable directions: eigenvalues with positive real part
      for a flow (for a gradient flow, the Morse index of the critical point), with
      modulus above 1 for a map.
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


_PIECEWISE_CONSTANT = (sp.floor, sp.ceiling)


def _zero_almost_everywhere(expression: sp.Basic) -> bool:
    """A derivative of a piecewise constant function, or a Dirac delta: 0 wherever the
    derivative exists."""
    if isinstance(expression, sp.DiracDelta):
        return True
    if isinstance(expression, sp.Subs):
        expression = expression.expr
    return isinstance(expression, sp.Derivative) and expression.expr.func in _PIECEWISE_CONSTANT


def almost_everywhere_jacobian(field: sp.Matrix, state: list[sp.Symbol]) -> sp.Matrix:
    r"""The Jacobian of a piecewise-smooth field wherever it is smooth.

    `floor` and `ceiling` are constant between their jumps, so their derivatives are
    0 there; `Mod(a, b)` is $a - b\lfloor a/b \rfloor$, with derivative $a'$ for a
    constant $b$; the Dirac deltas of `sign` and `Heaviside` vanish off their jump. So
    each smooth piece gets its own Jacobian, and a fixed point inside a piece is
    classified as on a smooth field.
    """
    expanded = field.replace(
        lambda e: isinstance(e, sp.Mod),
        lambda e: e.args[0] - e.args[1] * sp.floor(e.args[0] / e.args[1]),
    )
    zeroed = expanded.jacobian(state).replace(_zero_almost_everywhere, lambda e: sp.S.Zero)
    return zeroed.replace(lambda e: isinstance(e, sp.Subs), lambda e: e.doit())


def jacobian(model: Model) -> sp.Matrix:
    r"""The Jacobian $\partial f_i / \partial x_j$ of the vector field, symbolically;
    for a piecewise-smooth field (`floor`, `ceiling`, `Mod`, `sign`, `Heaviside`), the
    Jacobian of the smooth piece at each point (see `almost_everywhere_jacobian`)."""
    return almost_everywhere_jacobian(model.vector_field, model.state)


def hessian(model: Model) -> sp.Matrix:
    r"""The Hessian $\partial^2 L / \partial x_i \partial x_j$ of a gradient flow's loss.

    **Raises:**

    - `ValueError`: the model has no loss.
    """
    if model.loss is None:
        raise ValueError(f"model {model.name!r} is not a gradient flow: it has no loss")
    return sp.hessian(model.loss, model.state)


def _kind(
    eigenvalues: Sequence[mpmath.mpc], relative_zero: float, discrete: bool
) -> tuple[str, int]:
    """The kind and index of a rest point: from the real parts of the eigenvalues of a
    flow's Jacobian, or from the moduli of a map's (minus 1, so that 0 is the
    boundary of stability either way). Values below `relative_zero` times the largest
    eigenvalue count as zero. In mpmath, so that no eigenvalue overflows a float."""
    scale = max([mpmath.mpf(1)] + [abs(e) for e in eigenvalues])
    zero = relative_zero * scale
    real = [abs(e) - 1 if discrete else mpmath.re(e) for e in eigenvalues]
    index = sum(1 for r in real if r > zero)
    if any(abs(r) <= zero for r in real):
        return NON_HYPERBOLIC, index
    if index == 0:
        complex_pair = any(abs(mpmath.im(e)) > zero for e in eigenvalues)
        return (STABLE_FOCUS if complex_pair else STABLE_NODE), 0
    if index == len(eigenvalues):
        return UNSTABLE, index
    return SADDLE, index


def _eigenvalues(jac: sp.Matrix, digits: int) -> list[mpmath.mpc]:
    """The eigenvalues of a numeric SymPy matrix at `digits` significant digits."""
    with mpmath.workdps(digits):
        rows = jac.evalf(digits).tolist()
        matrix = mpmath.matrix([[mpmath.mpmathify(v) for v in row] for row in rows])
        # mpmath.eig returns a tuple with eigenvectors for a 1x1 matrix whatever it is
        # asked, so the one eigenvalue of a 1-D model is read off directly.
        found = [matrix[0, 0]] if len(rows) == 1 else mpmath.eig(matrix, left=False, right=False)
        return [mpmath.mpc(e) for e in found]


@legacy_arguments(positional=("params", "exact"))
def classify(
    model: Model,
    point: Sequence[object],
    *,
    params: Mapping[ParamKey, float] | None = None,
    exact: bool | None = None,
) -> FixedPoint:
    """Classify a fixed point by the eigenvalues of the Jacobian there.

    For a flow the real parts decide (stable when all are negative); for a map the
    moduli (stable when all are below 1, a saddle when some exceed 1 and some do
    not, non-hyperbolic when one equals 1). Exact points are evaluated at 50
    significant digits, so a real part (or a modulus minus 1) is taken as zero only
    when it vanishes to that precision relative to the largest eigenvalue; a point
    that then looks non-hyperbolic is evaluated again with twice the digits, up to
    3,200, so that widely separated eigenvalues (a huge coupling) are resolved.
    Numeric points use a tolerance of $10^{-8}$ relative to the largest eigenvalue.
    Eigenvalues beyond the float range are reported as infinite; the kind is decided
    before they are rounded.

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
    return _classify(model, point, params, exact, jacobian(model))


def _classify(
    model: Model,
    point: Sequence[object],
    params: Mapping[ParamKey, float] | None,
    exact: bool | None,
    jac: sp.Matrix,
) -> FixedPoint:
    """`classify` with the model's Jacobian given, so that a search that classifies many
    points differentiates the field once."""
    point = list(point)
    if len(point) != model.dim:
        raise ValueError(
            f"point has {len(point)} coordinates but {model.name!r} has {model.dim} states"
        )
    location = symbolic_values(point, "coordinate")
    if exact is None:
        exact = all(not c.has(sp.Float) for c in location)
    numeric = tuple(float(sp.re(c.evalf(_DIGITS))) for c in location)
    if not np.all(np.isfinite(numeric)):
        raise ValueError(f"fixed point {numeric} is not finite")
    substitution = model.param_substitution(params, exact=exact)
    substitution |= dict(zip(model.state, location))
    # Every key is a symbol, so a structural replacement does what `subs` would, at a
    # tenth of its time on a large field (teacher-student's 7x7 Jacobian: 0.9 s, not 7 s);
    # only derivatives left unevaluated need `subs`, which turns them into `Subs`.
    jac = jac.subs(substitution) if jac.has(sp.Derivative, sp.Subs) else jac.xreplace(substitution)
    digits = _DIGITS
    found = _eigenvalues(jac, digits)
    while True:
        relative_zero = mpmath.mpf(10) ** (15 - digits) if exact else _NUMERIC_ZERO
        with mpmath.workdps(digits):
            kind, index = _kind(found, relative_zero, model.kind == MAP)
        if kind != NON_HYPERBOLIC or not exact or digits >= _MOST_DIGITS:
            break
        try:
            found, digits = _eigenvalues(jac, 2 * digits), 2 * digits
        except RuntimeError:  # mpmath's QR can stall on repeated zero eigenvalues
            break
    eigenvalues = sorted((complex(e) for e in found), key=lambda e: (e.real, e.imag))
    return FixedPoint(location, numeric, kind, tuple(eigenvalues), index, bool(exact))


def _exact_solutions(
    field: sp.Matrix, state: list[sp.Symbol], timeout: float | None
) -> tuple[list[tuple[sp.Expr, ...]], list[dict[sp.Symbol, sp.Expr]]] | None:
    """The real isolated roots of a rational field, and its continua of roots, exactly.

    A rational component vanishes where its numerator does and its denominator does
    not (Newton's map has a pole at its critical point). `None` when the field is not
    rational or SymPy cannot solve it in time.
    """
    numerators, denominators = [], []
    for component in field:
        numerator, denominator = sp.fraction(sp.together(component))
        if not (numerator.is_polynomial(*state) and denominator.is_polynomial(*state)):
            return None
        numerators.append(numerator)
        denominators.append(denominator)
    try:
        with time_limit(timeout):
            solutions = sp.solve(numerators, state, dict=True)
    except (TimeLimitExceeded, NotImplementedError):
        return None
    roots, continua = [], []
    for solution in solutions:
        coordinates = [solution.get(s, s) for s in state]
        at = dict(zip(state, coordinates))
        if any(sp.simplify(d.subs(at)) == 0 for d in denominators):
            continue
        if any(c.free_symbols for c in coordinates):
            continuum = dict(zip(state, coordinates))
            if continuum not in continua:
                continua.append(continuum)
            continue
        imaginary = [abs(complex(c.evalf(_DIGITS)).imag) for c in coordinates]
        if max(imaginary) > 10.0 ** (15 - _DIGITS):
            continue
        roots.append(tuple(sp.re(c) if c.is_real is None else c for c in coordinates))
    return roots, continua


@legacy_arguments(positional=("params", "timeout"))
def fixed_point_continua(
    model: Model, *, params: Mapping[ParamKey, float] | None = None, timeout: float | None = 20.0
) -> list[dict[sp.Symbol, sp.Expr]]:
    """The continua (curves, surfaces) of fixed points, as SymPy parametrisations.

    Each continuum is a dict from every state symbol to an expression in the states
    that remain free, e.g. `{a: s/b, b: b}` for the hyperbola $ab = s$ of a deep
    linear mode. Only polynomial fields that SymPy solves within `timeout` are
    covered; an empty list means none were found.

    **Raises:**

    - `ValueError`: a parameter is unknown.
    """
    solved = _exact_solutions(model.rest_field(params, exact=True), model.state, timeout)
    return [] if solved is None else solved[1]


# Above this dimension the symbolic Jacobian costs more than finite differences save.
_SYMBOLIC_JACOBIAN_MAX_DIM = 4


def _numeric_field(
    model: Model, params: Mapping[ParamKey, float] | None
) -> tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray] | None]:
    """The field as a NumPy function, and its symbolic Jacobian where that is cheap
    and printable (`None` otherwise)."""
    model.require_numeric("solved numerically")
    names = code_symbols(model.state, [])
    field = model.rest_field(params, exact=False).xreplace(names)
    arguments = [list(names.values())]
    compiled = sp.lambdify(arguments, list(field), "numpy", cse=True)

    def function(x: np.ndarray) -> np.ndarray:
        return np.asarray(compiled(x), dtype=float)

    if model.dim > _SYMBOLIC_JACOBIAN_MAX_DIM:
        return function, None
    jacobian = almost_everywhere_jacobian(field, list(names.values()))
    if any(f.func not in SUPPORTED_FUNCTIONS for f in jacobian.atoms(sp.Function)):
        # Derivatives such as polygamma (of loggamma) have no NumPy form; MINPACK
        # then differentiates by finite differences.
        return function, None
    rows = sp.lambdify(arguments, jacobian.tolist(), "numpy")

    def derivative(x: np.ndarray) -> np.ndarray:
        return np.asarray(rows(x), dtype=float)

    return function, derivative


def _domain_test(
    model: Model, params: Mapping[ParamKey, float] | None
) -> Callable[[np.ndarray], np.ndarray]:
    """Whether points (rows) lie in the model's declared domain; all do when it
    declares none."""
    if not model.domain:
        return lambda points: np.ones(len(points), bool)
    names = code_symbols(model.state, [])
    substitution = model.param_substitution(params, exact=False)
    relations = [r.subs(substitution).xreplace(names) for r in model.domain]
    test = sp.lambdify([list(names.values())], relations, "numpy")

    def inside(points: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            held = [np.broadcast_to(h, (len(points),)) for h in test(np.asarray(points).T)]
        return np.logical_and.reduce(held)

    return inside


def _spurious_at_a_jump(
    function: Callable[[np.ndarray], np.ndarray],
    derivative: Callable[[np.ndarray], np.ndarray] | None,
    x: np.ndarray,
) -> bool:
    r"""Whether a root of a piecewise field is only the limit of a piece that stops
    short of it: the field jumps at `x`, and one more Newton step on the piece lands
    where the field is not zero. For $F(x) = x/2 + \lfloor x \rfloor/4$ the piece
    left of -1 tends to the root -1 that it does not reach ($F(-1) = -3/4$), while 0
    is a true fixed point at the left end of its piece."""
    scale = max(1.0, np.max(np.abs(x)))
    step = 1e-7 * scale
    jumps = any(
        not np.max(np.abs(function(x + step * e) - function(x - step * e))) <= 1e-3 * scale
        for e in np.eye(len(x))
    )
    if not jumps:
        return False
    if derivative is None:
        return True  # no Jacobian of the piece to tell: no point rather than a false one
    polished = x - np.linalg.pinv(derivative(x)) @ function(x)
    return not np.max(np.abs(function(polished))) <= 1e-10 * scale


def _finite_difference_jacobian(
    function: Callable[[np.ndarray], np.ndarray], x: np.ndarray
) -> np.ndarray:
    steps = 1e-7 * np.maximum(1.0, np.abs(x))
    columns = [
        (function(x + h * e) - function(x - h * e)) / (2 * h) for h, e in zip(steps, np.eye(len(x)))
    ]
    return np.stack(columns, axis=1)


def _is_isolated(
    function: Callable[[np.ndarray], np.ndarray],
    jacobian: np.ndarray,
    root: np.ndarray,
    inside: Callable[[np.ndarray], np.ndarray],
) -> bool:
    r"""Whether a numeric root is an isolated zero of the field, not a point of a
    curve or surface of zeros.

    A root with a regular Jacobian is isolated. At a singular one, step a small
    distance along the null direction and solve $f = 0$ on the hyperplane through
    that point orthogonal to it: on a continuum that succeeds, at an isolated
    degenerate root (such as $\dot x = -x^3$ at 0) the residual stays of the order
    of the step to some power. Steps that leave the model's domain are not taken.
    """
    import scipy.optimize  # on use: loading SciPy would slow every model build

    _, singular, right = np.linalg.svd(jacobian)
    if singular[-1] > 1e-6 * max(1.0, singular[0]):
        return True
    direction, across = right[-1], right[:-1].T
    scale = max(1.0, np.max(np.abs(root)))
    for step in (0.05 * scale, -0.05 * scale):
        start = root + step * direction
        if not inside(start[None])[0]:
            continue
        if across.shape[1] == 0:
            residual = function(start)
        else:
            try:
                fit = scipy.optimize.least_squares(
                    lambda z, start=start: function(start + across @ z),
                    np.zeros(across.shape[1]),
                    xtol=1e-15,
                    ftol=1e-15,
                    gtol=1e-15,
                )
            except ValueError:  # the solve wandered off the field's domain
                continue
            residual = fit.fun
        if np.all(np.isfinite(residual)) and np.max(np.abs(residual)) <= 1e-10 * scale:
            return False
    return True


def _seeds_in_domain(
    rng: np.random.Generator,
    low: np.ndarray,
    high: np.ndarray,
    count: int,
    inside: Callable[[np.ndarray], np.ndarray],
) -> np.ndarray:
    """`count` uniform draws from the box that lie in the domain, drawn in rounds; fewer
    when the domain fills under a thousandth of the box."""
    kept = np.zeros((0, len(low)))
    for _ in range(1000):
        if len(kept) >= count:
            break
        draws = rng.uniform(low, high, size=(count, len(low)))
        kept = np.concatenate([kept, draws[inside(draws)]])
    return kept[:count]


def _numeric_roots(
    model: Model,
    params: Mapping[ParamKey, float] | None,
    search_box: Sequence[tuple[float, float]],
    n_seeds: int,
    seed: int,
    timeout: float | None,
) -> tuple[list[tuple[float, ...]], bool]:
    """Isolated roots from seeded hybrid Powell solves, in rounds of `n_seeds` fresh
    seeds until a round finds no new isolated root; roots on a continuum of roots are
    left out. Returns the roots found before `timeout`, and whether the search
    saturated (its last round found nothing new) rather than running out of rounds
    or time."""

    function, derivative = _numeric_field(model, params)
    inside = _domain_test(model, params)
    low, high = np.array(search_box, dtype=float).T
    rng = np.random.default_rng(seed)
    roots: list[np.ndarray] = []
    on_continuum: list[np.ndarray] = []
    saturated = False
    with np.errstate(all="ignore"), warnings.catch_warnings():
        # Seeds outside a field's domain (sqrt of a negative) are expected; they fail.
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            with time_limit(timeout):
                for _ in range(_MOST_ROUNDS):
                    seeds = _seeds_in_domain(rng, low, high, n_seeds, inside)
                    if not _search(
                        function, derivative, inside, low, high, seeds, roots, on_continuum
                    ):
                        saturated = True
                        break
        except TimeLimitExceeded:
            pass
    return [tuple(float(v) for v in r) for r in roots], saturated


# Rounds of fresh seeds the numeric search may take before it gives up saturating.
_MOST_ROUNDS = 12


def _search(
    function: Callable[[np.ndarray], np.ndarray],
    derivative: Callable[[np.ndarray], np.ndarray] | None,
    inside: Callable[[np.ndarray], np.ndarray],
    low: np.ndarray,
    high: np.ndarray,
    seeds: np.ndarray,
    roots: list[np.ndarray],
    on_continuum: list[np.ndarray],
) -> bool:
    """One round of hybrid Powell solves from `seeds`; each new isolated root is added
    to `roots`, each new root on a continuum to `on_continuum`. Returns whether the
    round found a new isolated root."""
    import scipy.optimize

    found_isolated = False
    for start in seeds:
        try:
            result = scipy.optimize.root(
                function, start, jac=derivative, method="hybr", options={"xtol": 1e-13}
            )
        except (ValueError, ZeroDivisionError, OverflowError):
            continue
        x = result.x
        if not (np.all(np.isfinite(x)) and np.all(x >= low) and np.all(x <= high)):
            continue
        if not inside(x[None])[0]:
            continue
        residual = np.max(np.abs(function(x)))
        if not residual <= 1e-10 * max(1.0, np.max(np.abs(x))):
            continue
        if _spurious_at_a_jump(function, derivative, x):
            continue
        known = roots + on_continuum
        scale = [1e-6 * max(1.0, np.max(np.abs(r))) for r in known]
        if any(np.max(np.abs(x - r)) <= d for r, d in zip(known, scale)):
            continue
        jacobian = _finite_difference_jacobian(function, x) if derivative is None else derivative(x)
        if not np.all(np.isfinite(jacobian)):
            continue  # the field is not differentiable there (0/0): it cannot be classified
        if _is_isolated(function, jacobian, x, inside):
            roots.append(x)
            found_isolated = True
        else:
            on_continuum.append(x)
    return found_isolated


@legacy_arguments(positional=("params",))
def fixed_points(
    model: Model,
    *,
    params: Mapping[ParamKey, float] | None = None,
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
    a hybrid Powell solve (MINPACK, through SciPy) from random starts in
    `search_box`, polished to a residual below $10^{-10}$ and deduplicated; only roots
    inside the box (and the model's `domain`) are returned. The starts come in rounds
    of `n_seeds`, until a round finds no new isolated root; a search that runs out of
    rounds (12) or of another `timeout` while still finding new roots warns that some may
    be missing (the magnetic pendulum's three stable points, say, from 400 starts in
    the default box, where one round finds one of them). A numeric root at which
    $f = 0$ can be continued along the null direction of the Jacobian lies on a
    continuum (such as a circle of rest points) and is left out as well; basin
    computations find such continua from the trajectories that come to rest on them.

    **Arguments:**

    - `model`: the model.
    - `params`: parameter overrides, by symbol or name.
    - `timeout`: seconds allowed to the exact solver, and again to the numeric search.
    - `search_box`: `(low, high)` per state for the numeric search; the model's own
      `search_box`, else $[-10, 10]$ each, by default.
    - `n_seeds`: numeric starts per round.
    - `seed`: the seed of the numeric starts.

    **Returns:**

    A list of [`basinlab.FixedPoint`][], stable points first.

    **Raises:**

    - `ValueError`: a parameter is unknown, `search_box` does not give one
      non-empty interval per state, `n_seeds` is not a positive integer, or `seed`
      is outside $[0, 2^{63})$.
    - `TypeError`: `seed` is not an integer.
    """
    seed = check_seed(seed)
    n_seeds = check_count(n_seeds, "n_seeds")
    if search_box is None:
        search_box = model.search_box or [(-10.0, 10.0)] * model.dim
    search_box = [tuple(map(float, interval)) for interval in search_box]
    if len(search_box) != model.dim or any(lo >= hi for lo, hi in search_box):
        raise ValueError(
            f"search_box must give one interval (low < high) per state, got {search_box}"
        )
    solved = _exact_solutions(model.rest_field(params, exact=True), model.state, timeout)
    if solved is not None:
        roots, exact = solved[0], True
    else:
        exact = False
        roots, saturated = _numeric_roots(model, params, search_box, n_seeds, seed, timeout)
        if not saturated:
            warnings.warn(
                f"the numeric search for fixed points of {model.name!r} was still finding "
                f"new ones when it stopped (after {_MOST_ROUNDS} rounds of {n_seeds} seeds, "
                "or at the timeout): some may be missing; give more n_seeds, a tighter "
                "search_box or a longer timeout",
                stacklevel=2,
            )
    # One Jacobian for every point, and none when there is no point to classify.
    jac = jacobian(model) if roots else None
    points = [_classify(model, r, params, exact, jac) for r in roots]
    return sorted(points, key=lambda p: (not p.stable, p.index, p.numeric))
