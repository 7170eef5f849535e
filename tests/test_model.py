import pytest
import sympy as sp

import basinlab as bl

a, c, k, q = sp.symbols("a c k q")


def test_gradient_flow_is_minus_the_gradient_and_keeps_the_loss():
    loss = (a**2 - 1) ** 2 + k * c**2
    model = bl.Model.gradient_flow(loss, [a, c], {k: 0.5}, predicates={"aligned": a > 0})
    # The plain symbols a, c, k are replaced by real ones of the same names.
    ra, rc, rk = (sp.Symbol(s.name, real=True) for s in (a, c, k))
    real_loss = loss.xreplace({a: ra, c: rc, k: rk})
    assert model.state == [ra, rc] and model.params == {rk: 0.5}
    assert model.loss == real_loss
    assert model.observables["loss"] == real_loss
    expected = sp.Matrix([-sp.diff(real_loss, ra), -sp.diff(real_loss, rc)])
    assert sp.simplify(model.vector_field - expected) == sp.zeros(2, 1)
    assert model.state_names == ["a", "c"]
    assert sp.simplify(bl.hessian(model) + bl.jacobian(model)) == sp.zeros(2, 2)


def test_symbols_that_are_already_real_are_kept():
    x = sp.Symbol("x", positive=True)
    model = bl.Model("m", [x], [-x])
    assert model.state[0] is x and model.vector_field[0] == -x


def test_abs_sign_and_piecewise_of_plain_symbols_differentiate_as_real():
    model = bl.Model.gradient_flow(sp.Abs(a) + sp.Piecewise((c**2, c > 0), (-c, True)), [a, c])
    ra, rc = model.state
    assert model.vector_field[0] == -sp.sign(ra)
    assert model.vector_field[1] == -sp.Piecewise((2 * rc, rc > 0), (-1, True))
    # re() of a real symbol is the symbol, so |z|^2 of z = a + ic is a real polynomial.
    z = a + sp.I * c
    ring = bl.Model.gradient_flow(sp.re(z**2) ** 2 + sp.Abs(z) ** 2, [a, c])
    assert all(component.is_polynomial(*ring.state) for component in ring.vector_field)
    assert not any(component.has(sp.I) for component in ring.vector_field)


def test_dimension_mismatch_is_named():
    with pytest.raises(ValueError, match="2 components but the state has 3"):
        bl.Model("m", [a, c, q], [a, c])


def test_stray_symbol_is_named():
    with pytest.raises(ValueError, match=r"component 1 .* \['q'\]"):
        bl.Model("m", [a, c], [a, c * q], {k: 1.0})
    with pytest.raises(ValueError, match=r"predicate 'good' .* \['q'\]"):
        bl.Model("m", [a, c], [a, c], predicates={"good": q > 0})


def test_name_used_twice_is_named():
    with pytest.raises(ValueError, match=r"\['a'\] twice"):
        bl.Model("m", [a, c], [a, c], {sp.Symbol("a"): 1.0})
    with pytest.raises(ValueError, match="both a predicate and an observable"):
        bl.Model("m", [a], [a], predicates={"x": a > 0}, observables={"x": a})


def test_strings_are_not_parsed_as_expressions():
    with pytest.raises(TypeError, match="not the string"):
        bl.Model("m", [a], ["a**2"])


def test_defaults_must_be_finite_reals():
    with pytest.raises(ValueError, match="finite"):
        bl.Model("m", [a], [k * a], {k: float("nan")})
    with pytest.raises(TypeError, match="real number"):
        bl.Model("m", [a], [k * a], {k: "1"})


def test_unknown_parameter_is_named_with_the_known_ones():
    model = bl.models.alignment_double_well()
    with pytest.raises(
        ValueError, match=r"no parameter 'temperature' \(its parameters: bias, coupling\)"
    ):
        model.resolve_params({"temperature": 1.0})
    assert model.resolve_params({"bias": 0.5})[sp.Symbol("bias", real=True)] == 0.5


def test_catalogue_names_and_unknown_model():
    assert "alignment_double_well" in bl.models.names()
    assert bl.models.build("alignment-double-well").name == "alignment_double_well"
    with pytest.raises(ValueError, match="unknown model 'nope'"):
        bl.models.build("nope")


def test_theory_does_not_import_jax():
    import subprocess
    import sys

    code = "import sys, basinlab.theory; print('jax' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_search_box_and_default_slice_are_checked():
    with pytest.raises(ValueError, match="search_box"):
        bl.Model("m", [a, c], [a, c], search_box=[(0, 1)])
    with pytest.raises(ValueError, match="search_box"):
        bl.Model("m", [a, c], [a, c], search_box=[(0, 1), (2, 1)])
    with pytest.raises(ValueError, match=r"lacks: \['z'\]"):
        bl.Model("m", [a, c], [a, c], default_slice={"x": "a", "y": "z"})
    with pytest.raises(ValueError, match="takes x, y"):
        bl.Model("m", [a, c], [a, c], default_slice={"x": "a", "y": "c", "colour": "red"})
    model = bl.Model("m", [a, c], [-a, -c], search_box=[(0, 1), (-1, 1)])
    assert bl.fixed_points(model, timeout=None)[0].location == (0, 0)
