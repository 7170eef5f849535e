"""The names of the built-in models: data only, so that the command line checks a name
without loading SymPy. `_catalogue` asserts that they are the names it builds."""

from __future__ import annotations

DEFAULT_MODEL = "alignment_double_well"

MODEL_NAMES = (
    "alignment_double_well",
    "alignment_research_race",
    "alignment_tilted_well",
    "bistable_cycle",
    "capability_race",
    "deep_linear_depth",
    "deep_linear_mode",
    "deep_linear_modes",
    "henon_map",
    "linear_attention",
    "logistic_map",
    "lorenz84",
    "magnetic_pendulum",
    "newton_cubic",
    "performative_feedback",
    "performative_prediction",
    "retraining_moments",
    "reward_perceptron",
    "survival_instinct",
    "teacher_student",
)


def check_model_name(name: object) -> str:
    """The catalogue key of `name` (dashes count as underscores).

    **Raises:**

    - `ValueError`: there is no built-in model of that name; the message lists them.
    """
    key = str(name).replace("-", "_")
    if key not in MODEL_NAMES:
        raise ValueError(f"unknown model {name!r}; the built-in models are {list(MODEL_NAMES)}")
    return key
