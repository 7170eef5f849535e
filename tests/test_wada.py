"""The Wada test against basins known to be Wada (Newton's method for z^3 - 1) and
known not to be (three wells in a row)."""

import numpy as np
import pytest
import sympy as sp

import basinlab as bl


def test_newtons_basins_for_the_cube_roots_of_unity_are_wada():
    newton = bl.basin_map(bl.models.newton_cubic(), "x", "y", ((-1.5, 1.5), (-1.5, 1.5)), 200)
    found = bl.wada_test(newton)
    assert found.verdict == "Wada"
    assert len(found.outcomes) == 3
    # A tighter dilation sees less of the shared boundary, never more.
    assert bl.wada_test(newton, radius=1).wada_share <= found.wada_share
    # The grid method runs new starts in every boundary box: all show the 3 basins
    # but a few, which further halvings would split too.
    grid = bl.wada_test(newton, method="grid", model=bl.models.newton_cubic(), refinements=4)
    assert grid.verdict == "Wada" and grid.method == "grid"
    assert grid.grid_shares[0] == 0 and grid.grid_shares[2] > 0.97


def test_three_wells_in_a_row_are_not_wada():
    x, y = sp.symbols("x y", real=True)
    # Minima at x = -1, 0, 1: the outer basins never meet.
    model = bl.Model.gradient_flow((x**2 - 1) ** 2 * x**2 / 4 + y**2 / 2, [x, y])
    row = bl.basin_map(model, "x", "y", ((-2, 2), (-2, 2)), 80)
    found = bl.wada_test(row)
    assert found.verdict == "not Wada"
    assert found.wada_share == 0.0
    # However finely its boxes are refined, no boundary box shows all three.
    grid = bl.wada_test(row, method="grid", model=model, refinements=3)
    assert grid.verdict == "not Wada"
    np.testing.assert_array_equal(grid.grid_shares, [0.0, 1.0, 0.0])
    # The outer basins' boundaries are the two barriers x = -1/sqrt(3) and 1/sqrt(3)
    # (where V' = x (x^2 - 1)(3 x^2 - 1) / 2 vanishes), 2/sqrt(3) apart.
    left, right = (
        np.flatnonzero(found.outcomes == row["label"].sel(x=v, y=0, method="nearest").item())[0]
        for v in (-1, 1)
    )
    spacing = 4 / 79
    assert found.distances[left, right] == pytest.approx(2 / np.sqrt(3) / spacing, abs=1.5)


def test_two_basins_cannot_be_wada_and_bad_requests_are_refused():
    two = bl.basin_map(bl.models.alignment_double_well(), "a", "c", ((-2, 2), (-2, 4)), 40)
    assert bl.wada_test(two).verdict == "fewer than three basins"
    with pytest.raises(ValueError, match="basin_map"):
        bl.wada_test(two.drop_attrs())
    with pytest.raises(ValueError, match="radius"):
        bl.wada_test(two, radius=0)
    with pytest.raises(ValueError, match="share"):
        bl.wada_test(two, share=1.5)
    with pytest.raises(ValueError, match="needs the map's model"):
        bl.wada_test(two, method="grid", model=bl.models.newton_cubic())
    with pytest.raises(ValueError, match="method must be"):
        bl.wada_test(two, method="boxes")
