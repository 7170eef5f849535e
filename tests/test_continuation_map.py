"""Two-parameter continuation against the exact cusp: where each attractor appears
or vanishes on the grid must be where the exact fold curve crosses it."""

import matplotlib
import numpy as np
import numpyro.distributions as dist
import pytest
import sympy as sp

import basinlab as bl

matplotlib.use("Agg")


def _cusp():
    x = sp.Symbol("x", real=True)
    mu, nu = sp.symbols("mu nu", real=True)
    return bl.Model("cusp", [x], [mu + nu * x - x**3], params={mu: 0.0, nu: 1.0})


def test_attractors_appear_and_vanish_on_the_exact_fold_curves():
    model = _cusp()
    mus, nus = np.linspace(-1.2, 1.2, 9), np.array([0.75, 1.5, 2.25])
    result = bl.continuation_map(
        model, "mu", mus, "nu", nus, dist.Uniform(-3.0, 3.0).expand([1]), n=200, progress=False
    )
    # The folds of x' = mu + nu x - x^3: 27 mu^2 = 4 nu^3.
    curves = bl.bifurcation_curves(model, "mu", "nu", nus)
    assert set(curves) == {"fold"}
    for mu_fold, nu in curves["fold"]:
        assert abs(mu_fold) == pytest.approx(2 * (nu / 3) ** 1.5, rel=1e-9)
    assert result.sizes["attractor"] == 2
    step = mus[1] - mus[0]
    for row, nu in enumerate(nus):
        folds = [m for m, v in curves["fold"] if v == nu]
        for k in range(2):
            present = result["present"].values[row, :, k]
            switches = np.flatnonzero(np.diff(present.astype(int)))
            assert len(switches) <= 1
            for s in switches:
                # The switch lies between two grid columns; an exact fold lies there.
                assert any(mus[s] <= m <= mus[s] + step for m in folds), (nu, k, mus[s], folds)
        # Inside the cusp both attractors exist; outside only one.
        inside = np.abs(mus) < 2 * (nu / 3) ** 1.5
        both = result["present"].values[row].all(axis=1)
        np.testing.assert_array_equal(both, inside)
    _, ax = bl.plot_continuation_map(result, 0, curves)
    assert ax.get_xlabel() == "mu" and ax.get_ylabel() == "nu"


def test_the_map_refuses_bad_requests():
    model, box = _cusp(), dist.Uniform(-3.0, 3.0).expand([1])
    with pytest.raises(ValueError, match="must be different"):
        bl.continuation_map(model, "mu", [0.0], "mu", [1.0], box, n=10, progress=False)
    with pytest.raises(ValueError, match="not a parameter"):
        bl.continuation_map(model, "mu", [0.0], "sigma", [1.0], box, n=10, progress=False)
    with pytest.raises(ValueError, match="match must be one of"):
        bl.continuation_map(model, "mu", [0.0], "nu", [1.0], box, n=10, match="x", progress=False)


def test_a_curve_through_the_cusp_loses_an_attractor_where_it_crosses_the_fold():
    # Along mu = t, nu = 1 + t the fold 27 mu^2 = 4 nu^3 is crossed where
    # 4 (1 + t)^3 - 27 t^2 = 0.
    model, box = _cusp(), dist.Uniform(-3.0, 3.0).expand([1])
    t = np.linspace(-0.4, 0.4, 9)
    result = bl.continuation_along(model, {"mu": t, "nu": 1 + t}, box, n=200, progress=False)
    np.testing.assert_allclose(result["curve_nu"].values, 1 + t)
    roots = np.roots([4, 12 - 27, 12, 4])
    crossings = [r.real for r in roots if abs(r.imag) < 1e-12 and -0.4 < r.real < 0.4]
    present = result["present"].values
    switches = [np.flatnonzero(np.diff(present[:, k].astype(int))) for k in range(present.shape[1])]
    found = [t[s] + (t[1] - t[0]) / 2 for each in switches for s in each]
    assert len(found) == len(crossings) >= 1
    for where in found:
        assert min(abs(where - c) for c in crossings) <= (t[1] - t[0]) / 2
    # A curve along one axis is the one-parameter continuation, sample for sample.
    line = bl.continuation_along(
        model, {"mu": t, "nu": np.full(9, 1.5)}, box, n=200, progress=False
    )
    plain = bl.continuation(model, "mu", t, box, n=200, params={"nu": 1.5}, progress=False)
    np.testing.assert_array_equal(line["count"].values, plain["count"].values)
