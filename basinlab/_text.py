"""The grammar of numbers typed on the command line: plain decimals and integers.

Nothing here imports SymPy or JAX, so arguments are checked at once. The theory reads
text with the same decimal grammar (`basinlab.theory._values.DECIMAL`; a test holds
the two equal).
"""

from __future__ import annotations

import re

# Plain decimals only: Python's float() would also take "1_0" (as 10) and "0x1p3".
DECIMAL = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
NON_FINITE = re.compile(r"^[+-]?(inf|infinity|nan)$", re.IGNORECASE)
INTEGER = re.compile(r"^[+-]?\d+$")


def decimal(text: str) -> float | None:
    """The number a plain decimal (or `inf`, `nan`) names, or `None` for other text."""
    stripped = text.strip()
    if DECIMAL.match(stripped) or NON_FINITE.match(stripped):
        return float(stripped)
    return None


def integer(text: str) -> int | None:
    """The integer that plain digits name, or `None` for other text (`1_0`, `2.0`)."""
    stripped = text.strip()
    return int(stripped) if INTEGER.match(stripped) else None
