"""Machine-checked claims about basinlab's models, and certified basin regions."""

from ._claim import ADMITTED as ADMITTED
from ._claim import FAILED as FAILED
from ._claim import PROVED as PROVED
from ._claim import STATUSES as STATUSES
from ._claim import UNDECIDED as UNDECIDED
from ._claim import CertificateFailed as CertificateFailed
from ._claim import Claim as Claim
from ._claim import Verdict as Verdict
from ._identities import polynomial_identity as polynomial_identity
from ._identities import vanishes as vanishes
from ._intervals import BoxesExhausted as BoxesExhausted
from ._intervals import prove_positive as prove_positive
from ._lyapunov import LyapunovCertificate as LyapunovCertificate
from ._lyapunov import lyapunov_certificate as lyapunov_certificate
from ._region import BasinComparison as BasinComparison
from ._region import CertifiedRegion as CertifiedRegion
from ._region import certified_region as certified_region
from ._region import compare_with_basin as compare_with_basin
from ._registry import check_claims as check_claims
from ._registry import claims as claims
from ._registry import register as register
from ._registry import unregister as unregister
from ._sos import SumOfSquares as SumOfSquares
from ._sublevel import SublevelCertificate as SublevelCertificate
from ._sublevel import critical_points as critical_points
from ._sublevel import sublevel_certificate as sublevel_certificate
