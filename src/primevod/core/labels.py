"""Track labels from untrusted text (a source stream's title, a name sent with a sidecar)
as manifests may carry them: one line, no double quote, at most MAX_LABEL characters.

An HLS quoted-string must not hold CR, LF or `"` (RFC 8216 section 4.2); a line break in a
NAME would start a new playlist line. Other line separators go too: parsers that split on
them (Python's `splitlines`, some players) would see a new line as well. XML 1.0 refuses
most control characters, so the DASH Label uses the same rule."""

from __future__ import annotations

import unicodedata

MAX_LABEL = 64
# Cc: control characters (CR, LF, NUL...); Zl, Zp: the Unicode line and paragraph separators
_DROPPED_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})


def _kept(ch: str) -> bool:
    return ch != '"' and unicodedata.category(ch) not in _DROPPED_CATEGORIES


def clean_label(text: str | None, limit: int = MAX_LABEL) -> str:
    """`text` with each control character, line separator and `"` made a space, trimmed
    and cut to `limit` characters; "" when nothing is left."""
    kept = "".join(ch if _kept(ch) else " " for ch in text or "")
    return kept.strip()[:limit].strip()


def is_clean_label(text: str, limit: int = MAX_LABEL) -> bool:
    """Whether `text` is a label as it stands (what `clean_label` would leave unchanged)."""
    return clean_label(text, limit) == text
