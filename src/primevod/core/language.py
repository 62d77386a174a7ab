"""Language tags: containers carry ISO 639-2 codes ("eng"); HLS wants RFC 5646 ("en").

A source's language metadata is untrusted text: only a whole well-formed tag is kept, so
nothing else (a quote, a slash, a line break) can reach a manifest attribute."""

from __future__ import annotations

import re

# ISO 639-2 (bibliographic and terminology) -> ISO 639-1, for the languages that have one and
# are common in media; RFC 5646 prefers the two-letter code when one exists.
_TWO_LETTER = {
    "ara": "ar",
    "ben": "bn",
    "bul": "bg",
    "cat": "ca",
    "ces": "cs",
    "cze": "cs",
    "chi": "zh",
    "zho": "zh",
    "dan": "da",
    "deu": "de",
    "ger": "de",
    "ell": "el",
    "gre": "el",
    "eng": "en",
    "est": "et",
    "fas": "fa",
    "per": "fa",
    "fin": "fi",
    "fra": "fr",
    "fre": "fr",
    "heb": "he",
    "hin": "hi",
    "hrv": "hr",
    "hun": "hu",
    "ind": "id",
    "isl": "is",
    "ice": "is",
    "ita": "it",
    "jpn": "ja",
    "kor": "ko",
    "lav": "lv",
    "lit": "lt",
    "msa": "ms",
    "may": "ms",
    "nld": "nl",
    "dut": "nl",
    "nor": "no",
    "nob": "nb",
    "nno": "nn",
    "pol": "pl",
    "por": "pt",
    "ron": "ro",
    "rum": "ro",
    "rus": "ru",
    "slk": "sk",
    "slo": "sk",
    "slv": "sl",
    "spa": "es",
    "srp": "sr",
    "swe": "sv",
    "tam": "ta",
    "tel": "te",
    "tha": "th",
    "tur": "tr",
    "ukr": "uk",
    "urd": "ur",
    "vie": "vi",
    "cym": "cy",
    "wel": "cy",
    "eus": "eu",
    "baq": "eu",
    "glg": "gl",
    "gle": "ga",
}


MAX_TAG = 35  # RFC 5646 section 4.4.1: a buffer of 35 characters holds any useful tag
UNDETERMINED = ("und", "unk", "mul", "zxx", "mis", "")
# the RFC 5646 shape prime-vod accepts: a 2-3 letter language, then subtags of 1-8 letters
# or digits (script, region, variants, extensions, private use)
_TAG = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{1,8})*")


def is_language_tag(text: str) -> bool:
    """Whether `text` (any case, `_` or `-` between subtags) is a whole well-formed tag."""
    tag = text.strip().lower().replace("_", "-")
    return len(tag) <= MAX_TAG and _TAG.fullmatch(tag) is not None


def bcp47(code: str | None) -> str | None:
    """An RFC 5646 tag for a container's language code, or None for unknown/undetermined
    and for anything that is not a whole well-formed tag (`en-/../x` is None, not `en`)."""
    if not code:
        return None
    tag = code.strip().lower().replace("_", "-")
    if tag in UNDETERMINED or not is_language_tag(tag):
        return None
    primary, _, rest = tag.partition("-")
    primary = _TWO_LETTER.get(primary, primary)
    return f"{primary}-{rest}" if rest else primary
