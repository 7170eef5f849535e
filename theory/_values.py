"""Values that callers hand to the symbolic functions: numbers and SymPy objects.

Text is never evaluated. SymPy's `sympify` runs Python on a string it is given, so a
string reaches SymPy only after it has matched the whitelist below, the plain-decimal
grammar of the command line, and then as an exact rational.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Iterable

import sympy as sp

# Plain decimals only, as on the command line (basinlab._text keeps the same grammar,
# without importing SymPy; a test holds the two equal). Python's float() would also
# take "1_0" (as 10), "0x1p3" and "inf".
DECIMAL = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def parse_decimal(text: str, what: str) -> sp.Rational:
    """A plain decimal string as the exact rational it names (`"0.1"` is 1/10).

    **Raises:**

    - `TypeError`: the text is not a plain decimal; the message names `what`.
    """
    stripped = text.strip()
    if not DECIMAL.match(stripped):
        raise TypeError(
            f"{what} must be a number or a SymPy expression; text is read only as a plain "
            f"decimal such as 0.5 or -2e-3, and {text[:80]!r} is not one"
        )
    return sp.Rational(stripped)


def symbolic_value(value: object, what: str) -> sp.Basic:
    """A caller's value as a SymPy expression, without ever evaluating text.

    **Arguments:**

    - `value`: a SymPy expression, a Python or NumPy number (bools excepted), or a
      plain decimal string.
    - `what`: how to name the value in an error (`"coordinate 0 of point"`, say).

    **Returns:**

    The value as SymPy has it (a float stays a `Float`, an int an `Integer`); a
    decimal string becomes the exact rational it names.

    **Raises:**

    - `TypeError`: any other string, a bool, or an object that is not a number or a
      SymPy expression. The message names `what`.
    """
    if isinstance(value, str):
        return parse_decimal(value, what)
    if isinstance(value, sp.Basic):
        return value
    if getattr(value, "shape", None) == () and hasattr(value, "item"):
        value = value.item()  # a NumPy or JAX scalar array
    if isinstance(value, bool) or not isinstance(value, numbers.Number):
        raise TypeError(
            f"{what} must be a number or a SymPy expression, got {type(value).__name__} "
            f"{str(value)[:80]!r}"
        )
    # strict: numbers only; nothing here is parsed.
    return sp.sympify(value, strict=True)


def symbolic_values(values: Iterable[object], what: str) -> tuple[sp.Basic, ...]:
    """`symbolic_value` for each of `values`, named `what 0`, `what 1`, ..."""
    return tuple(symbolic_value(v, f"{what} {i}") for i, v in enumerate(values))


def symbolic_arguments(**values: object) -> tuple[sp.Basic, ...]:
    """`symbolic_value` for each keyword argument, named by its keyword, in order."""
    return tuple(symbolic_value(v, name) for name, v in values.items())
