"""The alignment research race: where it ends, for every rate."""

from __future__ import annotations

import sympy as sp

from ...theory import models
from .._claim import CertificateFailed, Claim

_NAME = "alignment_research_race"


def _endpoint() -> str:
    model = models.build(_NAME)
    c, a = model.state
    r_c, r_a, leak, _margin = model.param_symbols
    end = {c: 1, a: r_a / (r_a + leak)}
    if any(sp.simplify(f.subs(end)) != 0 for f in model.vector_field):
        raise CertificateFailed(f"the field does not vanish at {end}")
    jacobian = model.vector_field.jacobian(model.state).subs(end)
    eigenvalues = {sp.simplify(v) for v in jacobian.eigenvals()}
    if eigenvalues != {-r_c, -(r_a + leak)}:
        raise CertificateFailed(f"the eigenvalues at the endpoint are {eigenvalues}")
    saddle = model.vector_field.jacobian(model.state).subs({c: 0, a: 0})
    if {sp.simplify(v) for v in saddle.eigenvals()} != {r_c, -leak}:
        raise CertificateFailed("(0, 0) is not a saddle with eigenvalues r_c and -leak")
    return (
        "f vanishes exactly at (1, r_a/(r_a + leak)), where the Jacobian's eigenvalues are "
        "-r_c and -(r_a + leak); at (0, 0) they are r_c and -leak"
    )


def claims() -> list[Claim]:
    return [
        Claim(
            f"{_NAME}.endpoint",
            r"For all positive rates $r_c, r_a$ and leak $\lambda$, training ends at the "
            r"stable node $(c, a) = (1, \frac{r_a}{r_a + \lambda})$ (eigenvalues $-r_c$ "
            r"and $-(r_a + \lambda)$), and $(0, 0)$ is a saddle.",
            (r"$r_c, r_a, \lambda > 0$",),
            about=_NAME,
            certificate=_endpoint,
        )
    ]
