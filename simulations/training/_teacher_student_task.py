r"""The soft committee machine (Saad & Solla 1995) as a task to train many times: a
student that specialises to the teacher's units, or is still stuck on the
unspecialised plateau when its training budget ends."""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr
from jaxtyping import Array, Float, Int, PRNGKeyArray

from ...theory._checks import check_count, check_in_range, check_positive
from ...theory.models.teacher_student import ACTIVATIONS
from .._engine._trajectories import trajectories
from ._experiment import TIGHT
from ._teacher_student import (
    CommitteeMachine,
    error_from_overlaps,
    state_names,
    teacher_student_ode,
)
from ._training_task import TrainingTask


def specialisation(
    q: Float[Array, "*runs K K"], r: Float[Array, "*runs K M"]
) -> Float[Array, " *runs"]:
    r"""How far every student unit has specialised: $\min_i (R_{i(1)} - R_{i(2)}) /
    \sqrt{Q_{ii}}$, the gap between each unit's largest and second-largest overlap
    with a teacher unit (of unit norm), in units of its own norm. It is 0 on the
    symmetric plateau and 1 once each unit has become one teacher unit.
    """
    top = jnp.sort(r, axis=-1)
    gap = (top[..., -1] - top[..., -2]) / jnp.sqrt(jnp.diagonal(q, axis1=-2, axis2=-1))
    return jnp.min(gap, axis=-1)


class TeacherStudentTask(TrainingTask):
    r"""A two-layer student $\phi(x) = \sum_{i=1}^K g(w_i\cdot x/\sqrt N)$ learns a
    teacher of $M$ orthogonal units ($T = I$, second layers fixed at 1) by online SGD
    on one fresh Gaussian input per step, $w \leftarrow w - \eta\nabla_w\tfrac12(\phi
    - \phi^*)^2$: the first-layer setting of [`teacher_student_run`][], $\sigma =
    \kappa = 0$.

    Each run starts from $w_i =$ `initial_overlap` $\cdot\,w^*_{i \bmod M} +$
    `init_scale` $\cdot\,\xi_i$, so at finite $N$ its initial overlaps have a spread
    of order $N^{-1/2}$ that breaks the students' symmetry more or less. Logged: the
    order parameters $Q_{ik}$, $R_{in}$ (named as the ODE's state), $\epsilon_g$ from
    them, and [`specialisation`][]. The end state `specialised` holds when the
    specialisation is above `specialised_level` at the last step; otherwise the run
    is `unspecialised`: still on the plateau when its budget ended. The time on the
    plateau grows like the logarithm of the initial asymmetry (Saad & Solla 1995), so
    the share that escapes within a budget is a basin fraction over initialisations.
    """

    dim: int = eqx.field(static=True)
    students: int = eqx.field(static=True)
    teachers: int = eqx.field(static=True)
    activation: str = eqx.field(static=True)
    teacher_seed: int = eqx.field(static=True)
    eta: Float[Array, ""]
    init_scale: Float[Array, ""]
    initial_overlap: Float[Array, ""]
    specialised_level: Float[Array, ""]
    teacher: Float[Array, "M dim"]

    def __init__(
        self,
        *,
        dim: int = 200,
        students: int = 2,
        teachers: int = 2,
        eta: float = 1.0,
        activation: str = "erf",
        init_scale: float = 0.1,
        initial_overlap: float = 0.0,
        specialised_level: float = 0.5,
        teacher_seed: int = 0,
    ):
        check_count(dim, "dim", minimum=2)
        check_count(students, "students")
        check_count(teachers, "teachers", minimum=2)
        check_count(teacher_seed, "teacher_seed", minimum=0)
        if teachers > dim:
            raise ValueError(f"teachers = {teachers} must not exceed dim = {dim}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; known: {list(ACTIVATIONS)}")
        check_positive(eta, "eta")
        check_in_range(init_scale, "init_scale", 0.0, math.inf)
        check_in_range(initial_overlap, "initial_overlap", -math.inf, math.inf)
        check_in_range(specialised_level, "specialised_level", 0.0, 1.0)
        if init_scale == 0 and initial_overlap == 0:
            raise ValueError("the student must not start at w = 0: give init_scale")
        self.dim, self.students, self.teachers = dim, students, teachers
        self.activation, self.teacher_seed = activation, teacher_seed
        self.eta, self.init_scale = jnp.asarray(float(eta)), jnp.asarray(float(init_scale))
        self.initial_overlap = jnp.asarray(float(initial_overlap))
        self.specialised_level = jnp.asarray(float(specialised_level))
        key = jax.random.PRNGKey(teacher_seed)
        basis, _ = jnp.linalg.qr(jax.random.normal(key, (dim, teachers)))
        self.teacher = math.sqrt(dim) * basis.T

    @property
    def name(self) -> str:
        return "teacher_student"

    @property
    def headline(self) -> str:
        return "eps_g"

    @property
    def end_state_names(self) -> tuple[str, ...]:
        return ("specialised", "unspecialised")

    def settings(self) -> dict[str, object]:
        fixed = ("dim", "students", "teachers", "activation", "teacher_seed")
        dynamic = ("eta", "init_scale", "initial_overlap", "specialised_level")
        return {
            **{field: getattr(self, field) for field in fixed},
            **{field: getattr(self, field).item() for field in dynamic},
        }

    def _network(self, w: Float[Array, "K dim"]) -> CommitteeMachine:
        return CommitteeMachine(w, jnp.ones(self.students, w.dtype), self.activation)

    def init(self, key: PRNGKeyArray) -> Float[Array, "K dim"]:
        noise = jax.random.normal(key, (self.students, self.dim), self.teacher.dtype)
        units = self.teacher[jnp.arange(self.students) % self.teachers]
        return self.initial_overlap * units + self.init_scale * noise

    def _teacher_network(self) -> CommitteeMachine:
        ones = jnp.ones(self.teachers, self.teacher.dtype)
        return CommitteeMachine(self.teacher, ones, self.activation)

    def step(self, w: Float[Array, "K dim"], key: PRNGKeyArray, index: Array):
        x = jax.random.normal(key, (self.dim,), w.dtype)
        sample = (x[None], self._teacher_network()(x)[None])
        gradient = jax.grad(lambda w: self.sample_losses(w, sample)[0])(w)
        return w - self.eta * gradient

    def draw_samples(
        self, key: PRNGKeyArray, n: int
    ) -> tuple[Float[Array, "n dim"], Float[Array, " n"]]:
        """`n` Gaussian inputs and the teacher's outputs on them."""
        check_count(n, "n")
        inputs = jax.random.normal(key, (n, self.dim), self.teacher.dtype)
        return inputs, jax.vmap(self._teacher_network())(inputs)

    def sample_losses(
        self, w: Float[Array, "K dim"], samples: tuple[Float[Array, "n dim"], Float[Array, " n"]]
    ) -> Float[Array, " n"]:
        r"""$\tfrac12(\phi(x) - \phi^*(x))^2$ on each sample $(x, \phi^*(x))$."""
        inputs, labels = samples
        return (jax.vmap(self._network(w))(inputs) - labels) ** 2 / 2

    def _overlaps(self, q: Array, r: Array) -> dict[str, Array]:
        upper = np.triu_indices(self.students)
        values = [*q[..., upper[0], upper[1]].T, *r.reshape(*r.shape[:-2], -1).T]
        return dict(zip(state_names(self.students, self.teachers, False), values))

    def observe(self, w: Float[Array, "K dim"]):
        q, r = w @ w.T / self.dim, w @ self.teacher.T / self.dim
        identity = jnp.eye(self.teachers, dtype=w.dtype)
        error = error_from_overlaps(
            self.activation,
            q,
            r,
            identity,
            jnp.ones(self.students, w.dtype),
            jnp.ones(self.teachers, w.dtype),
            0.0,
        )
        return {
            **self._overlaps(q, r),
            "eps_g": error,
            "specialisation": specialisation(q, r),
        }

    def predicates(self, observed):
        return {"specialised": observed["specialisation"] > self.specialised_level}

    def end_state(self, observed):
        return jnp.where(observed["specialisation"] > self.specialised_level, 0, 1)

    def predict_end_states(self, record: xr.Dataset) -> Int[np.ndarray, " run"]:
        r"""Each run's end state by the ODE of [`basinlab.models.teacher_student`][]
        ($T = I$, first layer only, $\sigma = \kappa = 0$), integrated from the run's
        own order parameters at step 0 over $\alpha$ = steps$/N$; its specialisation at
        the end against `specialised_level`.

        **Arguments:**

        - `record`: a record of [`train_ensemble`][] of this task.

        **Returns:**

        0 (`specialised`) or 1 (`unspecialised`) for each run.
        """
        names = state_names(self.students, self.teachers, False)
        start = np.stack([record[name].values[:, 0] for name in names], axis=1)
        compiled = teacher_student_ode(self.students, self.teachers, self.activation)
        steps = int(record.attrs["steps"])
        params = {"eta": float(self.eta), "eta_v": 0.0, "sigma": 0.0, "kappa": 0.0}
        path = trajectories(compiled, start, [0.0, steps / self.dim], params=params, **TIGHT)
        final = path["y"].values[:, -1]
        k = self.students
        upper = np.triu_indices(k)
        q = np.zeros((final.shape[0], k, k))
        q[:, upper[0], upper[1]] = final[:, : upper[0].size]
        q = q + np.triu(q, 1).transpose(0, 2, 1)
        r = final[:, upper[0].size :].reshape(-1, k, self.teachers)
        level = float(self.specialised_level)
        return np.where(np.asarray(specialisation(q, r)) > level, 0, 1)
