"""A claim about a model, its certificate, and the verdict of checking it."""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable

from ..theory import TimeLimitExceeded, time_limit

PROVED = "PROVED"
ADMITTED = "ADMITTED"
UNDECIDED = "UNDECIDED"
FAILED = "FAILED"
STATUSES = (PROVED, ADMITTED, UNDECIDED, FAILED)

_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_=\-]+)*$")


class CertificateFailed(Exception):
    """An exact check did not hold; the message says which and, if known, where."""


class Undecided(Exception):
    """A check ran out of its budget (boxes, iterations) without settling the claim."""


@dataclasses.dataclass(frozen=True)
class Verdict:
    """The outcome of checking one claim.

    **Fields:**

    - `id`, `statement`: those of the claim.
    - `status`: `"PROVED"`, `"ADMITTED"`, `"UNDECIDED"` or `"FAILED"`.
    - `seconds`: wall time spent on the certificate.
    - `detail`: what was checked, why it failed, why it is admitted, or where the
      time ran out.
    """

    id: str
    statement: str
    status: str
    seconds: float
    detail: str

    def __post_init__(self):
        assert self.status in STATUSES, self.status
        assert self.seconds >= 0

    def as_json(self) -> dict[str, object]:
        """The keys `id`, `statement`, `status`, `seconds` (and `detail`)."""
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class Claim:
    r"""A mathematical statement about a model, with an exact certificate.

    The certificate is a function of no arguments that performs an exact check in
    SymPy (an expression reduced to 0, a polynomial identity, a sum-of-squares
    decomposition with rational coefficients, or rational interval arithmetic) and
    returns one line saying what it checked. It raises [`CertificateFailed`][] when the
    check does not hold. A claim that cannot be certified is given `admitted=` with
    the reason instead: it is listed, and never counted as proved.

    **Fields:**

    - `id`: a dotted lower-case identifier, such as `"deep_linear.sigmoid"`.
    - `statement`: Markdown with LaTeX.
    - `assumptions`: the hypotheses the statement rests on, one per entry.
    - `about`: the model or expressions the claim is about.
    - `certificate`: the exact check, or `None` for an admitted claim.
    - `admitted`: why the claim is taken without proof, or `None`.
    - `timeout`: seconds allowed to the certificate before the verdict is UNDECIDED.

    **Raises:**

    - `ValueError`: the id is malformed, the statement is empty, both or neither of
      `certificate` and `admitted` are given, or `timeout` is not positive.
    """

    id: str
    statement: str
    assumptions: tuple[str, ...] = ()
    about: object = None
    certificate: Callable[[], str] | None = None
    admitted: str | None = None
    timeout: float = 60.0

    def __post_init__(self):
        if not isinstance(self.id, str) or not _ID.match(self.id):
            raise ValueError(
                f"claim id {self.id!r} must be dotted lower-case words, such as 'model.property'"
            )
        if not isinstance(self.statement, str) or not self.statement.strip():
            raise ValueError(f"claim {self.id!r} needs a statement")
        if (self.certificate is None) == (self.admitted is None):
            raise ValueError(
                f"claim {self.id!r} needs exactly one of a certificate and an admitted reason"
            )
        if not self.timeout > 0:
            raise ValueError(f"claim {self.id!r}: timeout must be positive, got {self.timeout}")
        object.__setattr__(self, "assumptions", tuple(self.assumptions))

    def check(self, timeout: float | None = None) -> Verdict:
        """Run the certificate under a time limit.

        **Arguments:**

        - `timeout`: seconds, overriding the claim's own limit.

        **Returns:**

        A [`Verdict`][]: PROVED when the exact check held, FAILED when it did not
        (or the certificate raised), UNDECIDED when it ran out of time or of another
        budget, ADMITTED for
        an admitted claim.
        """
        if self.certificate is None:
            return Verdict(self.id, self.statement, ADMITTED, 0.0, str(self.admitted))
        limit = self.timeout if timeout is None else timeout
        start = time.perf_counter()
        try:
            with time_limit(limit):
                detail = self.certificate()
            status = PROVED
        except TimeLimitExceeded:
            status, detail = UNDECIDED, f"the certificate ran past its {limit:g} s limit"
        except Undecided as reason:
            status, detail = UNDECIDED, str(reason)
        except CertificateFailed as failure:
            status, detail = FAILED, str(failure)
        except Exception as error:  # a certificate that crashes proves nothing
            status, detail = FAILED, f"the certificate raised {type(error).__name__}: {error}"
        return Verdict(self.id, self.statement, status, time.perf_counter() - start, detail)
