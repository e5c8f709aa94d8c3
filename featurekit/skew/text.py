"""Text shared by every format of the skew report (text, JSON, JUnit, HTML).

>>> printable("a\\ud800b")
'a\\\\ud800b'
"""

from __future__ import annotations

__all__ = ["printable"]


def printable(text: str) -> str:
    """``text`` with lone surrogates (from logged strings) as ``\\udXXX`` escapes, so it encodes as UTF-8."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
