"""RFC 6381 codec strings of a video track, read from its init segment's sample entry and
decoder configuration record (avcC, hvcC, av1C): what HLS CODECS and DASH @codecs must say
and what a player passes to MediaSource.isTypeSupported. Pure."""

from __future__ import annotations

from primevod.core.fmp4 import video_sample_entry
from primevod.core.h264 import avc_codec_string_from_avcc

_AVC_ENTRIES = ("avc1", "avc3")
_HEVC_ENTRIES = ("hvc1", "hev1")


def hevc_codec_string(entry: str, hvcc: bytes) -> str | None:
    """ISO/IEC 14496-15 Annex E: `hvc1.<space><profile>.<compat>.<tier><level>.<constraints>`
    (compatibility flags bit-reversed in hex, constraint bytes with trailing zeros left out)."""
    if len(hvcc) < 13 or hvcc[0] != 1:
        return None
    space = ("", "A", "B", "C")[hvcc[1] >> 6]
    tier = "H" if hvcc[1] & 0x20 else "L"
    profile = hvcc[1] & 0x1F
    compat = int.from_bytes(hvcc[2:6], "big")
    reversed_compat = int(f"{compat:032b}"[::-1], 2)
    constraints = list(hvcc[6:12])
    while constraints and constraints[-1] == 0:
        constraints.pop()
    parts = [entry, f"{space}{profile}", f"{reversed_compat:X}", f"{tier}{hvcc[12]}"]
    parts += [f"{b:02X}" for b in constraints]
    return ".".join(parts)


def av1_codec_string(av1c: bytes) -> str | None:
    """AV1 in ISOBMFF, section 5: `av01.<profile>.<level><tier>.<bit depth>` from the av1C
    record's first three bytes (the optional colour fields are left out, as FFmpeg does)."""
    if len(av1c) < 4 or av1c[0] != 0x81:  # marker bit and version 1
        return None
    profile = av1c[1] >> 5
    level = av1c[1] & 0x1F
    tier = "H" if av1c[2] & 0x80 else "M"
    high_bitdepth, twelve_bit = bool(av1c[2] & 0x40), bool(av1c[2] & 0x20)
    depth = 12 if twelve_bit and profile == 2 else 10 if high_bitdepth else 8
    return f"av01.{profile}.{level:02d}{tier}.{depth:02d}"


def video_codec_string(init: bytes) -> str | None:
    """The RFC 6381 string of an init segment's video track; None when the segment holds
    no video track or its configuration record is unreadable."""
    found = video_sample_entry(init)
    if found is None:
        return None
    entry, boxes = found
    if entry in _AVC_ENTRIES and "avcC" in boxes:
        text = avc_codec_string_from_avcc(boxes["avcC"])
        return text.replace("avc1", entry, 1) if text else None
    if entry in _HEVC_ENTRIES and "hvcC" in boxes:
        return hevc_codec_string(entry, boxes["hvcC"])
    if entry == "av01" and "av1C" in boxes:
        return av1_codec_string(boxes["av1C"])
    return None
