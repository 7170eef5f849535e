"""The training tasks of the command line, with defaults that show a basin."""

from __future__ import annotations

import inspect
from collections.abc import Mapping

from ._ensemble import TrainingTask
from ._reward_perceptron_task import RewardPerceptronTask
from ._teacher_student_task import TeacherStudentTask

# name: (task class, settings overriding the class's defaults, default steps per dim).
_TASKS: dict[str, tuple[type[TrainingTask], dict[str, float], int]] = {
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
        20,
    ),
    "teacher_student": (
        TeacherStudentTask,
        # About half of the runs leave the plateau within alpha = 60 at N = 200.
        {"dim": 200},
        60,
    ),
}

TRAINING_TASKS = tuple(_TASKS)


def training_task(name: str, overrides: Mapping[str, float]) -> tuple[TrainingTask, int]:
    """A task of the command line by name, with its defaults and `overrides`.

    **Arguments:**

    - `name`: one of `TRAINING_TASKS`.
    - `overrides`: settings by name; integer settings must be given whole numbers.

    **Returns:**

    The task and its default number of steps.

    **Raises:**

    - `ValueError`: an unknown task or setting, a fractional value for an integer
      setting, or a value the task refuses.
    """
    if name not in _TASKS:
        raise ValueError(f"unknown training task {name!r}; the tasks are {list(_TASKS)}")
    cls, defaults, steps_per_dim = _TASKS[name]
    signature = inspect.signature(cls.__init__).parameters
    settings = dict(defaults)
    for key, value in overrides.items():
        if key not in signature or key == "self":
            known = [k for k in signature if k != "self"]
            raise ValueError(f"unknown setting {key!r} of {name}; its settings are {known}")
        if isinstance(signature[key].default, int):
            if value != int(value):
                raise ValueError(f"{key} must be a whole number, got {value!r}")
            value = int(value)
        settings[key] = value
    task = cls(**settings)
    return task, steps_per_dim * int(settings.get("dim", signature["dim"].default))
