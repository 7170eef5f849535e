"""No public function turns a caller's text into code.

Each public entry point that takes values is handed a string that would create a
file if anything evaluated it (SymPy's `sympify`, `nsimplify` and `Matrix` all run
Python on strings). Each must refuse it with a clear error, and the file must not
appear. Plain decimal strings, the command line's whitelist, are read exactly.
"""

import ast
import pathlib

import numpy as np
import pytest
import sympy as sp

import basinlab as bl
from basinlab import _text
from basinlab.proofs import critical_points, prove_positive, vanishes
from basinlab.theory import Curriculum, goodhart_fit, models
from basinlab.theory._values import DECIMAL, parse_decimal, symbolic_value

ROOT = pathlib.Path(__file__).resolve().parents[1]
x, y = sp.symbols("x y", real=True)


@pytest.fixture
def payload(tmp_path):
    canary = tmp_path / "canary"
    text = f"__import__('pathlib').Path({str(canary)!r}).touch() or 1"
    yield text
    assert not canary.exists(), "a public function ran a caller's text as code"


def _double_well():
    return bl.models.alignment_double_well()


def _line():
    return bl.Model.gradient_flow((x**2 - 1) ** 2 / 4, [x])


CALLS = {
    "classify": lambda s: bl.classify(_double_well(), [s, 2]),
    "eyring_kramers minimum": lambda s: bl.eyring_kramers(_double_well(), [s, 2], (0, 1), 0.1),
    "eyring_kramers saddle": lambda s: bl.eyring_kramers(_double_well(), (1, 2), (s, 1), 0.1),
    "eyring_kramers temperature": lambda s: bl.eyring_kramers(_double_well(), (1, 2), (0, 1), s),
    "exact_mean_first_passage_time": lambda s: bl.exact_mean_first_passage_time(
        _line(), s, 1.0, 0.1
    ),
    "certified_region": lambda s: bl.certified_region(_double_well(), [s, 2]),
    "minimal_critical_shock": lambda s: bl.minimal_critical_shock(_double_well(), [s, 2]),
    "fixed_points params": lambda s: bl.fixed_points(_double_well(), params={"bias": s}),
    "Model params": lambda s: bl.Model("m", [x], [-x], params={sp.Symbol("k"): s}),
    "Model field": lambda s: bl.Model("m", [x], [s]),
    "gradient_flow loss": lambda s: bl.Model.gradient_flow(s, [x]),
    "iterated_map": lambda s: bl.Model.iterated_map("m", [x], [s]),
    "Noise.isotropic": lambda s: bl.Noise.isotropic(s, 2),
    "Noise.diagonal": lambda s: bl.Noise.diagonal([s, 1]),
    "Noise.matrix": lambda s: bl.Noise.matrix([[s, 0], [0, 1]]),
    "Noise.from_covariance": lambda s: bl.Noise.from_covariance([[s, 0], [0, 1]]),
    "Noise.sgd": lambda s: bl.Noise.sgd(x**2, [x], s, 4),
    "bifurcations": lambda s: bl.bifurcations(_double_well(), "bias", (s, 1)),
    "mode_strength": lambda s: models.deep_linear.mode_strength(s, 3, 0.1),
    "learning_time": lambda s: models.deep_linear.learning_time(3, s, 2.9),
    "infinite_depth_learning_time": lambda s: models.deep_linear.infinite_depth_learning_time(
        3, 0.1, 2.9, s
    ),
    "reduced_depth_rate": lambda s: models.deep_linear.reduced_depth_rate(1, 3, s),
    "depth_learning_time": lambda s: models.deep_linear.depth_learning_time(3, s, 2.9, 4),
    "constant_weight_threshold": lambda s: models.constant_weight_threshold(s, 3.0, 0.01, 0.01),
    "logistic_period_two": lambda s: models.logistic_period_two(s),
    "pessimistic_values": lambda s: models.pessimistic_values(5, s, 0.5, "safe", {}),
    "pessimistic_values rewards": lambda s: models.pessimistic_values(
        5, 0.9, 0.5, "safe", {"goal": s}
    ),
    "attention_minimum": lambda s: models.attention_minimum(s, 20),
    "goodhart_fit": lambda s: goodhart_fit([1, 2, s], [1, 2, 3], "log"),
    "Curriculum": lambda s: Curriculum([(s, {"values": 1.0})]),
    "vanishes": lambda s: vanishes(s, "identity"),
    "prove_positive": lambda s: prove_positive(s, [x], [(0, 1)], "inequality"),
    "prove_positive box": lambda s: prove_positive(x + 2, [x], [(s, 1)], "inequality"),
    "critical_points": lambda s: critical_points(s, [x]),
    "integrate": lambda s: bl.integrate(_double_well(), [[s, 1.0]], progress=False),
    "basin_map bounds": lambda s: bl.basin_map(_double_well(), "a", "c", ((s, 1), (0, 1))),
}


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
def test_public_functions_refuse_text_that_would_run(call, payload):
    with pytest.raises((TypeError, ValueError)):
        call(payload)


@pytest.mark.parametrize("name", models.names())
def test_catalogue_builders_refuse_text_that_would_run(name, payload):
    import inspect

    builder = getattr(models, name)
    for parameter in inspect.signature(builder).parameters.values():
        if parameter.default is inspect.Parameter.empty:
            continue
        with pytest.raises((TypeError, ValueError)):
            builder(**{parameter.name: payload})


def test_the_classify_repro_of_the_audit_is_refused_with_its_coordinate_named(payload):
    with pytest.raises(TypeError, match="coordinate 0"):
        bl.classify(bl.models.alignment_double_well(), [payload, 2])


def test_plain_decimal_text_is_read_exactly():
    assert parse_decimal("0.1", "x") == sp.Rational(1, 10)
    assert parse_decimal(" -2e-3 ", "x") == sp.Rational(-2, 1000)
    point = bl.classify(bl.models.alignment_double_well(bias=0.0), ["1", "2"])
    assert point.stable and point.exact
    assert models.deep_linear.learning_time("3", "0.1", "2.9") == pytest.approx(
        models.deep_linear.learning_time(3, 0.1, 2.9)
    )
    for text in ("1_0", "0x10", "inf", "nan", "1/2", "sqrt(2)", "", "2*x"):
        with pytest.raises(TypeError, match="plain decimal"):
            symbolic_value(text, "value")
    assert symbolic_value(np.float64(0.5), "v") == sp.Float(0.5)
    assert symbolic_value(np.array(3), "v") == 3
    with pytest.raises(TypeError):
        symbolic_value(True, "v")


def test_the_command_line_and_the_theory_read_one_decimal_grammar():
    # The command line keeps its own copy so that parsing loads no SymPy.
    assert _text.DECIMAL.pattern == DECIMAL.pattern


def test_no_module_passes_text_to_sympys_parsers():
    """Only theory/_values.py may call `sympify`, and then only on numbers; nothing
    calls `parse_expr`, `eval` or `exec`."""
    allowed = {("theory", "_values.py"), ("theory", "_expressions.py")}
    found = []
    for folder in ("basinlab", "theory", "simulations", "proofs"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "attr", getattr(node.func, "id", ""))
                strict = any(
                    k.arg == "strict" and getattr(k.value, "value", None) is True
                    for k in node.keywords
                )
                if name in ("parse_expr", "eval", "exec"):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}")
                elif name in ("sympify", "S") and not (
                    strict and (path.parent.name, path.name) in allowed
                ):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}")
    assert not found, found
