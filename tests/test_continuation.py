"""Continuation with matched attractors, exact bifurcations, and their agreement."""

import jax.numpy as jnp
import numpy as np
import numpyro.distributions as dist
import pytest
import sympy as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import basinlab as bl
from basinlab._cli import main
from basinlab.simulations._basin._attractors import Attractor
from basinlab.simulations._basin._matching import match_attractors
from basinlab.theory.models.alignment_tilted_well import tilted_well_fold

BOX = dist.Uniform(jnp.array([-2.0, -2.0]), jnp.array([2.0, 4.0])).to_event(1)


def aligned_fractions(result):
    aligned = [
        i for i in result["attractor"].values if np.nanmax(result["location"].values[:, i, 0]) > 0.5
    ]
    assert len(aligned) == 1
    return result["fraction"].values[:, aligned[0]]


@pytest.mark.parametrize("direction", [1, -1], ids=["up", "down"])
def test_the_aligned_fraction_vanishes_at_the_exact_fold_from_either_side(direction):
    fold, _ = tilted_well_fold()
    exact = [b for b in bl.bifurcations(bl.models.alignment_tilted_well(), "bias") if b.numeric > 0]
    assert len(exact) == 1 and exact[0].kind == "fold"
    assert sp.simplify(exact[0].value - fold) == 0
    step = 0.01
    values = float(fold) + step * np.array([-3.5, -2.5, -1.5, -0.5, 0.5, 1.5, 2.5])
    result = bl.continuation(
        bl.models.alignment_tilted_well(), "bias", values[::direction], BOX, n=1500, progress=False
    )
    fractions = aligned_fractions(result)[::direction]
    below = values < float(fold)
    assert np.all(fractions[below] > 0.1)
    assert np.all(fractions[~below] == 0)
    # Two stable attractors below the fold, one above (a run that stops on the nearly
    # flat saddle next to the fold is an outcome too, but not a stable one).
    stable = np.isin(result["attractor_kind"].values, ["stable node", "stable focus"])
    present = result["present"].values[::direction][:, stable]
    assert present.sum(axis=1).tolist() == [2] * below.sum() + [1] * (~below).sum()


def test_an_attractor_that_returns_after_a_fold_keeps_its_id():
    # 0 -> 0.6 -> 0 across the fold at 2 sqrt(3)/9 = 0.385 and back: the aligned minimum
    # vanishes and returns, and must come back under the ID it had.
    values = [0.0, 0.3, 0.6, 0.3, 0.0]
    result = bl.continuation(
        bl.models.alignment_tilted_well(), "bias", values, BOX, n=600, progress=False
    )
    present = result["present"].values
    assert result.sizes["attractor"] == 2, result["attractor_name"].values
    aligned = int(np.argmax(np.nanmax(result["location"].values[:, :, 0], axis=0)))
    assert present[:, aligned].tolist() == [True, True, False, True, True]
    np.testing.assert_allclose(result["fraction"].values[0], result["fraction"].values[-1])


def test_the_default_models_aligned_attractor_persists_through_its_transcritical_point():
    points = bl.bifurcations(bl.models.alignment_double_well(), "bias", (0, 2))
    assert [(p.kind, p.value) for p in points] == [("transcritical", 1)]
    result = bl.continuation(
        bl.models.alignment_double_well(), "bias", [0.6, 0.9, 1.1, 1.4], BOX, n=800, progress=False
    )
    assert np.all(aligned_fractions(result) > 0)
    # One ID for the aligned attractor all along, though it moves from a = 1 to a = b.
    assert result.sizes["attractor"] == 2
    assert result["location"].values[-1, :, 0].max() == pytest.approx(1.4, abs=1e-3)


def test_fractions_and_intervals_are_consistent():
    result = bl.continuation(
        bl.models.alignment_tilted_well(), "bias", [0.0, 0.2], BOX, n=600, progress=False
    )
    total = result["fraction"].sum("attractor") + result["diverged"] + result["unconverged"]
    assert np.allclose(total, 1.0)
    assert np.all(result["fraction_low"] <= result["fraction"])
    assert np.all(result["fraction"] <= result["fraction_high"])
    # Common random numbers: the starts are the same at every value.
    again = bl.continuation(
        bl.models.alignment_tilted_well(), "bias", [0.2], BOX, n=600, progress=False
    )
    assert again["count"].values[0].tolist() == result["count"].values[1].tolist()


def attractor(location):
    location = np.asarray(location, float)
    return Attractor("a", "stable node", location, np.zeros_like(location), {})


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.floats(-5, 5), st.floats(-5, 5)), min_size=1, max_size=6, unique=True),
    st.randoms(use_true_random=False),
    st.floats(0, 0.01),
)
def test_matched_ids_do_not_depend_on_the_order_of_the_attractors(locations, random, shift):
    # Distinct attractors of one result are farther apart than the labelling's
    # tolerance (1e-3), or they would be one attractor.
    gaps = [
        np.max(np.abs(np.subtract(a, b))) / (1 + max(map(abs, (*a, *b))))
        for i, a in enumerate(locations)
        for b in locations[i + 1 :]
    ]
    assume(not gaps or min(gaps) > 1e-3)
    previous = [(10 + i, attractor(loc)) for i, loc in enumerate(locations)]
    current = [attractor(np.add(loc, shift)) for loc in locations]
    ids = match_attractors(previous, current, threshold=0.25)
    order = list(range(len(current)))
    random.shuffle(order)
    shuffled = match_attractors(previous, [current[k] for k in order], threshold=0.25)
    assert [ids[k] for k in order] == shuffled
    # Every attractor that moved by less than every gap keeps its own ID.
    if not gaps or min(gaps) > 2 * shift + 1e-9:
        assert ids == [10 + i for i in range(len(locations))]


def test_an_attractor_beyond_the_threshold_is_new():
    previous = [(0, attractor([0.0, 0.0]))]
    assert match_attractors(previous, [attractor([3.0, 0.0])], threshold=0.25) == [None]
    assert match_attractors(previous, [attractor([0.1, 0.0])], threshold=0.25) == [0]


def test_exact_bifurcations_of_the_normal_forms():
    x, y, mu = sp.symbols("x y mu", real=True)
    cases = {
        "fold": [mu - x**2],
        "transcritical": [mu * x - x**2],
        "pitchfork": [mu * x - x**3],
    }
    for kind, field in cases.items():
        found = bl.bifurcations(bl.Model(kind, [x], field, {mu: 0.0}), "mu")
        assert [(b.kind, b.value, b.location) for b in found] == [(kind, 0, (0,))]
    hopf = bl.Model(
        "hopf",
        [x, y],
        [mu * x - y - x * (x**2 + y**2), x + mu * y - y * (x**2 + y**2)],
        {mu: 0.0},
    )
    assert [(b.kind, b.value) for b in bl.bifurcations(hopf, "mu")] == [("Hopf", 0)]
    logistic = [(b.kind, b.value) for b in bl.bifurcations(bl.models.logistic_map(), "r")]
    assert logistic == [("transcritical", 1), ("period doubling", 3)]


def test_bifurcations_refuse_what_they_cannot_solve():
    x, mu = sp.symbols("x mu", real=True)
    with pytest.raises(ValueError, match="not polynomial"):
        bl.bifurcations(bl.Model("m", [x], [mu - sp.exp(x)], {mu: 0.0}), "mu")
    with pytest.raises(ValueError, match="not a parameter"):
        bl.bifurcations(bl.models.alignment_tilted_well(), "nope")
    with pytest.raises(ValueError, match="low < high"):
        bl.bifurcations(bl.models.alignment_tilted_well(), "bias", (1, 0))


@pytest.mark.parametrize(
    "values, message",
    [([], "non-empty"), ([0.1, float("nan")], "finite"), ([[0.1]], "non-empty")],
)
def test_continuation_refuses_bad_values(values, message):
    with pytest.raises(ValueError, match=message):
        bl.continuation(bl.models.alignment_tilted_well(), "bias", values, BOX, progress=False)


def test_continuation_refuses_a_fixed_or_unknown_parameter():
    model = bl.models.alignment_tilted_well()
    with pytest.raises(ValueError, match="not a parameter"):
        bl.continuation(model, "nope", [0.1], BOX, progress=False)
    with pytest.raises(ValueError, match="varied"):
        bl.continuation(model, "bias", [0.1], BOX, params={"bias": 0.2}, progress=False)


def test_command_line_continuation_writes_and_resumes(tmp_path, capsys):
    arguments = ["continue", "alignment_tilted_well", "--param", "bias=0.3:0.45:4"]
    arguments += ["--n", "300", "--out", str(tmp_path), "--no-progress"]
    assert main(arguments) == 0
    first = bl.load(tmp_path / "alignment_tilted_well_continuation.nc")
    assert (tmp_path / "alignment_tilted_well_continuation.png").is_file()
    assert "fold at bias = 2*sqrt(3)/9" in capsys.readouterr().out
    assert main(arguments) == 0
    second = bl.load(tmp_path / "alignment_tilted_well_continuation.nc")
    assert np.array_equal(first["count"].values, second["count"].values)


@pytest.mark.parametrize(
    "text, message",
    [
        ("bias=1:0:5", "empty or inverted"),
        ("bias=0:0:5", "empty or inverted"),
        ("bias=0:1", "NAME=START:STOP:COUNT"),
        ("bias=0:1:1", "at least 2"),
        ("bias=0:inf:3", "finite"),
    ],
)
def test_command_line_refuses_bad_ranges(tmp_path, capsys, text, message):
    code = main(["continue", "alignment_tilted_well", "--param", text, "--out", str(tmp_path)])
    error = capsys.readouterr().err
    assert code == 2 and message in error and error.count("\n") == 1


@pytest.mark.parametrize("match", ["overlap", "enclosure"])
def test_basin_matchers_follow_a_moving_attractor_that_distance_loses(match):
    # The aligned minimum moves from a = 1 to a = 1.4 in steps too long for a tight
    # distance threshold; its basin keeps overlapping, and holds its next position.
    values = [0.6, 0.9, 1.1, 1.4]
    model = bl.models.alignment_double_well()
    by_distance = bl.continuation(model, "bias", values, BOX, n=600, threshold=0.01, progress=False)
    assert by_distance.sizes["attractor"] > 2
    result = bl.continuation(model, "bias", values, BOX, n=600, match=match, progress=False)
    assert result.sizes["attractor"] == 2
    assert result["present"].values.all()
    assert result["location"].values[-1, :, 0].max() == pytest.approx(1.4, abs=1e-3)


@pytest.mark.parametrize("match", ["overlap", "enclosure"])
def test_a_vanished_attractor_never_gives_its_id_to_a_new_one(match):
    values = [0.0, 0.3, 0.6, 0.3]
    result = bl.continuation(
        bl.models.alignment_tilted_well(), "bias", values, BOX, n=600, match=match, progress=False
    )
    present = result["present"].values
    assert result.sizes["attractor"] == 3, result["attractor_name"].values
    assert sorted(present.T.tolist()) == sorted(
        [[True] * 4, [True, True, False, False], [False, False, False, True]]
    )


def test_continuation_refuses_an_unknown_matcher():
    with pytest.raises(ValueError, match="match must be one of"):
        bl.continuation(bl.models.alignment_double_well(), "bias", [0.5], BOX, n=10, match="name")
