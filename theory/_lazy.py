"""Names re-exported by a package and imported on first use (PEP 562)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping, Sequence


def lazy_exports(
    package: str, exports: Mapping[str, Sequence[str]]
) -> tuple[Callable[[str], object], Callable[[], list[str]], list[str]]:
    """The `__getattr__`, `__dir__` and `__all__` of a package whose public names load
    with the module that defines them.

    So `import basinlab.theory._model_names` reads a tuple of strings without
    loading SymPy, while `basinlab.theory.fixed_points` works as if imported eagerly.
    An export must not share its name with a submodule of the package: importing the
    submodule would bind its name to the module.

    **Arguments:**

    - `package`: the package's `__name__`.
    - `exports`: relative module → the names it defines. A module listed under its own
      name (`".models": ("models",)`) is itself the export.

    **Returns:**

    `(__getattr__, __dir__, __all__)` for the package's namespace.

    **Raises:**

    - `AssertionError`: at construction, a name is exported from two modules.
    """
    where = {name: module for module, names in exports.items() for name in names}
    assert len(where) == sum(len(names) for names in exports.values()), "a name twice"

    def __getattr__(name: str) -> object:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = importlib.import_module(where[name], package)
        value = module if where[name] == f".{name}" else getattr(module, name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(where) | set(vars(sys.modules[package])))

    return __getattr__, __dir__, sorted(where)
