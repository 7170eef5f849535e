"""Attractors found by features of each trajectory's tail, grouped by DBSCAN or
matched to templates."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import jax
import jax.numpy as jnp
import numpy as np
import numpyro.distributions as dist
import xarray as xr
from jaxtyping import Array, Float
from sklearn.cluster import DBSCAN
from sklearn.metrics import silhouette_score

from ...theory import Model
from ...theory._checks import check_count, check_positive, check_seed
from .._basin._basins import _check_confidence
from .._basin._sampling import sample_states
from .._engine._compile import CompiledModel
from .._engine._integrate import as_compiled
from .._engine._settings_argument import settings_argument
from .._engine._solver_settings import DIVERGED, UNCONVERGED
from ._found_attractors import described_attractor, found_dataset
from ._recurrence_settings import RecurrenceSettings
from ._recurrences import _sampler

# Candidate DBSCAN radii (in features rescaled to [0, 1]) when none is given; the
# one with the best silhouette is used.
_RADII = np.geomspace(0.005, 0.5, 25)


def tail_box(tail: Float[Array, "samples n"]) -> Float[Array, " features"]:
    """The default features: each state's least and greatest value over the tail (its
    bounding box, which, unlike a mean, does not depend on the phase at which a tail of
    a cycle stops once it holds a whole period)."""
    return jnp.concatenate([jnp.min(tail, axis=0), jnp.max(tail, axis=0)])


def _tails(compiled, p, settings, y0s, transient, samples):
    advance = _sampler(compiled, p, settings)

    def one(y):
        y = jax.lax.fori_loop(0, transient, lambda _, y: advance(y), y)

        def sample(y, _):
            y = advance(y)
            return y, y

        return jax.lax.scan(sample, y, None, length=samples)[1]

    return jax.jit(jax.vmap(one))(jnp.asarray(y0s, compiled.dtype))


def _groups(features: np.ndarray, radius: float | None, min_samples: int) -> np.ndarray:
    """DBSCAN labels (-1 for noise) on features rescaled to [0, 1]; the radius with the
    best silhouette when `radius` is None."""
    low, high = features.min(axis=0), features.max(axis=0)
    scaled = (features - low) / np.where(high > low, high - low, 1.0)
    if radius is not None:
        return DBSCAN(eps=radius, min_samples=min_samples).fit_predict(scaled)
    best, best_score = np.zeros(len(scaled), int), -np.inf
    for candidate in _RADII:
        groups = DBSCAN(eps=candidate, min_samples=min_samples).fit_predict(scaled)
        kept = groups >= 0
        count = len(set(groups[kept].tolist()))
        if count < 2:
            score = 0.0 if count == 1 and kept.all() else -1.0
        else:
            score = silhouette_score(scaled[kept], groups[kept]) * kept.mean()
        if score > best_score:
            best, best_score = groups, score
    return best


def cluster_attractors(
    model: Model | CompiledModel,
    p0: dist.Distribution,
    *,
    n: int = 1000,
    seed: int = 0,
    params: Mapping[str, float] | None = None,
    features: Callable[[Array], Array] = tail_box,
    templates: Mapping[str, Float[np.ndarray, " features"]] | None = None,
    template_distance: float = 0.1,
    transient: int = 1000,
    samples: int = 500,
    radius: float | None = None,
    min_samples: int = 10,
    settings: RecurrenceSettings | None = None,
    confidence: float = 0.95,
) -> xr.Dataset:
    r"""Find attractors by grouping trajectories by features of where they end: the
    featurizing method of G. Datseris and A. Wagemakers, "Effortless estimation of
    basins of attraction", Chaos 32, 023104, 2022 (after S. Stender and N. Hoffmann,
    2021).

    Each start runs `transient` samples (steps of a map, `interval`s of a flow), then
    `samples` more form its tail, and `features(tail)` describes it (by default each
    state's least and greatest value). The features are rescaled to $[0, 1]$ and
    grouped by DBSCAN (M. Ester, H.-P. Kriegel, J. Sander and X. Xu, KDD 1996, via
    scikit-learn), its radius chosen by the silhouette when not given; or, with
    `templates`, each tail goes to the nearest template within `template_distance`
    (in the features' own units). Each group is then classified from one member's
    tail by [`basinlab.lyapunov_spectrum`][] as [`basinlab.find_attractors`][]
    does. Tails that are not finite diverged; tails DBSCAN leaves as noise, or far
    from every template, are `UNCONVERGED`.

    Unlike recurrences on a grid, the answer depends on the features telling the
    attractors apart; it is the method of choice when the state space is too large
    to grid.

    **Arguments:**

    - `model`, `p0`, `n`, `seed`, `params`, `confidence`: as for `find_attractors`.
    - `features`: a JAX function of a tail (samples, states) giving a vector.
    - `templates`: named feature vectors to match instead of clustering.
    - `template_distance`: how close (Euclidean) a tail's features must be to a
      template.
    - `transient`, `samples`: the samples skipped, and those in the tail.
    - `radius`: DBSCAN's radius in rescaled features; chosen when None.
    - `min_samples`: DBSCAN's least neighbours of a core point.
    - `settings`: a [`basinlab.RecurrenceSettings`][]: its `interval`, `dt`,
      tolerances and classification fields are used.

    **Returns:**

    An `xarray.Dataset` laid out as `find_attractors`' (without the cells), with
    each start's `features`.

    **Raises:**

    - `ValueError`: a count or length out of range, `features` not giving one finite
      vector per tail, or templates of the wrong length.
    - `TypeError`: `settings` or `p0` of the wrong type.
    """
    compiled = as_compiled(model)
    settings = settings_argument(settings, RecurrenceSettings)
    _check_confidence(confidence)
    transient = check_count(transient, "transient", minimum=0)
    samples = check_count(samples, "samples", minimum=2)
    min_samples = check_count(min_samples, "min_samples")
    if radius is not None:
        check_positive(radius, "radius")
    seed = check_seed(seed)
    y0s = sample_states(p0, n, seed, len(compiled.state_names))
    p = compiled.param_vector(params)
    tails = np.asarray(_tails(compiled, p, settings, y0s, transient, samples))
    finite = np.all(np.isfinite(tails), axis=(1, 2))
    described = np.asarray(
        jax.vmap(features)(jnp.asarray(np.where(finite[:, None, None], tails, 0)))
    )
    if described.ndim != 2 or described.shape[0] != len(y0s):
        raise ValueError(f"features must give one vector per tail, got shape {described.shape}")
    label = np.full(len(y0s), DIVERGED, np.int32)
    kept = np.flatnonzero(finite)
    names: list[str] = []
    if templates is not None:
        names = list(templates)
        centres = np.array([np.asarray(templates[k], float) for k in names])
        if centres.ndim != 2 or centres.shape[1] != described.shape[1]:
            raise ValueError(
                f"each template must have {described.shape[1]} features, got shape {centres.shape}"
            )
        check_positive(template_distance, "template_distance")
        gaps = np.linalg.norm(described[kept, None, :] - centres[None], axis=-1)
        nearest = np.argmin(gaps, axis=1)
        label[kept] = np.where(
            gaps[np.arange(len(kept)), nearest] <= template_distance, nearest, UNCONVERGED
        )
    elif len(kept):
        groups = _groups(described[kept], radius, min_samples)
        label[kept] = np.where(groups >= 0, groups, UNCONVERGED)
    attractors, exponents = [], []
    used = sorted(set(label[label >= 0].tolist()))
    renumber = {old: new for new, old in enumerate(used)}
    label = np.array([renumber.get(int(v), int(v)) for v in label], np.int32)
    for old in used:
        member = np.flatnonzero(label == renumber[old])[0]
        title = names[old] if names else None
        attractor, spectrum = described_attractor(
            compiled, p, tails[member], settings, renumber[old], title
        )
        attractors.append(attractor)
        exponents.append(spectrum)
    attrs = {
        "kind": "cluster_attractors",
        "method": "templates" if templates is not None else "DBSCAN on features",
        "transient": transient,
        "samples": samples,
    }
    return found_dataset(
        compiled,
        params,
        settings,
        p0,
        seed,
        confidence,
        y0s,
        label,
        attractors,
        exponents,
        [tails[np.flatnonzero(label == k)[0]] for k in range(len(attractors))],
        {"features": (("trajectory", "feature"), described)},
        attrs,
    )
