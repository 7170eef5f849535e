"""Theory against experiment: the matching theory run at a real run's settings."""

from __future__ import annotations

from collections.abc import Callable

import xarray as xr

from ._deep_linear import deep_linear_theory
from ._linear_attention import linear_attention_theory
from ._reward_perceptron import reward_perceptron_theory
from ._teacher_student import teacher_student_theory

# Each experiment's comparison lives with its run; this is the index by the run's
# `experiment` attr.
_COMPARISONS: dict[str, Callable[..., xr.Dataset]] = {
    "teacher_student": teacher_student_theory,
    "deep_linear": deep_linear_theory,
    "reward_perceptron": reward_perceptron_theory,
    "linear_attention": linear_attention_theory,
}


def compare_with_theory(run: xr.Dataset, **options) -> xr.Dataset:
    """Run the theory matching a real run and return both, with their distance.

    The run's `experiment` attr picks the comparison that lives with its run:
    [`teacher_student_theory`][], [`deep_linear_theory`][],
    [`reward_perceptron_theory`][] or [`linear_attention_theory`][]. `options` go to
    it (only [`deep_linear_theory`][] takes any: `low`, `high`, `tie`).

    **Raises:**

    - `ValueError`: a dataset that is not a run of a known experiment.
    """
    experiment = run.attrs.get("experiment") if isinstance(run, xr.Dataset) else None
    if experiment not in _COMPARISONS:
        raise ValueError(f"not a training run of a known experiment: {experiment!r}")
    return _COMPARISONS[experiment](run, **options)
