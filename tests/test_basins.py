import numpy as np
import numpyro.distributions as dist
import pytest
from hypothesis import given
from hypothesis import strategies as st

import basinlab as bl
from basinlab.simulations import LIMIT_CYCLE, label_attractors

MODEL = bl.models.alignment_double_well()
COMPILED = bl.compile_model(MODEL)  # compiled once, so property tests reuse one jit
SETTINGS = bl.SolverSettings()


def test_mirror_symmetric_double_well_splits_in_half():
    # With bias 0 the loss is symmetric under (a, c) -> (-a, 2 - c), and so is p0.
    p0 = dist.Uniform(np.array([-2.0, -1.0]), np.array([2.0, 3.0])).to_event(1)
    result = bl.basin_fractions(
        COMPILED, p0, n=4000, seed=0, params={"bias": 0.0, "coupling": 1.0}, progress=False
    )
    stable = result["outcome_label"].values >= 0
    assert stable.sum() == 2
    for low, high in zip(
        result["fraction_low"].values[stable], result["fraction_high"].values[stable]
    ):
        assert low <= 0.5 <= high
    assert result["count"].values[~stable].sum() == 0


@given(
    bias=st.floats(-0.8, 0.8),
    coupling=st.floats(-2.0, 2.0),
    side=st.sampled_from([-1, 1]),
    angle=st.floats(0, 2 * np.pi),
    radius=st.floats(0, 0.02),
)
def test_starts_next_to_a_stable_point_get_its_label(bias, coupling, side, angle, radius):
    params = {"bias": bias, "coupling": coupling}
    points = bl.fixed_points(MODEL, params=params)
    target = next(i for i, p in enumerate(points) if p.stable and p.numeric[0] == side)
    centre = np.array(points[target].numeric)
    offsets = radius * np.array(
        [[np.cos(angle + t), np.sin(angle + t)] for t in np.linspace(0, 6, 8)]
    )
    final = bl.integrate(
        COMPILED, centre + offsets, params=params, settings=SETTINGS, progress=False
    )
    labels, attractors = label_attractors(
        COMPILED, COMPILED.param_vector(params), final, points, settings=SETTINGS
    )
    assert attractors[labels[0]].location.tolist() == list(centre)
    assert np.all(labels == labels[0])
    assert attractors[labels[0]].predicates["aligned"] == (side == 1)


def test_limit_cycle_and_fixed_point_are_both_found():
    model = bl.models.bistable_cycle()
    p0 = dist.Uniform(np.array([-3.0, -3.0]), np.array([3.0, 3.0])).to_event(1)
    result = bl.basin_fractions(model, p0, n=1500, seed=0, progress=False, t1=60.0)
    kinds = result["attractor_kind"].values.tolist()
    assert kinds == ["stable focus", LIMIT_CYCLE]
    np.testing.assert_allclose(result["attractor_extent"].values[1], [2.0, 2.0], atol=0.02)
    # The basin of the origin is the unit disc: area pi of the 36 sampled.
    assert result["fraction_low"].values[0] <= np.pi / 36 <= result["fraction_high"].values[0]
    inside = np.sum(result["y0"].values ** 2, axis=1) < 1
    np.testing.assert_array_equal(result["label"].values == 0, inside)
    assert result["attractor_holds"].values[:, 0].tolist() == [True, False]


def test_basin_map_grid_and_labels():
    result = bl.basin_map(
        COMPILED, "a", "c", ((-2, 2), (-1, 3)), resolution=(21, 11), progress=False
    )
    assert result["label"].dims == ("c", "a") and result["label"].shape == (11, 21)
    assert result["fraction"].sum() == pytest.approx(1.0)
    aligned = result["label"].values == 1
    # Well right of the saddle (and above the tilted boundary) everything is aligned;
    # far to the left nothing is.
    right = aligned[np.ix_(result["c"].values >= 0.5, result["a"].values > 1.5)]
    assert right.size and np.all(right)
    assert not np.any(aligned[:, result["a"].values < -1.5])
    assert result["predicate_fraction"].values[0] == pytest.approx(aligned.mean())


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(x="z"), r"'z' is not a state .* \['a', 'c'\]"),
        (dict(x="c", y="c"), "two different states"),
        (dict(resolution=1), "at least 2"),
        (dict(bounds=((1, -1), (0, 1))), "empty or inverted"),
        (dict(bounds=((0, 0), (0, 1))), "empty or inverted"),
        (dict(bounds=((0, 1),)), "bounds must be"),
        (dict(bounds=((0, np.inf), (0, 1))), "finite"),
        (dict(params={"bogus": 1.0}), "no parameter 'bogus'"),
    ],
)
def test_bad_slice_input(kwargs, message):
    arguments = dict(x="a", y="c", bounds=((-2, 2), (-1, 3)), resolution=4, progress=False)
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        bl.basin_map(COMPILED, **arguments)


def test_bad_initial_distribution():
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        bl.basin_fractions(COMPILED, dist.Normal(0.0, 1.0), n=10)
    with pytest.raises(TypeError, match="numpyro distribution"):
        bl.basin_fractions(COMPILED, np.zeros(2), n=10)
    with pytest.raises(ValueError, match="positive integer"):
        bl.basin_fractions(COMPILED, dist.Normal(np.zeros(2), 1.0), n=0)
    with pytest.raises(ValueError, match="not finite"):
        bl.basin_fractions(COMPILED, dist.Normal(np.zeros(2), np.inf), n=10)
