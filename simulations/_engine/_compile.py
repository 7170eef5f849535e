"""Compile a SymPy model into JAX functions."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import sympy as sp
from jaxtyping import Array, Bool, Float
from sympy.printing.numpy import JaxPrinter

from ...theory import MAP, Model
from ...theory._expressions import code_symbols
from ...theory._values import symbolic_value

# basinlab checks accuracy claims in float64, so JAX's 64-bit mode is switched on when
# basinlab.simulations is imported. Pass `dtype=jnp.float32` to compile_model to
# compute in float32 instead (faster on GPUs, about 7 significant digits).
jax.config.update("jax_enable_x64", True)


class _Printer(JaxPrinter):
    """SymPy's JAX printer, with the special functions it prints as `math.*` (which
    fail on traced arrays) printed through `jax.scipy.special`."""

    def _print_erf(self, expr):
        return f"jax.scipy.special.erf({self._print(expr.args[0])})"

    def _print_erfc(self, expr):
        return f"jax.scipy.special.erfc({self._print(expr.args[0])})"

    def _print_gamma(self, expr):
        return f"jax.scipy.special.gamma({self._print(expr.args[0])})"

    def _print_loggamma(self, expr):
        return f"jax.scipy.special.gammaln({self._print(expr.args[0])})"

    def _nested(self, function: str, arguments) -> str:
        first, *rest = (self._print(a) for a in arguments)
        for argument in rest:
            first = f"{function}({first}, {argument})"
        return first

    # SymPy prints these through functools.reduce, which the generated code lacks.
    def _print_Max(self, expr):
        return self._nested("jax.numpy.maximum", expr.args)

    def _print_Min(self, expr):
        return self._nested("jax.numpy.minimum", expr.args)


def _lambdify(model: Model, expressions: list[sp.Basic]) -> Callable:
    names = code_symbols(model.state, model.param_symbols)
    return sp.lambdify(
        list(names.values()),
        [symbolic_value(e, "expression").xreplace(names) for e in expressions],
        modules=[{"jax": jax}, "jax"],
        printer=_Printer,
        cse=_cse,
    )


def _cse(expressions: list[sp.Basic]):
    # SymPy's default canonical ordering and optimisations cost minutes on the
    # teacher-student fields and buy nothing that XLA does not do again.
    return sp.cse(expressions, order="none", list=True)


def _truth(expression: sp.Basic) -> sp.Basic:
    """A predicate as a relation: a real expression holds where it is positive."""
    if isinstance(expression, sp.logic.boolalg.Boolean):
        return expression
    return sp.StrictGreaterThan(expression, 0)


class CompiledModel(eqx.Module):
    r"""A model as JAX functions $f(t, y, p)$ (or a map's $F$), $\partial f/\partial y$
    and predicates.

    Parameters are passed as a vector `p` in the order of `param_names`, so a sweep
    can `vmap` over it. Build one with [`basinlab.compile_model`][].

    **Fields:**

    - `model`: the symbolic [`basinlab.Model`][].
    - `name`, `state_names`, `param_names`, `predicate_names`, `observable_names`:
      from the model.
    - `dtype`: the floating-point type of states and parameters.
    - `kind`: `"flow"` or `"map"`; for a map, `vector_field` evaluates $F$.
    - `noise_shape`: `(n, m)`, the shape of the diffusion matrix $g$ of an SDE
      (m Brownian motions); `None` without noise.
    - `additive_noise`: whether $g$ is the same at every state (then solvers of
      higher strong order apply).
    """

    model: Model = eqx.field(static=True)
    name: str = eqx.field(static=True)
    state_names: tuple[str, ...] = eqx.field(static=True)
    param_names: tuple[str, ...] = eqx.field(static=True)
    predicate_names: tuple[str, ...] = eqx.field(static=True)
    observable_names: tuple[str, ...] = eqx.field(static=True)
    dtype: type = eqx.field(static=True)
    kind: str = eqx.field(static=True)
    noise_shape: tuple[int, int] | None = eqx.field(static=True)
    additive_noise: bool = eqx.field(static=True)
    _field: Callable = eqx.field(static=True)
    _predicates: Callable = eqx.field(static=True)
    _observables: Callable = eqx.field(static=True)
    _noise: Callable | None = eqx.field(static=True)
    _noise_is_covariance: bool = eqx.field(static=True)

    def __check_init__(self):
        assert self.state_names == tuple(self.model.state_names)
        assert self.param_names == tuple(self.model.param_names)

    def _arguments(self, y: Float[Array, " n"], p: Float[Array, " m"]) -> list:
        return [y[i] for i in range(len(self.state_names))] + [
            p[i] for i in range(len(self.param_names))
        ]

    def vector_field(
        self, t: Float[Array, ""], y: Float[Array, " n"], p: Float[Array, " m"]
    ) -> Float[Array, " n"]:
        """$f(t, y; p)$ for one state; `t` is unused by autonomous models."""
        del t
        values = self._field(*self._arguments(y, p))
        return jnp.stack([jnp.broadcast_to(jnp.asarray(v, self.dtype), ()) for v in values])

    def diffusion(
        self, t: Float[Array, ""], y: Float[Array, " n"], p: Float[Array, " m"]
    ) -> Float[Array, "n k"]:
        r"""The diffusion matrix $g(y)$ of an SDE $dy = f\,dt + g\,dW$. Noise given by a
        covariance $\Sigma$ gets $g = \Sigma_+^{1/2}$, the symmetric square root of
        its positive part (eigenvalues below 0 set to 0).

        **Raises:**

        - `ValueError`: the model has no noise.
        """
        del t
        if self._noise is None:
            raise ValueError(f"model {self.name!r} has no noise")
        entries = self._noise(*self._arguments(y, p))  # row by row
        flat = jnp.stack([jnp.broadcast_to(jnp.asarray(v, self.dtype), ()) for v in entries])
        matrix = flat.reshape(self.noise_shape)
        if not self._noise_is_covariance:
            return matrix
        values, vectors = jnp.linalg.eigh((matrix + matrix.T) / 2)
        return (vectors * jnp.sqrt(jnp.clip(values, 0.0))) @ vectors.T

    def rest_residual(
        self, t: Float[Array, ""], y: Float[Array, " n"], p: Float[Array, " m"]
    ) -> Float[Array, " n"]:
        """What vanishes at a rest point: $f(y)$ for a flow, $F(y) - y$ for a map."""
        value = self.vector_field(t, y, p)
        return value - y if self.kind == MAP else value

    def jacobian(
        self, t: Float[Array, ""], y: Float[Array, " n"], p: Float[Array, " m"]
    ) -> Float[Array, "n n"]:
        """The Jacobian $\\partial f / \\partial y$ at one state, by forward-mode
        autodiff of the compiled field (exact up to rounding; the symbolic Jacobian is
        `basinlab.jacobian`, whose expansion costs minutes on large models)."""
        return jax.jacfwd(self.vector_field, argnums=1)(t, y, p)

    def predicates(self, y: Float[Array, " n"], p: Float[Array, " m"]) -> Bool[Array, " k"]:
        """Each predicate, in the order of `predicate_names`, at one state."""
        if not self.predicate_names:
            return jnp.zeros((0,), bool)
        values = self._predicates(*self._arguments(y, p))
        return jnp.stack([jnp.broadcast_to(jnp.asarray(v, bool), ()) for v in values])

    def observables(self, y: Float[Array, " n"], p: Float[Array, " m"]) -> Float[Array, " k"]:
        """Each observable, in the order of `observable_names`, at one state."""
        if not self.observable_names:
            return jnp.zeros((0,), self.dtype)
        values = self._observables(*self._arguments(y, p))
        return jnp.stack([jnp.broadcast_to(jnp.asarray(v, self.dtype), ()) for v in values])

    def param_vector(self, overrides: Mapping[str, float] | None = None) -> Float[Array, " m"]:
        """The default parameters with `overrides` (by name) applied, as a vector.

        **Raises:**

        - `ValueError`: a name is not a parameter of the model, or a value is not
          finite.
        """
        values = self.model.resolve_params(overrides)
        return jnp.asarray(np.array(list(values.values()), dtype=float), self.dtype)


def compile_model(model: Model, dtype: type = jnp.float64) -> CompiledModel:
    r"""Compile a model's vector field, Jacobian, predicates and observables into JAX.

    The expressions are turned into Python functions over `jax.numpy` with SymPy's
    `lambdify`, after common-subexpression elimination. The Jacobian is taken by
    forward-mode autodiff of the compiled field.

    **Arguments:**

    - `model`: the [`basinlab.Model`][].
    - `dtype`: `jnp.float64` (default; accuracy claims are checked in it) or
      `jnp.float32`.

    **Returns:**

    A [`basinlab.simulations.CompiledModel`][].

    **Raises:**

    - `ValueError`: `dtype` is not a floating-point type, or the model holds an
      undefined function.
    """
    if dtype not in (jnp.float32, jnp.float64):
        raise ValueError(f"dtype must be jnp.float32 or jnp.float64, got {dtype}")
    model.require_numeric("compiled")
    predicates = [_truth(e) for e in model.predicates.values()]
    noise = model.noise
    return CompiledModel(
        model=model,
        name=model.name,
        state_names=tuple(model.state_names),
        param_names=tuple(model.param_names),
        predicate_names=tuple(model.predicates),
        observable_names=tuple(model.observables),
        dtype=dtype,
        kind=model.kind,
        noise_shape=None if noise is None else (model.dim, noise.brownian_dimension),
        additive_noise=noise is not None
        and not (noise.expressions.free_symbols & set(model.state)),
        _field=_lambdify(model, list(model.vector_field)),
        _predicates=_lambdify(model, predicates),
        _observables=_lambdify(model, list(model.observables.values())),
        _noise=None if noise is None else _lambdify(model, list(noise.expressions)),
        _noise_is_covariance=noise is not None and noise.covariance is not None,
    )


# Compiled models by symbolic model, so that calls with the same Model reuse one
# CompiledModel, whose identity keys JAX's caches of every solver traced for it.
_COMPILED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _compiled_parts(model: Model) -> tuple:
    """What `compile_model` reads from a model: a Model changed in place after it was
    compiled (its attributes are public) is compiled again."""
    noise = model.noise
    return (
        model.name,
        model.kind,
        tuple(model.state),
        tuple(model.params),
        tuple(model.vector_field),
        tuple(model.predicates.items()),
        tuple(model.observables.items()),
        None if noise is None else (tuple(noise.expressions), noise.covariance is None),
    )


def cached_compile(model: Model) -> CompiledModel:
    """[`compile_model`][] in float64, once per model: a later call with the same
    (unchanged) `Model` object returns the same `CompiledModel`, so the solvers JAX
    compiled for it are reused instead of traced and compiled again."""
    parts = _compiled_parts(model)
    cached = _COMPILED.get(model)
    if cached is None or cached[0] != parts:
        cached = (parts, compile_model(model))
        _COMPILED[model] = cached
    return cached[1]
