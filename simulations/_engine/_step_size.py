"""A step-size controller whose state carries the next step, so a solve can resume."""

from __future__ import annotations

from collections.abc import Callable

import diffrax as dfx
from jaxtyping import Array, Float, PyTree


class CarriedStepSize(dfx.AbstractAdaptiveStepSizeController):
    """An adaptive controller that remembers the step it would take next.

    It wraps a [`diffrax.PIDController`][] and adds the next step size to the
    controller state. Ensembles are integrated in passes of a few steps each; with
    `SaveAt(controller_state=True)` a pass returns that step, and the next pass starts
    from it (as `dt0`) instead of from a guess, so a trajectory whose field is large
    keeps the small steps it found rather than re-finding them, or stalling, at every
    pass.

    The wrapped controller is an integral controller (`pcoeff = dcoeff = 0`), whose
    own state does not influence the step; only the step needs carrying.

    **Fields:**

    - `controller`: the wrapped PID controller.
    """

    controller: dfx.PIDController

    def __check_init__(self):
        assert self.controller.pcoeff == 0 and self.controller.dcoeff == 0, (
            "only an integral controller keeps no memory beyond the step size"
        )

    @property
    def rtol(self):
        return self.controller.rtol

    @property
    def atol(self):
        return self.controller.atol

    @property
    def norm(self) -> Callable[[PyTree], Float[Array, ""]]:
        return self.controller.norm

    def wrap(self, direction):
        return CarriedStepSize(self.controller.wrap(direction))

    def init(self, terms, t0, t1, y0, dt0, args, func, error_order):
        tnext, state = self.controller.init(terms, t0, t1, y0, dt0, args, func, error_order)
        return tnext, (state, tnext - t0)

    def adapt_step_size(
        self, t0, t1, y0, y1_candidate, args, y_error, error_order, controller_state
    ):
        inner, _ = controller_state
        keep, next_t0, next_t1, made_jump, inner, result = self.controller.adapt_step_size(
            t0, t1, y0, y1_candidate, args, y_error, error_order, inner
        )
        return keep, next_t0, next_t1, made_jump, (inner, next_t1 - next_t0), result
