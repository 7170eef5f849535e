"""The bistable cycle: a sum-of-squares certificate for the basin of the origin."""

from __future__ import annotations

import sympy as sp

from ...theory import models
from .._claim import CertificateFailed, Claim
from .._lyapunov import lyapunov_certificate


def _certified_basin() -> str:
    certificate = lyapunov_certificate(models.build("bistable_cycle"), (0, 0))
    detail = certificate.report
    if certificate.gram != sp.eye(2) / 8:
        raise CertificateFailed(
            f"the Lyapunov function is not (x^2 + y^2)/8 but {certificate.gram}"
        )
    if not 8 * certificate.level > sp.Rational(997, 1000):
        raise CertificateFailed(f"the certified radius squared is only {8 * certificate.level}")
    return f"{detail}; r^2 = 8c = {float(8 * certificate.level):.6f}"


def claims() -> list[Claim]:
    return [
        Claim(
            "bistable_cycle.certified_basin",
            r"A disc $\{x^2 + y^2 < r^2\}$ with $r^2$ within 0.3% of 1 lies in the basin of "
            r"the stable focus at the origin: $\dot V < 0$ on it for $V = (x^2 + y^2)/8$, "
            r"certified by a rational sum of squares.",
            ("default rotation $\\omega = 1$",),
            about="bistable_cycle",
            certificate=_certified_basin,
        )
    ]
