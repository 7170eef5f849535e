"""The bad-input corpus: what a new user gets wrong, through the command line and the
Python API. Each case names the error type and a fragment of its message; on the
command line each is one line on stderr, exit status 2, no traceback."""

import diffrax
import numpy as np
import numpyro.distributions as dist
import pytest
import sympy as sp
from _command_line import run_here

import basinlab as bl
from basinlab._output_folder import OutputFolder
from basinlab.simulations import LabelSettings, training

MODEL = "alignment_double_well"
INJECTION = "__import__('os').system('touch PWNED')"


def cli(arguments, cwd):
    # In this process: bad input is refused before any work, so a new interpreter per
    # case would be most of the cost. An exception that escaped the command line's
    # handling would fail the test here as it would reach the user there.
    return run_here(*arguments, cwd=cwd)


CLI_CASES = [
    (("analyze", "no_such_model"), "unknown model 'no_such_model'"),
    (("analyze", MODEL, "--param", "bias"), "malformed assignment 'bias'"),
    (("analyze", MODEL, "--param", "bias=high"), "'high' is not a number"),
    (("analyze", MODEL, "--param", "bias=nan"), "the value must be finite"),
    (("analyze", MODEL, "--param", "bias=-inf"), "the value must be finite"),
    (("analyze", MODEL, "--param", "temperature=1"), "no parameter 'temperature'"),
    (("analyze", MODEL, "--param", "bias=1_0"), "'1_0' is not a number"),
    (("analyze", MODEL, "--param", "bias=0x10"), "'0x10' is not a number"),
    (("analyze", MODEL, "--param", "bias=1", "--param", "bias=2"), "'bias' is given twice"),
    (("map", MODEL, "--x", "z"), "'z' is not a state"),
    (("map", MODEL, "--x", "a", "--y", "a"), "two different states"),
    (("map", MODEL, "--y", "a"), "two different states"),
    (("map", MODEL, "--resolution", "1"), "must be an integer of at least 2, got 1"),
    (("map", MODEL, "--resolution", "many"), "must be an integer, got 'many'"),
    (("map", MODEL, "--resolution", "1_0"), "must be an integer, got '1_0'"),
    (("map", MODEL, "--resolution", "2.5"), "must be an integer, got '2.5'"),
    (("map", MODEL, "--resolution", "10000000"), "10000000x10000000 map needs about"),
    (("map", MODEL, "--bounds", "1", "-1", "0", "1"), "empty or inverted"),
    (("map", MODEL, "--bounds", "0", "0", "0", "1"), "empty or inverted"),
    (("map", MODEL, "--bounds", "nan", "1", "0", "1"), "bounds must be finite"),
    (("map", MODEL, "--bounds", "-inf", "2", "-2", "2"), "bounds must be finite"),
    (("map", MODEL, "--bounds", "0", "1e400", "0", "1"), "bounds must be finite"),
    (("map", MODEL, "--bounds", "0", "1", "0"), "needs a low and a high for each of the 2"),
    (("map", MODEL, "--bounds", "0", "1_0", "0", "1"), "'1_0' is not a number"),
    (("map", MODEL, "--fixed", "a=1"), "cannot also be fixed"),
    (("map", MODEL, "--fixed", "z=1"), "'z' is not a state"),
    (("map", MODEL, "--fixed", "c=oops"), "'oops' is not a number"),
    (("map", MODEL, "--t1", "0"), "must be a positive finite number"),
    (("map", MODEL, "--t1", "-1e-3"), "must be a positive finite number"),
    (("map", MODEL, "--t1", "inf"), "must be a positive finite number"),
    (("map", "bistable_cycle", "--bounds", "0", "1"), "each of the 2 axes (x, y)"),
    (("fractions", MODEL, "--bounds", "0", "1"), "needs a low and a high for each of the 2"),
    (("fractions", MODEL, "--n", "0"), "must be a positive integer, got 0"),
    (("fractions", MODEL, "--n", "-5"), "must be a positive integer, got -5"),
    (("fractions", MODEL, "--n", "2.5"), "must be an integer, got '2.5'"),
    (("fractions", MODEL, "--n", "1000000000000000"), "samples needs about"),
    (("fractions", MODEL, "--seed", "99999999999999999999999"), "must lie in [0, 2**63)"),
    (("fractions", MODEL, "--seed", "-1"), "must lie in [0, 2**63)"),
    (("fractions", MODEL, "--seed", "1.5"), "must be an integer, got '1.5'"),
    (("fractions", MODEL, "--seed", "abc"), "must be an integer, got 'abc'"),
    (("demo", "--n", "0"), "must be a positive integer, got 0"),
    (("demo", "--resolution", "1"), "must be an integer of at least 2"),
    (("frobnicate",), "invalid choice"),
    (("prove", "--claim", "nope"), "unknown claim(s) ['nope']"),
    (("prove", "--timeout", "0"), "must be a positive finite number"),
    (("prove", "--timeout", "nan"), "must be a positive finite number"),
    (("calibrate", "nope"), "invalid choice: 'nope'"),
    (("calibrate", "teacher-student", "--seed", "-3"), "must lie in [0, 2**63)"),
    (("continue", MODEL, "--param", "bias=0:1:1000000000"), "1000000000 values of 2000 samples"),
    (("testbed", "sparse_linear", "--dim", "1"), "needs --dim of at least 3, got 1"),
    (("testbed", "linear", "--width", "10", "--heads", "3"), "--heads 3 must divide --width 10"),
    (("testbed", "linear", "--dim", "2000000"), "in d = 2000000 needs about"),
    (("testbed", "linear", "--width", "1000000"), "width-1000000, depth-3 transformer"),
    (("testbed", "linear", "--points", "10000000"), "prompts of 10000000 pairs"),
    (("testbed", "linear", "--batch", "1000000000"), "on 1000000000 prompts"),
    (("runs", "nope"), "invalid choice: 'nope'"),
    (("runs", "reward_perceptron", "--n", "0"), "must be a positive integer, got 0"),
    (("runs", "reward_perceptron", "--memory", "1e-9"), "cannot hold one batch of 16 runs"),
    (("runs", "reward_perceptron", "--set", "dmi=2"), "unknown setting 'dmi'"),
    (("runs", "reward_perceptron", "--set", "dim=2.5"), "dim must be a whole number"),
    (("runs", "reward_perceptron", "--set", "flip=2"), "flip"),
    (("runs", "reward_perceptron", "--set", "flip=half"), "flip: 'half' is not a number"),
    (("runs", "in_context_mixture", "--set", "order=sideways"), "unknown order 'sideways'"),
    (("runs", "in_context_mixture", "--set", "order=2"), "order must be text, got the number"),
    (("runs", "teacher_student", "--fluctuations"), "has no theory of its fluctuations"),
    (("runs", "reward_perceptron", "--steps", "0"), "must be a positive integer, got 0"),
    (
        ("fractions", MODEL, "--processes", "2", "--process-id", "2", "--coordinator", "h:1"),
        "process_id must lie in [0, 2) for 2 processes, got 2",
    ),
    (("runs", "reward_perceptron", "--processes", "2"), "give all of processes, process_id"),
    (("continue", MODEL, "--param", "bias=0:1:1_0"), "integer COUNT (not 1_0 or 0x10)"),
    (("continue", MODEL, "--param", "bias=0_5:1:10"), "plain decimal START and STOP"),
    (("continue", MODEL, "--param", "bias=0:0x1:10"), "plain decimal START and STOP"),
    (("attractors", MODEL), "has no search box: give --bounds"),
    (("attractors", "henon_map", "--bounds", "-2", "2"), "--bounds needs a low and a high"),
    (("attractors", "henon_map", "--cells", "0"), "--cells"),
    (("edge", "henon_map", "--from", "1", "--to", "0", "0"), "--from needs 2 finite numbers"),
]

# Every argument that is parsed gets a string that would run code if it were evaluated.
INJECTION_CASES = [
    (("analyze", INJECTION), "unknown model"),
    (("analyze", "$(touch PWNED)"), "unknown model"),
    (("analyze", MODEL, "--param", f"bias={INJECTION}"), "is not a number"),
    (("analyze", MODEL, "--param", f"{INJECTION}=1"), "malformed assignment"),
    (("analyze", MODEL, "--param", "bias=1; touch PWNED"), "is not a number"),
    (("map", MODEL, "--x", INJECTION), "is not a state"),
    (("map", MODEL, "--y", INJECTION), "is not a state"),
    (("map", MODEL, "--fixed", f"c={INJECTION}"), "is not a number"),
    (("map", MODEL, "--bounds", INJECTION, "1", "0", "1"), "is not a number"),
    (("map", MODEL, "--resolution", INJECTION), "must be an integer"),
    (("map", MODEL, "--t1", INJECTION), "is not a number"),
    (("fractions", MODEL, "--n", INJECTION), "must be an integer"),
    (("fractions", MODEL, "--seed", INJECTION), "must be an integer"),
    (("prove", "--claim", INJECTION), "unknown claim"),
    (("prove", "--timeout", INJECTION), "is not a number"),
    (("calibrate", INJECTION), "invalid choice"),
    (("runs", INJECTION), "invalid choice"),
    (("runs", "reward_perceptron", "--set", f"dim={INJECTION}"), "is not a number"),
    (("runs", "reward_perceptron", "--set", f"{INJECTION}=1"), "malformed assignment"),
    (
        ("fractions", MODEL, "--processes", "2", "--process-id", "1", "--coordinator", INJECTION),
        "the coordinator must be HOST:PORT",
    ),
    (("map", MODEL, "--processes", INJECTION), "must be an integer"),
    (("fractions", MODEL, "--join-timeout", INJECTION), "is not a number"),
]


def _assert_one_line_error(out, message):
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stderr.count("\n") == 1, out.stderr
    assert out.stderr.startswith("basinlab: error:"), out.stderr
    assert message in out.stderr, out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize("arguments, message", CLI_CASES + INJECTION_CASES)
def test_command_line_bad_input(arguments, message, tmp_path):
    writes = arguments[0] in (
        "map",
        "fractions",
        "continue",
        "demo",
        "calibrate",
        "testbed",
        "runs",
        "attractors",
        "edge",
    )
    out = cli([*arguments, *(["--out", "out"] if writes else [])], tmp_path)
    _assert_one_line_error(out, message)
    assert not (tmp_path / "PWNED").exists()
    assert not (tmp_path / "out").exists()  # refused before any work or any file


def test_empty_or_file_output_folder_is_refused(tmp_path):
    _assert_one_line_error(cli(["map", MODEL, "--out", ""], tmp_path), "--out must name a folder")
    (tmp_path / "taken").write_text("")
    out = cli(["fractions", MODEL, "--out", "taken"], tmp_path)
    _assert_one_line_error(out, "'taken' is a file, not a folder")


a, c = sp.symbols("a c")
f = sp.Function("f")
P0 = dist.Normal(np.zeros(2), 1.0)
TEMPERATURE = sp.Symbol("D", positive=True)
_PERCEPTRON = training.RewardPerceptronTask(dim=50)


def _region(model, params):
    class Region:
        label = "certified (test)"
        state = ("a", "c")

        def contains(self, points):
            return np.zeros(len(points), bool)

    region = Region()
    region.model, region.params = model, params
    return region


API_CASES = [
    (lambda: bl.Model("m", [a], ["a**2"]), TypeError, "not the string"),
    (
        lambda: bl.compile_model(bl.Model("m", [a], [f(a)])),
        ValueError,
        "undefined function(s) f(a)",
    ),
    (lambda: bl.fixed_points(bl.Model("m", [a], [f(a)])), ValueError, "not solved numerically"),
    (lambda: bl.Model("m", [a], [sp.zeta(a)]), ValueError, "zeta, which basinlab cannot compile"),
    (lambda: bl.Model("m", [a], [sp.I * a]), ValueError, "complex-valued"),
    (lambda: bl.Model("m", [a], [sp.Derivative(a**2, a)]), ValueError, "unevaluated Derivative"),
    (lambda: bl.Model("m", [a], [sp.Integral(a, a)]), ValueError, "unevaluated Integral"),
    (
        lambda: bl.Model("m", [sp.Symbol("z", imaginary=True)], [1]),
        ValueError,
        "declared not real",
    ),
    (lambda: bl.Model("no good", [a], [a]), ValueError, "must be an identifier"),
    (lambda: bl.Model("m", [], []), ValueError, "has no state symbols"),
    (lambda: bl.Model("m", [a], [a], units={"z": "m"}), ValueError, "'z', which is not a state"),
    (lambda: bl.Model.gradient_flow("a**2", [a]), TypeError, "not the string"),
    (
        lambda: bl.integrate(bl.Model.gradient_flow(f(a) ** 2, [a]), [[1.0]]),
        ValueError,
        "can be analysed symbolically but not compiled",
    ),
    (lambda: bl.fixed_points(bl.models.alignment_double_well(), seed=1.5), TypeError, "seed"),
    (lambda: bl.fixed_points(bl.models.alignment_double_well(), seed=-1), ValueError, "2**63"),
    (lambda: bl.fixed_points(bl.models.alignment_double_well(), n_seeds=0), ValueError, "n_seeds"),
    (lambda: bl.SolverSettings(solver=diffrax.Euler()), ValueError, "needs a fixed step"),
    (lambda: bl.SolverSettings(max_steps=0), ValueError, "max_steps must be a positive integer"),
    (lambda: bl.SolverSettings(pass_steps=2.5), ValueError, "pass_steps must be a positive"),
    (lambda: bl.SolverSettings(t1=True), ValueError, "t1 must be a positive finite"),
    (lambda: bl.SolverSettings(dt0=-1.0), ValueError, "dt0 must be a positive finite"),
    (lambda: LabelSettings(tail_samples=2), ValueError, "tail_samples must be at least 8"),
    (
        lambda: bl.basin_map(
            bl.models.alignment_double_well(), "a", "c", ((0, 1), (0, 1)), resolution=10**7
        ),
        ValueError,
        "10000000x10000000 map needs about",
    ),
    (
        lambda: bl.basin_map(
            bl.models.alignment_double_well(), "a", "c", ((0, 1), (0, 1)), resolution=(5,)
        ),
        ValueError,
        "one integer or one per axis",
    ),
    (
        lambda: bl.basin_map(bl.models.alignment_double_well(), "a", None, ((0, 1), (0, 1))),
        ValueError,
        r"bounds must be ((x_low, x_high),)",
    ),
    (
        lambda: bl.basin_map(
            bl.Model("m", [sp.Symbol("fraction"), c], [-c, -c]), "fraction", "c", ((0, 1),) * 2
        ),
        ValueError,
        "'fraction' is reserved",
    ),
    (lambda: bl.basin_fractions(bl.models.bistable_cycle(), P0, seed=1.5), TypeError, "integer"),
    (lambda: bl.basin_fractions(bl.models.bistable_cycle(), P0, seed="abc"), TypeError, "abc"),
    (lambda: bl.basin_fractions(bl.models.bistable_cycle(), P0, seed=None), TypeError, "None"),
    (lambda: bl.basin_fractions(bl.models.bistable_cycle(), P0, seed=True), TypeError, "True"),
    (lambda: bl.basin_fractions(bl.models.bistable_cycle(), P0, seed=2**70), ValueError, "2**63"),
    (lambda: bl.basin_fractions(bl.models.bistable_cycle(), P0, seed=-1), ValueError, "2**63"),
    (lambda: bl.basin_fractions(bl.models.bistable_cycle(), P0, n=2.0), ValueError, "positive"),
    (
        lambda: bl.basin_fractions(bl.models.bistable_cycle(), P0, n=10**15),
        ValueError,
        "1000000000000000 samples needs about",
    ),
    (
        lambda: bl.basin_fractions(bl.models.bistable_cycle(), dist.Normal(0.0, 1.0)),
        ValueError,
        r"draw states of shape (2,)",
    ),
    (
        lambda: bl.models.alignment_double_well().with_noise(bl.Noise.diagonal([0.1] * 3)),
        ValueError,
        "has 3 rows but the state has 2",
    ),
    (
        lambda: bl.models.alignment_double_well().with_noise(bl.Noise.isotropic(-0.1, 2)),
        ValueError,
        "complex-valued",
    ),
    (
        lambda: bl.escape_times(
            bl.models.alignment_double_well().with_noise(
                bl.Noise.isotropic(TEMPERATURE, 2), {TEMPERATURE: 0.1}
            ),
            (1.0, 2.0),
            n=4,
            params={"D": -0.1},
            progress=False,
        ),
        ValueError,
        "is a temperature or a variance negative?",
    ),
    (
        lambda: bl.eyring_kramers(
            bl.models.alignment_double_well(), (1, 2), (sp.Rational(1, 5), sp.Rational(6, 5)), -1
        ),
        ValueError,
        "must be positive",
    ),
    (
        lambda: bl.models.newton_cubic().with_noise(bl.Noise.isotropic(0.1, 2)),
        ValueError,
        "noise is for flows (SDEs) only",
    ),
    (
        lambda: bl.escape_times(bl.models.newton_cubic(), (1.0, 0.0), n=4, progress=False),
        ValueError,
        "escape_times is for SDEs, and model 'newton_cubic' is a map",
    ),
    (
        lambda: bl.transition_probabilities(bl.models.newton_cubic(), P0, t1=1.0, progress=False),
        ValueError,
        "transition_probabilities is for SDEs",
    ),
    (
        lambda: bl.escape_times(bl.models.alignment_double_well(), (1.0, 2.0), progress=False),
        ValueError,
        "escape_times needs noise",
    ),
    (lambda: bl.load("no/such/file.nc"), FileNotFoundError, "no result file"),
    (lambda: bl.save({"not": "a dataset"}, "x.nc"), TypeError, "xarray.Dataset"),
    (lambda: OutputFolder(""), ValueError, "must name a folder"),
    (
        lambda: bl.integrate(bl.models.alignment_double_well(), [[0.0, 0.0]], settings={"t1": 5}),
        TypeError,
        "settings must be a SolverSettings, got dict",
    ),
    (
        lambda: bl.integrate(bl.models.alignment_double_well(), [[0.0, 0.0]], t_final=5),
        TypeError,
        "'t_final' is not a field of SolverSettings",
    ),
    (
        lambda: bl.basin_fractions(bl.models.bistable_cycle(), P0, n=8, labels={"match_tol": 1}),
        TypeError,
        "labels must be a LabelSettings",
    ),
    (lambda: OutputFolder("   "), ValueError, "must name a folder"),
    (
        lambda: training.minimal_fine_tuning_shock(
            _PERCEPTRON, np.ones(50), np.zeros((1, 50)), steps=10, log_every=10
        ),
        ValueError,
        "a direction has zero length",
    ),
    (
        lambda: training.minimal_fine_tuning_shock(
            _PERCEPTRON, np.ones(50), np.ones((1, 40)), steps=10, log_every=10
        ),
        ValueError,
        "directions must be rows shaped as the weights (50,)",
    ),
    (
        lambda: training.weight_plane_map(
            _PERCEPTRON,
            np.zeros(50),
            (np.ones(50), np.ones(3)),
            [0.0],
            [0.0],
            steps=10,
            log_every=10,
        ),
        ValueError,
        "origin and directions must share one shape",
    ),
    (
        lambda: training.ensemble_fractions(bl.models.alignment_double_well()),
        ValueError,
        "expected a record of train_ensemble",
    ),
    (
        lambda: training.RewardPerceptronTask(init_scale=0.0, initial_overlap=0.0),
        ValueError,
        "must not start at w = 0",
    ),
    (lambda: training.TeacherStudentTask(teachers=1), ValueError, "teachers must be"),
    (lambda: training.TeacherStudentTask(activation="tanh"), ValueError, "unknown activation"),
    (lambda: training.InContextMixtureTask(fraction=1.5), ValueError, "fraction"),
    (lambda: training.training_task("nope", {}), ValueError, "unknown training task 'nope'"),
]


@pytest.mark.parametrize(
    "call, error, message", API_CASES, ids=[f"api{i}" for i in range(len(API_CASES))]
)
def test_api_bad_input(call, error, message):
    with pytest.raises(error) as raised:
        call()
    assert message in str(raised.value)


@pytest.fixture(scope="module")
def basin_map():
    model = bl.models.alignment_double_well()
    return bl.basin_map(model, "a", "c", ((-2, 2), (-1, 3)), resolution=8, progress=False)


@pytest.mark.parametrize(
    "region, message",
    [
        (_region("bistable_cycle", {"rotation": 1.0}), "region of model 'bistable_cycle'"),
        (_region(MODEL, {"bias": 0.5, "coupling": 1.0}), "certified at parameters"),
        (object(), "needs a contains(points) method"),
    ],
)
def test_plot_refuses_a_region_of_another_model_or_other_parameters(basin_map, region, message):
    with pytest.raises(ValueError) as raised:
        bl.plot_basin_map(basin_map, regions=[region])
    assert message in str(raised.value)


def test_the_corpus_is_large():
    assert len(CLI_CASES) + len(INJECTION_CASES) + len(API_CASES) >= 60
