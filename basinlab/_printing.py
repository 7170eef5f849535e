"""Printing for the command line: tables, the catalogue and fixed points.

SymPy only: `basinlab models` and `basinlab analyze` never load JAX.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .theory import FixedPoint, Model, fixed_point_continua, fixed_points, models


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Rows under a header, in aligned columns."""
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows)]
    lines = [
        "  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _complex(value: complex) -> str:
    if abs(value.imag) < 1e-12 * max(1.0, abs(value)):
        return f"{value.real:.6g}"
    return f"{value.real:.6g}{value.imag:+.6g}i"


def list_models() -> None:
    """Print the built-in models with their states, parameters and descriptions."""
    rows = []
    for name in models.names():
        model = models.build(name)
        params = ", ".join(f"{k}={v:g}" for k, v in zip(model.param_names, model.params.values()))
        rows.append((name, ", ".join(model.state_names), params, model.description))
    print(table(("model", "state", "parameters", "description"), rows))


def _fixed_point_table(points: list[FixedPoint]) -> str:
    rows = [
        (
            str(p.location) if p.exact else "(" + ", ".join(f"{v:.6g}" for v in p.numeric) + ")",
            p.kind if p.kind != "saddle" else f"saddle (index {p.index})",
            ", ".join(_complex(e) for e in p.eigenvalues),
            "exact" if p.exact else "numeric",
        )
        for p in points
    ]
    return table(("fixed point", "kind", "eigenvalues", "solution"), rows)


def analyze(model: Model, params: Mapping[str, float]) -> list[FixedPoint]:
    """Print a model's equations, parameters, fixed points and continua of them."""
    values = model.resolve_params(params)
    equations = model.equations()
    if len(equations) > 600:  # whole order-parameter ODEs run to pages
        equations = f"{model.dim} equations, {len(equations):,} characters (Model.equations())"
    print(f"model {model.name}: {equations}")
    print("parameters: " + (", ".join(f"{k}={v:g}" for k, v in values.items()) or "none"))
    points = fixed_points(model, params=params)
    print(_fixed_point_table(points))
    for continuum in fixed_point_continua(model, params=params):
        free = sorted(str(s) for s, e in continuum.items() if e == s)
        fixed = ", ".join(f"{s} = {e}" for s, e in continuum.items() if e != s)
        print(f"continuum of fixed points: {fixed} (free: {', '.join(free)})")
    return points
