"""The symbolic model of a training process: state, parameters, vector field."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from numbers import Real

import sympy as sp

from ._expressions import as_expression, checked, real_symbols, undefined_functions
from ._noise import Noise

ParamKey = sp.Symbol | str
FLOW = "flow"
MAP = "map"


def _finite_real(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, Real | sp.Number):
        raise TypeError(f"{what} must be a real number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{what} must be finite, got {number}")
    return number


class Model:
    r"""A training process written symbolically: a flow $\dot x = f(x; p)$, possibly
    with noise, $dx = f\,dt + g\,dW$, or a map $x_{k+1} = F(x_k; p)$.

    A model holds state symbols $x \in \mathbb{R}^n$, parameter symbols $p$ with
    default values, the right-hand side ($f$ of a flow, $F$ of a map) as a SymPy
    column `Matrix` in `vector_field`, and optional named *predicates* (expressions
    of the state, such as `"aligned"`) and *observables* (such as `"loss"`). A
    predicate holds at a point when it is a true relation there or, for a real-valued
    expression, when it is positive there.

    Use [`basinlab.Model.gradient_flow`][] for $f = -\nabla L$ and
    [`basinlab.Model.iterated_map`][] for rounds of an update (retraining, Newton's
    method). The *rest points* are the zeros of `rest_field()`: $f(x) = 0$ for a flow,
    $F(x) = x$ for a map.

    States and parameters are real: a symbol given without the `real` assumption is
    replaced, everywhere in the model, by a real symbol of the same name, so
    `model.state` may hold other (equal-named) symbols than those passed in. Refer to
    states and parameters by name, or take the symbols from `model.state` and
    `model.params`. Expressions may use the functions in
    `basinlab.theory.SUPPORTED_FUNCTIONS`, each of which compiles to JAX.

    **Arguments:**

    - `name`: a short identifier, used in results and on the command line.
    - `state`: the state symbols, in order.
    - `vector_field`: $f$, a SymPy `Matrix` or a sequence with one entry per state.
    - `params`: a mapping from parameter symbol to its default value.
    - `predicates`: a mapping from name to a SymPy expression or relation.
    - `observables`: a mapping from name to a SymPy expression.
    - `loss`: the loss $L$ when the model is a gradient flow, else `None`.
    - `description`: one paragraph for people, shown by `basinlab models`.
    - `search_box`: where the states live, one `(low, high)` per state: where the
      numeric fixed-point search looks and the default window of maps. Models whose
      field is defined on part of state space only (overlaps with $Q_{ii} > -1/2$)
      should give it.
    - `default_slice`: the 2-D slice a map shows by default: `x`, `y` (state names),
      and optionally `bounds` and `fixed` (values of the other states), as for
      [`basinlab.basin_map`][].
    - `units`: the unit of each state, by name, for axis labels; states not named
      here are dimensionless. Maps of two states with the same unit are drawn with
      equal aspect.
    - `kind`: `"flow"` (continuous time, the default) or `"map"` (discrete time).
    - `noise`: a [`basinlab.Noise`][] for an SDE (flows only); basins are those of the
      deterministic part, and noise enters escape times and transition probabilities.
    - `domain`: relations of the states (and parameters) that hold wherever the field
      is defined, such as `Q > 0` and `S**2 <= Q` for an overlap $S/\sqrt Q$ inside
      an arccosine. Numeric searches (fixed points, their isolation test) stay
      inside it; a trajectory that leaves it is `DIVERGED`, because its field stops
      being finite.

    **Raises:**

    - `TypeError`: an argument has the wrong type (a string in place of an expression,
      a non-symbol state, a non-numeric default).
    - `ValueError`: the dimensions disagree, a name is used twice, a default is not
      finite, an expression has a free symbol that is neither a state nor a
      parameter, calls a function outside `SUPPORTED_FUNCTIONS`, holds an
      unevaluated derivative or integral, or is complex-valued. The message names
      the culprit. (An undefined function, `Function('L')(x)`, is accepted as a
      stand-in for an arbitrary function: such a model serves symbolic identities,
      and numerical work on it is refused, naming the function.)
    """

    def __init__(
        self,
        name: str,
        state: Iterable[sp.Symbol],
        vector_field: sp.Matrix | Iterable[object],
        params: Mapping[sp.Symbol, float] | None = None,
        predicates: Mapping[str, object] | None = None,
        observables: Mapping[str, object] | None = None,
        loss: object | None = None,
        description: str = "",
        search_box: Sequence[tuple[float, float]] | None = None,
        default_slice: Mapping[str, object] | None = None,
        units: Mapping[str, str] | None = None,
        kind: str = FLOW,
        noise: Noise | None = None,
        domain: Sequence[object] | None = None,
    ):
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"model name must be an identifier, got {name!r}")
        if kind not in (FLOW, MAP):
            raise ValueError(f"kind must be {FLOW!r} or {MAP!r}, got {kind!r}")
        if noise is not None and not isinstance(noise, Noise):
            raise TypeError(f"noise must be a basinlab Noise, got {type(noise).__name__}")
        if noise is not None and kind == MAP:
            raise ValueError(f"model {name!r} is a map; noise is for flows (SDEs) only")
        state = list(state)
        if not state:
            raise ValueError(f"model {name!r} has no state symbols")
        for symbol in state:
            if not isinstance(symbol, sp.Symbol):
                raise TypeError(f"state entries must be SymPy symbols, got {symbol!r}")
        params = dict(params or {})
        for symbol in params:
            if not isinstance(symbol, sp.Symbol):
                raise TypeError(f"parameter keys must be SymPy symbols, got {symbol!r}")
        names = [str(s) for s in state] + [str(s) for s in params]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"model {name!r} uses the name(s) {duplicates} twice")
        symbols = real_symbols([*state, *params], name)
        self.name = name
        self.state: list[sp.Symbol] = [symbols[s.name] for s in state]
        self.params: dict[sp.Symbol, float] = {
            symbols[s.name]: _finite_real(v, f"default of parameter {s}") for s, v in params.items()
        }
        if isinstance(vector_field, sp.MatrixBase):
            rows = list(vector_field)
            if vector_field.shape[1] != 1 and vector_field.shape[0] != 1:
                raise ValueError(
                    f"vector field of {name!r} must be a column, got shape {vector_field.shape}"
                )
        else:
            rows = list(vector_field)
        if len(rows) != len(state):
            raise ValueError(
                f"vector field of {name!r} has {len(rows)} components but the state has "
                f"{len(state)}"
            )

        def expression(value: object, what: str) -> sp.Basic:
            what = f"{what} of {name!r}"
            return checked(as_expression(value, what), symbols, what)

        self.vector_field = sp.Matrix(
            [expression(r, f"component {i} of the vector field") for i, r in enumerate(rows)]
        )
        self.loss = None if loss is None else expression(loss, "loss")
        self.predicates: dict[str, sp.Basic] = {
            str(k): expression(v, f"predicate {k!r}") for k, v in (predicates or {}).items()
        }
        self.observables: dict[str, sp.Expr] = {
            str(k): expression(v, f"observable {k!r}") for k, v in (observables or {}).items()
        }
        self.kind = kind
        self.domain: tuple[sp.Basic, ...] = tuple(
            expression(r, f"domain relation {i}") for i, r in enumerate(domain or ())
        )
        for i, relation in enumerate(self.domain):
            if not isinstance(relation, sp.core.relational.Relational):
                raise TypeError(
                    f"domain relation {i} of {name!r} must be a relation such as Q > 0, "
                    f"got {relation}"
                )
        self.noise = None
        if noise is not None:
            matrix = noise.expressions.applyfunc(lambda e: expression(e, "noise"))
            if matrix.shape[0] != len(state):
                raise ValueError(
                    f"noise of {name!r} has {matrix.shape[0]} rows but the state has {len(state)}"
                )
            self.noise = noise.with_expressions(matrix)
        clash = set(self.predicates) & set(self.observables)
        if clash:
            raise ValueError(f"{sorted(clash)} is both a predicate and an observable")
        self.description = description
        self.search_box = None
        if search_box is not None:
            box = [tuple(map(float, interval)) for interval in search_box]
            if len(box) != len(state) or any(not lo < hi for lo, hi in box):
                raise ValueError(
                    f"search_box of {name!r} must give one interval (low < high) per state"
                )
            self.search_box = box
        self.default_slice = None
        if default_slice is not None:
            keys = set(default_slice)
            if not {"x", "y"} <= keys <= {"x", "y", "bounds", "fixed"}:
                raise ValueError(
                    f"default_slice of {name!r} takes x, y, and optionally bounds and fixed"
                )
            named = [default_slice["x"], default_slice["y"], *(default_slice.get("fixed") or {})]
            missing = sorted(set(map(str, named)) - {str(s) for s in state})
            if missing:
                raise ValueError(f"default_slice of {name!r} names states it lacks: {missing}")
            self.default_slice = dict(default_slice)
        self.units: dict[str, str] = {}
        for state_name, unit in (units or {}).items():
            if str(state_name) not in self.state_names:
                raise ValueError(f"units of {name!r} name {state_name!r}, which is not a state")
            if not isinstance(unit, str):
                raise TypeError(f"the unit of {state_name!r} must be a string, got {unit!r}")
            self.units[str(state_name)] = unit
        self.undefined_functions: tuple[sp.Basic, ...] = tuple(
            undefined_functions(
                [*self.vector_field, *self.predicates.values(), *self.observables.values()]
                + ([] if self.loss is None else [self.loss])
                + ([] if self.noise is None else list(self.noise.expressions))
            )
        )
        allowed = set(self.state) | set(self.params)
        checked_expressions = {
            f"component {i} of the vector field": e for i, e in enumerate(self.vector_field)
        }
        checked_expressions |= {f"predicate {k!r}": v for k, v in self.predicates.items()}
        checked_expressions |= {f"observable {k!r}": v for k, v in self.observables.items()}
        if self.loss is not None:
            checked_expressions["loss"] = self.loss
        if self.noise is not None:
            checked_expressions["noise"] = self.noise.expressions
        checked_expressions |= {f"domain relation {i}": r for i, r in enumerate(self.domain)}
        for what, expr in checked_expressions.items():
            stray = expr.free_symbols - allowed
            if stray:
                raise ValueError(
                    f"{what} of {name!r} has free symbol(s) {sorted(map(str, stray))} that "
                    "are neither state nor parameters"
                )

    @classmethod
    def gradient_flow(
        cls,
        loss: object,
        state: Iterable[sp.Symbol],
        params: Mapping[sp.Symbol, float] | None = None,
        predicates: Mapping[str, object] | None = None,
        observables: Mapping[str, object] | None = None,
        name: str = "gradient_flow",
        description: str = "",
        **options,
    ) -> Model:
        r"""The gradient flow $\dot x = -\nabla_x L(x; p)$ of a loss.

        The loss is kept as `model.loss` and as the observable `"loss"`. With
        `noise=Noise.isotropic(D, n)` it is overdamped Langevin dynamics, with
        `noise=Noise.sgd(...)` the SDE of stochastic gradient descent.

        **Arguments:**

        - `loss`: $L$, a SymPy expression of the state and parameters.
        - `state`, `params`, `predicates`, `observables`, `name`, `description`: as for
          [`basinlab.Model`][].
        - `**options`: `search_box`, `default_slice`, `units`, `noise` and `domain`, as
          for [`basinlab.Model`][].

        **Returns:**

        A `Model` whose vector field is $-\nabla L$.

        **Raises:**

        As for [`basinlab.Model`][].
        """
        state = list(state)
        for symbol in state:
            if not isinstance(symbol, sp.Symbol):
                raise TypeError(f"state entries must be SymPy symbols, got {symbol!r}")
        parameters = [s for s in (params or {}) if isinstance(s, sp.Symbol)]
        # Differentiate in real symbols: d|x|/dx is sign(x) only for real x.
        symbols = real_symbols([*state, *parameters], name)
        loss = checked(as_expression(loss, "loss"), symbols, f"loss of {name!r}")
        state = [symbols[s.name] for s in state]
        field = [-sp.diff(loss, s) for s in state]
        observables = {"loss": loss, **(observables or {})}
        return cls(
            name, state, field, params, predicates, observables, loss, description, **options
        )

    @classmethod
    def iterated_map(
        cls,
        name: str,
        state: Iterable[sp.Symbol],
        update: sp.Matrix | Iterable[object],
        params: Mapping[sp.Symbol, float] | None = None,
        predicates: Mapping[str, object] | None = None,
        observables: Mapping[str, object] | None = None,
        description: str = "",
        **options,
    ) -> Model:
        r"""A discrete-time model $x_{k+1} = F(x_k; p)$: rounds of retraining, an
        optimiser's steps, Newton's method.

        Its rest points solve $F(x) = x$ and are stable when every eigenvalue of the
        Jacobian $DF$ there has modulus below 1. Its time is the iteration count.

        **Arguments:**

        - `name`, `state`, `params`, `predicates`, `observables`, `description`: as
          for [`basinlab.Model`][].
        - `update`: $F$, one expression per state.
        - `**options`: `search_box`, `default_slice`, `units` and `domain`, as for
          [`basinlab.Model`][].

        **Returns:**

        A `Model` of kind `"map"`, with $F$ in `vector_field`.

        **Raises:**

        As for [`basinlab.Model`][].
        """
        return cls(
            name,
            state,
            update,
            params,
            predicates,
            observables,
            description=description,
            kind=MAP,
            **options,
        )

    def with_noise(
        self, noise: Noise | None, params: Mapping[sp.Symbol, float] | None = None
    ) -> Model:
        r"""This model with other noise: the SDE $dx = f\,dt + g\,dW$ (or the
        deterministic flow again, for `None`).

        **Arguments:**

        - `noise`: a [`basinlab.Noise`][], or `None`.
        - `params`: parameters the noise adds (such as a temperature $D$), with their
          defaults.

        **Returns:**

        A new `Model`; this one is unchanged.

        **Raises:**

        As for [`basinlab.Model`][]: the model is a map, the noise has the wrong
        number of rows, or it uses a symbol that is neither state nor parameter.
        """
        return Model(
            self.name,
            self.state,
            self.vector_field,
            {**self.params, **(params or {})},
            self.predicates,
            self.observables,
            self.loss,
            self.description,
            self.search_box,
            self.default_slice,
            self.units,
            self.kind,
            noise,
            self.domain,
        )

    @property
    def dim(self) -> int:
        """The number of state variables."""
        return len(self.state)

    @property
    def state_names(self) -> list[str]:
        return [str(s) for s in self.state]

    @property
    def param_symbols(self) -> list[sp.Symbol]:
        return list(self.params)

    @property
    def param_names(self) -> list[str]:
        return [str(s) for s in self.params]

    def require_numeric(self, what: str) -> None:
        """Refuse numerical work on a model that holds undefined functions.

        An undefined function (`Function('L')(x)`) stands for an arbitrary function:
        fine for symbolic identities, but nothing can evaluate it.

        **Arguments:**

        - `what`: the work refused, for the message (`"compiled"`, say).

        **Raises:**

        - `ValueError`: the model holds an undefined function; the message names it.
        """
        if self.undefined_functions:
            names = ", ".join(sp.sstr(f) for f in self.undefined_functions)
            raise ValueError(
                f"model {self.name!r} uses the undefined function(s) {names}, so it can be "
                f"analysed symbolically but not {what}; write them out as expressions"
            )

    def unit(self, name: str) -> str:
        """The unit of a state; `""` for a dimensionless one.

        **Raises:**

        - `ValueError`: `name` is not a state of this model.
        """
        self.state_index(name)
        return self.units.get(str(name), "")

    def state_index(self, name: str) -> int:
        """The position of a state variable.

        **Raises:**

        - `ValueError`: `name` is not a state of this model.
        """
        try:
            return self.state_names.index(str(name))
        except ValueError:
            raise ValueError(
                f"{name!r} is not a state of model {self.name!r}; its states are {self.state_names}"
            ) from None

    def resolve_params(
        self, overrides: Mapping[ParamKey, float] | None = None
    ) -> dict[sp.Symbol, float]:
        """The defaults with `overrides` applied, keyed by symbol, in model order.

        **Arguments:**

        - `overrides`: values keyed by parameter symbol or name.

        **Returns:**

        A dict from every parameter symbol to a float.

        **Raises:**

        - `ValueError`: a key is not a parameter of this model, or a value is not
          finite.
        - `TypeError`: a value is not a real number.
        """
        values = dict(self.params)
        by_name = {str(s): s for s in self.params}
        for key, value in (overrides or {}).items():
            symbol = by_name.get(str(key))
            if symbol is None:
                known = ", ".join(self.param_names) or "none"
                raise ValueError(
                    f"model {self.name!r} has no parameter {str(key)!r} (its parameters: {known})"
                )
            values[symbol] = _finite_real(value, f"parameter {key}")
        return values

    def substituted(
        self, overrides: Mapping[ParamKey, float] | None = None, exact: bool = True
    ) -> sp.Matrix:
        """The vector field with parameter values substituted.

        With `exact=True`, each float value becomes the rational number its decimal
        representation names (0.1 becomes 1/10), so that exact analysis stays exact.
        """
        return self.vector_field.subs(self.param_substitution(overrides, exact))

    def param_substitution(
        self, overrides: Mapping[ParamKey, float] | None = None, exact: bool = True
    ) -> dict[sp.Symbol, sp.Number]:
        values = self.resolve_params(overrides)
        if exact:
            return {s: sp.Rational(repr(v)) for s, v in values.items()}
        return {s: sp.Float(v) for s, v in values.items()}

    def wrapped_periods(
        self, overrides: Mapping[ParamKey, float] | None = None
    ) -> list[float | None]:
        r"""For a map, the period $L$ of each state whose update wraps it, $F_i =
        \operatorname{Mod}(e, L)$ with $L$ a positive number once the parameters are
        set: an angle, whose values $L$ apart are one state. `None` for the other
        states, and for every state of a flow.

        **Raises:**

        - `ValueError`: a parameter is unknown.
        """
        if self.kind != MAP:
            return [None] * self.dim
        substitution = self.param_substitution(overrides, exact=False)
        periods: list[float | None] = []
        for update in self.vector_field:
            period = None
            if isinstance(update, sp.Mod):
                length = update.args[1].subs(substitution)
                if length.is_number and length.is_positive:
                    period = float(length)
            periods.append(period)
        return periods

    def rest_field(
        self, overrides: Mapping[ParamKey, float] | None = None, exact: bool = True
    ) -> sp.Matrix:
        """What vanishes at rest points, with parameter values substituted: $f(x)$ for
        a flow, $F(x) - x$ for a map. Arguments as for `substituted`."""
        field = self.substituted(overrides, exact)
        if self.kind == MAP:
            field = field - sp.Matrix(self.state)
        return field

    def equations(self) -> str:
        """The right-hand side as text, one line per state: `da/dt = ...` for a flow,
        `a[k+1] = ...` for a map."""
        if self.kind == MAP:
            lines = [f"{s}[k+1] = {sp.sstr(e)}" for s, e in zip(self.state, self.vector_field)]
        else:
            lines = [f"d{s}/dt = {sp.sstr(e)}" for s, e in zip(self.state, self.vector_field)]
        if self.noise is not None:
            which = "g" if self.noise.diffusion is not None else "g g^T"
            lines.append(f"noise {which} = {sp.sstr(self.noise.expressions.tolist())}")
        return "; ".join(lines)

    def __repr__(self) -> str:
        params = ", ".join(f"{s}={v:g}" for s, v in self.params.items())
        return f"Model({self.name!r}, state={self.state_names}, params={{{params}}})"
