"""The registry of claims: the built-in ones and any registered at run time."""

from __future__ import annotations

from collections.abc import Sequence

from ._claim import Claim, Verdict
from .claims import (
    alignment_double_well,
    alignment_research_race,
    bifurcations,
    bistable_cycle,
    capability_race,
    deep_linear,
    gradient_flow,
    learning_coefficient,
    linear_attention,
    performative_prediction,
    retraining,
    reward_perceptron,
    survival_instinct,
    teacher_student,
)

_REGISTERED: dict[str, Claim] = {}


def _builtin() -> list[Claim]:
    subjects = (
        gradient_flow,
        deep_linear,
        teacher_student,
        alignment_double_well,
        bifurcations,
        bistable_cycle,
        retraining,
        performative_prediction,
        alignment_research_race,
        capability_race,
        reward_perceptron,
        survival_instinct,
        linear_attention,
        learning_coefficient,
    )
    return [claim for subject in subjects for claim in subject.claims()]


def claims() -> list[Claim]:
    """All registered claims: the built-in ones, then those added by [`register`][]."""
    return [*_builtin(), *_REGISTERED.values()]


def register(claim: Claim) -> Claim:
    """Add a claim to the registry, so that `claims()` and `basinlab prove` list it.

    **Returns:**

    The claim.

    **Raises:**

    - `TypeError`: `claim` is not a [`Claim`][].
    - `ValueError`: a claim with its id is already registered.
    """
    if not isinstance(claim, Claim):
        raise TypeError(f"register takes a Claim, got {type(claim).__name__}")
    if claim.id in {c.id for c in claims()}:
        raise ValueError(f"a claim with id {claim.id!r} is already registered")
    _REGISTERED[claim.id] = claim
    return claim


def unregister(claim_id: str) -> None:
    """Remove a claim added by [`register`][].

    **Raises:**

    - `ValueError`: no claim with that id was registered at run time.
    """
    if _REGISTERED.pop(claim_id, None) is None:
        raise ValueError(f"no claim {claim_id!r} was registered at run time")


def check_claims(ids: Sequence[str] | None = None, timeout: float | None = None) -> list[Verdict]:
    """Check claims and return their verdicts, in registry order.

    **Arguments:**

    - `ids`: the claims to check, by id; all of them by default.
    - `timeout`: seconds per claim, overriding each claim's own limit.

    **Raises:**

    - `ValueError`: an id is not registered; the message lists the known ones.
    """
    everything = claims()
    if ids is None:
        chosen = everything
    else:
        known = {c.id: c for c in everything}
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise ValueError(f"unknown claim(s) {unknown}; the claims are {sorted(known)}")
        chosen = [known[i] for i in dict.fromkeys(ids)]
    return [claim.check(timeout) for claim in chosen]
