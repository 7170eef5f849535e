"""The registry of built-in models, by name."""

from __future__ import annotations

from collections.abc import Callable

from .._model import Model
from .._model_names import DEFAULT_MODEL, MODEL_NAMES, check_model_name
from .alignment_double_well import alignment_double_well
from .alignment_research_race import alignment_research_race
from .alignment_tilted_well import alignment_tilted_well
from .bistable_cycle import bistable_cycle
from .capability_race import capability_race
from .deep_linear import deep_linear_depth, deep_linear_mode, deep_linear_modes
from .henon_map import henon_map
from .linear_attention import linear_attention
from .logistic_map import logistic_map
from .lorenz84 import lorenz84
from .magnetic_pendulum import magnetic_pendulum
from .newton_cubic import newton_cubic
from .performative_prediction import performative_feedback, performative_prediction
from .retraining_moments import retraining_moments
from .reward_perceptron import reward_perceptron
from .survival_instinct import survival_instinct
from .teacher_student import teacher_student

_CATALOGUE: dict[str, Callable[[], Model]] = {
    "alignment_double_well": alignment_double_well,
    "alignment_research_race": alignment_research_race,
    "alignment_tilted_well": alignment_tilted_well,
    "bistable_cycle": bistable_cycle,
    "capability_race": capability_race,
    "deep_linear_mode": deep_linear_mode,
    "deep_linear_modes": deep_linear_modes,
    "deep_linear_depth": deep_linear_depth,
    "henon_map": henon_map,
    "linear_attention": linear_attention,
    "logistic_map": logistic_map,
    "lorenz84": lorenz84,
    "magnetic_pendulum": magnetic_pendulum,
    "newton_cubic": newton_cubic,
    "performative_feedback": performative_feedback,
    "performative_prediction": performative_prediction,
    "retraining_moments": retraining_moments,
    "reward_perceptron": reward_perceptron,
    "survival_instinct": survival_instinct,
    "teacher_student": teacher_student,
}


assert set(_CATALOGUE) == set(MODEL_NAMES), set(_CATALOGUE) ^ set(MODEL_NAMES)
assert DEFAULT_MODEL in MODEL_NAMES and list(MODEL_NAMES) == sorted(MODEL_NAMES)


def names() -> list[str]:
    """The names of the built-in models, sorted."""
    return list(MODEL_NAMES)


def build(name: str) -> Model:
    """Build a catalogue model with its default parameters.

    **Arguments:**

    - `name`: a name from [`basinlab.models.names`][]; dashes count as underscores.

    **Returns:**

    The [`basinlab.Model`][].

    **Raises:**

    - `ValueError`: there is no model of that name.
    """
    return _CATALOGUE[check_model_name(name)]()
