"""The training tasks of the command line, with defaults that show a basin."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping

from ._in_context_mixture_task import InContextMixtureTask
from ._reward_perceptron_task import RewardPerceptronTask
from ._teacher_student_task import TeacherStudentTask
from ._training_task import TrainingTask

# name: (task class, settings overriding the class's defaults, default steps).
_TASKS: dict[str, tuple[type[TrainingTask], dict[str, float], Callable[[dict], int]]] = {
    "reward_perceptron": (
        RewardPerceptronTask,
        # T = 5 with a penalty is bistable: stuck below an initial cosine of about 0.62.
        {
            "dim": 200,
            "episode_length": 5,
            "penalty": 0.8,
            "initial_overlap": 0.62,
            "init_scale": 0.78,
        },
        lambda settings: 20 * settings["dim"],
    ),
    "teacher_student": (
        TeacherStudentTask,
        # About half of the runs leave the plateau within alpha = 60 at N = 200.
        {"dim": 200},
        lambda settings: 60 * settings["dim"],
    ),
    "in_context_mixture": (
        InContextMixtureTask,
        {"dim": 2, "width": 32, "batch": 64, "learning_rate": 3e-3, "fraction": 0.3},
        lambda settings: 2000,
    ),
}

TRAINING_TASKS = tuple(_TASKS)


def training_task(
    name: str, overrides: Mapping[str, float | str], steps: int | None = None
) -> tuple[TrainingTask, int]:
    """A task of the command line by name, with its defaults and `overrides`.

    A task that lays its schedule out over `planned_steps` gets the run's steps there
    unless `overrides` sets it.

    **Arguments:**

    - `name`: one of `TRAINING_TASKS`.
    - `overrides`: settings by name: text for a setting whose default is text (the
      task checks it), numbers for the others, whole numbers for integer settings.
    - `steps`: the steps of each run, or `None` for the task's default.

    **Returns:**

    The task and the steps of each run.

    **Raises:**

    - `ValueError`: an unknown task or setting, text for a number or a number for
      text, a fractional value for an integer setting, or a value the task refuses.
    """
    if name not in _TASKS:
        raise ValueError(f"unknown training task {name!r}; the tasks are {list(_TASKS)}")
    cls, defaults, default_steps = _TASKS[name]
    signature = {k: p for k, p in inspect.signature(cls.__init__).parameters.items() if k != "self"}
    settings = dict(defaults)
    for key, value in overrides.items():
        if key not in signature:
            raise ValueError(
                f"unknown setting {key!r} of {name}; its settings are {list(signature)}"
            )
        if isinstance(signature[key].default, str):
            if not isinstance(value, str):
                raise ValueError(f"{key} must be text, got the number {value!r}")
            settings[key] = value
            continue
        if isinstance(value, str):
            raise ValueError(f"{key}: {value!r} is not a number")
        if isinstance(signature[key].default, int) or key in ("points",):
            if value != int(value):
                raise ValueError(f"{key} must be a whole number, got {value!r}")
            value = int(value)
        settings[key] = value
    full = {k: p.default for k, p in signature.items()} | settings
    steps = default_steps(full) if steps is None else steps
    if "planned_steps" in signature and "planned_steps" not in overrides:
        settings["planned_steps"] = steps
    return cls(**settings), steps
