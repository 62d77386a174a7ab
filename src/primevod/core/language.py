"""Language tags: containers carry ISO 639-2 codes ("eng"); HLS wants RFC 5646 ("en")."""

from __future__ import annotations

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


def bcp47(code: str | None) -> str | None:
    """An RFC 5646 tag for a container's language code, or None for unknown/undetermined."""
    if not code:
        return None
    tag = code.strip().lower().replace("_", "-")
    if tag in ("und", "unk", "mul", "zxx", "mis", ""):
        return None
    primary, _, rest = tag.partition("-")
    primary = _TWO_LETTER.get(primary, primary)
    if not primary.isalpha() or not 2 <= len(primary) <= 3:
        return None
    return f"{primary}-{rest}" if rest else primary
