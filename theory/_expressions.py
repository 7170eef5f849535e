"""What a model's expressions may contain: real symbols and functions that compile."""

from __future__ import annotations

from collections.abc import Iterable

import sympy as sp
from sympy.core.function import Application, AppliedUndef
from sympy.logic.boolalg import BooleanFunction

# The functions a model may use. Each has a JAX translation (checked by the tests
# against SymPy's own values), so a model built from them always compiles. Anything
# else is refused when the model is built, naming the expression.
SUPPORTED_FUNCTIONS: frozenset[type] = frozenset(
    {
        sp.exp,
        sp.log,
        sp.sin,
        sp.cos,
        sp.tan,
        sp.asin,
        sp.acos,
        sp.atan,
        sp.atan2,
        sp.sinh,
        sp.cosh,
        sp.tanh,
        sp.asinh,
        sp.acosh,
        sp.atanh,
        sp.Abs,
        sp.sign,
        sp.Max,
        sp.Min,
        sp.floor,
        sp.ceiling,
        sp.Heaviside,
        sp.Piecewise,
        sp.erf,
        sp.erfc,
        sp.gamma,
        sp.loggamma,
        sp.Mod,
    }
)

# Unevaluated calculus has no numerical meaning until it is carried out.
_UNEVALUATED = (sp.Derivative, sp.Integral, sp.Subs, sp.Sum, sp.Product, sp.Limit)


def as_expression(value: object, what: str) -> sp.Basic:
    """A SymPy expression or relation from a SymPy object or a Python number.

    **Raises:**

    - `TypeError`: `value` is a string (text is never parsed here) or not SymPy.
    """
    if isinstance(value, str):
        # Text never reaches `sympify` here: models are built from SymPy objects, and the
        # command line only ever names catalogue models.
        raise TypeError(f"{what} must be a SymPy expression, not the string {value!r}")
    try:
        return sp.sympify(value, strict=True)
    except sp.SympifyError as error:
        raise TypeError(f"{what} must be a SymPy expression, got {value!r}") from error


def real_symbols(symbols: Iterable[sp.Symbol], model: str) -> dict[str, sp.Symbol]:
    """Real versions of the state and parameter symbols, by name.

    Training states and parameters are real. A symbol made without the `real`
    assumption is replaced by a real symbol of the same name, so that `Abs`, `sign`,
    `re` and derivatives simplify as they do for real numbers (for a plain symbol
    SymPy keeps `re(x)` and `Derivative(Abs(x), x)`, which nothing can compile).
    Symbols that already are real, positive, etc. are kept as they are.

    **Raises:**

    - `ValueError`: a symbol is declared not real (imaginary or complex).
    """
    found: dict[str, sp.Symbol] = {}
    for symbol in symbols:
        if symbol.is_real is False:
            raise ValueError(
                f"symbol {symbol.name!r} of model {model!r} is declared not real; "
                "states and parameters must be real"
            )
        found[symbol.name] = symbol if symbol.is_real else sp.Symbol(symbol.name, real=True)
    return found


def code_symbols(
    state: Iterable[sp.Symbol], params: Iterable[sp.Symbol]
) -> dict[sp.Symbol, sp.Symbol]:
    """Fixed positional names for generated code: `_x0, _x1, ...` for the states and
    `_p0, _p1, ...` for the parameters.

    A state called `jax`, `math` or `lambda` would otherwise shadow a module or break
    the generated function. SymPy's `dummify` avoids that too, but numbers its
    dummies afresh on every call and orders terms by those numbers, so two compiles of
    one model could sum in different orders and differ in the last bits.
    """
    names = {s: f"_x{i}" for i, s in enumerate(state)}
    names |= {s: f"_p{i}" for i, s in enumerate(params)}
    return {s: sp.Symbol(name, real=True) for s, name in names.items()}


def undefined_functions(expressions: Iterable[sp.Basic]) -> list[sp.Basic]:
    """The applications of undefined functions, such as `L(x, y)`, in `expressions`."""
    found: dict[sp.Basic, None] = {}
    for expression in expressions:
        found |= dict.fromkeys(sorted(expression.atoms(AppliedUndef), key=sp.sstr))
    return list(found)


def _short(expression: sp.Basic) -> str:
    text = sp.sstr(expression)
    return text if len(text) <= 120 else text[:117] + "..."


def checked(expression: sp.Basic, symbols: dict[str, sp.Symbol], what: str) -> sp.Basic:
    """An expression with its symbols made real, checked to be real-valued and to use
    only functions that compile.

    **Arguments:**

    - `expression`: a SymPy expression or relation.
    - `symbols`: the model's real symbols by name (from `real_symbols`); free
      symbols of the same name are replaced by them.
    - `what`: how to name the expression in an error, e.g. `"component 0 of the
      vector field of 'm'"`.

    **Returns:**

    The expression, with complex intermediate forms (such as $|z|^2 = z\\bar z$)
    expanded away when the result is real.

    **Raises:**

    - `ValueError`: the expression holds unevaluated calculus, uses a function
      outside `SUPPORTED_FUNCTIONS`, or is complex-valued. The message names the
      expression. (Undefined functions such as `Function('f')(x)` are let through:
      they stand for an arbitrary function in symbolic work; see
      `undefined_functions`.)
    """
    renamed = {
        s: symbols[s.name]
        for s in expression.free_symbols
        if s.name in symbols and s is not symbols[s.name]
    }
    expression = expression.xreplace(renamed)
    for node in sp.preorder_traversal(expression):
        if isinstance(node, AppliedUndef):
            continue  # a symbolic placeholder: see `undefined_functions`
        # Calculus that could be carried out must be; that of an undefined function
        # (Derivative(L(x), x)) cannot be, and stays with it.
        if isinstance(node, _UNEVALUATED) and not node.atoms(AppliedUndef):
            raise ValueError(
                f"{what} holds an unevaluated {type(node).__name__}: {_short(node)}; "
                "call .doit() on it first"
            )
        if (
            isinstance(node, Application)
            and not isinstance(node, BooleanFunction)
            and node.func not in SUPPORTED_FUNCTIONS
        ):
            supported = ", ".join(sorted(f.__name__ for f in SUPPORTED_FUNCTIONS))
            raise ValueError(
                f"{what} uses {node.func}, which basinlab cannot compile: {_short(node)}; "
                f"supported functions are {supported}"
            )
    if expression.has(sp.I):
        expanded = sp.expand(expression)
        if expanded.has(sp.I):
            raise ValueError(
                f"{what} is complex-valued (it keeps the imaginary unit I after "
                f"expansion): {_short(expression)}; states are real"
            )
        expression = expanded
    return expression
