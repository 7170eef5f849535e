"""Old calling conventions of public functions, kept working for one release with a warning."""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

Function = TypeVar("Function", bound=Callable)

# The release in which the old spellings stop working.
REMOVAL = "0.3"


class BasinlabDeprecationWarning(FutureWarning):
    """A public name or calling convention of basinlab that the next release removes.

    A `FutureWarning`, so that it shows by default: the people who read it are the
    researchers calling the API, not only the developers of a library built on it.
    """


def legacy_arguments(
    *, positional: Sequence[str] = (), renamed: Mapping[str, str] | None = None
) -> Callable[[Function], Function]:
    """Accept a function's old calling conventions for one release, with a warning.

    **Arguments:**

    - `positional`: the arguments, in their new spelling and their old order, that
      used to follow the function's positional ones and are now keyword-only.
    - `renamed`: old keyword name → new keyword name.

    **Returns:**

    A decorator. The wrapped function maps extra positional values onto `positional`
    and old keywords onto their new names, warning with a
    [`basinlab.BasinlabDeprecationWarning`][] that says what to write instead.

    **Raises:**

    - `AssertionError`: at decoration, a name in `positional` or a target in `renamed`
      is not a keyword-only argument of the function, or an old name still is one.
    """
    renamed = dict(renamed or {})

    def decorate(function: Function) -> Function:
        parameters = inspect.signature(function).parameters
        keyword_only = {
            name for name, p in parameters.items() if p.kind is inspect.Parameter.KEYWORD_ONLY
        }
        assert set(positional) <= keyword_only, (function.__name__, positional)
        assert all(new in parameters and old not in parameters for old, new in renamed.items())
        count = sum(
            p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
            for p in parameters.values()
        )
        name = function.__name__

        @functools.wraps(function)
        def call(*args, **kwargs):
            if len(args) > count:
                extra = args[count:]
                if len(extra) > len(positional):
                    raise TypeError(
                        f"{name}() takes at most {count + len(positional)} positional "
                        f"arguments, got {len(args)}"
                    )
                names = positional[: len(extra)]
                for key, value in zip(names, extra):
                    if key in kwargs:
                        raise TypeError(f"{name}() got multiple values for {key!r}")
                    kwargs[key] = value
                args = args[:count]
                _warn(
                    f"{name}(): pass {', '.join(names)} by keyword "
                    f"({', '.join(f'{k}=...' for k in names)})"
                )
            for old, new in renamed.items():
                if old in kwargs:
                    if new in kwargs:
                        raise TypeError(f"{name}() got both {old}= and its new name {new}=")
                    kwargs[new] = kwargs.pop(old)
                    _warn(f"{name}(): {old}= is now called {new}=")
            return function(*args, **kwargs)

        call.__legacy_arguments__ = (count, tuple(positional), dict(renamed))
        return call  # type: ignore[return-value]

    return decorate


def _warn(message: str) -> None:
    warnings.warn(
        f"{message}; the old spelling stops working in basinlab {REMOVAL}",
        BasinlabDeprecationWarning,
        stacklevel=3,
    )
