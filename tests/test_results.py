import hypothesis
import hypothesis.strategies as st
import matplotlib
import numpy as np
import pytest
import scipy.stats
import xarray as xr

import basinlab as bl
from basinlab.simulations import wilson_interval

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def basin_map():
    model = bl.models.alignment_double_well()
    return bl.basin_map(model, "a", "c", ((-2, 2), (-1, 3)), resolution=24, progress=False)


def test_save_load_round_trips_exactly(basin_map, tmp_path):
    path = bl.save(basin_map, tmp_path / "sub" / "map.nc")
    loaded = bl.load(path)
    xr.testing.assert_identical(loaded, basin_map)
    for key in ("model", "params", "solver", "rtol", "atol", "versions", "equations"):
        assert loaded.attrs[key] == basin_map.attrs[key]


def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        bl.load(tmp_path / "missing.nc")
    (tmp_path / "junk.nc").write_text("not netcdf")
    with pytest.raises(bl.ResultFileError, match=r"junk\.nc is not a readable NetCDF"):
        bl.load(tmp_path / "junk.nc")


def test_plot_names_attractors_and_marks_fixed_points(basin_map):
    _, ax = bl.plot_basin_map(basin_map)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("stable node (1, 2) [aligned]" in t for t in labels)
    assert any(t.startswith("A0: stable node (-1, 0):") for t in labels)
    assert "saddle" in labels
    marked = np.concatenate([c.get_offsets() for c in ax.collections])
    np.testing.assert_allclose(sorted(map(tuple, marked)), [(-1, 0), (0.2, 1.2), (1, 2)])
    with pytest.raises(ValueError, match="basin_map"):
        bl.plot_basin_map(basin_map.assign_attrs(kind="basin_fractions"))


@hypothesis.given(
    trials=st.integers(1, 5000),
    share=st.floats(0, 1),
    confidence=st.sampled_from([0.5, 0.9, 0.95, 0.99]),
)
def test_wilson_interval_matches_scipy(trials, share, confidence):
    # An independent implementation: SciPy's binomtest(...).proportion_ci("wilson").
    k = round(share * trials)
    low, high = wilson_interval(k, trials, confidence)
    reference = scipy.stats.binomtest(k, trials).proportion_ci(confidence, method="wilson")
    np.testing.assert_allclose([low, high], [reference.low, reference.high], atol=1e-12)


def test_wilson_interval_closed_forms():
    z = 1.959963984540054
    low, high = wilson_interval(0, 100)
    assert low == 0 and high == pytest.approx(z**2 / (100 + z**2))
    low, high = wilson_interval(np.array([3, 97]), 100)
    assert low[0] == pytest.approx(1 - high[1]) and high[0] == pytest.approx(1 - low[1])
    # For k = n/2 the interval is 1/2 +- z / (2 sqrt(n + z^2)).
    low, high = wilson_interval(50, 100)
    assert 0.5 - low == pytest.approx(z / (2 * np.sqrt(100 + z**2)))
    assert high - 0.5 == pytest.approx(z / (2 * np.sqrt(100 + z**2)))
    with pytest.raises(ValueError):
        wilson_interval(5, 4)
