"""The decoder configuration record of a video track (its sample entry's avcC, hvcC or av1C):
which box each sample entry carries, and the part of a record that every chunk of a stitched
rung must share, because the rung's one init segment holds the first chunk's record for
all of them. Pure."""

from __future__ import annotations

# sample entry -> its decoder configuration box (ISO/IEC 14496-15; AV1 in ISOBMFF)
CONFIG_BOX: dict[str, str] = {
    "avc1": "avcC",
    "avc3": "avcC",
    "hvc1": "hvcC",
    "hev1": "hvcC",
    "av01": "av1C",
}

# what each box holds, as an error message names it
BOX_HOLDS: dict[str, str] = {
    "avcC": "SPS/PPS",
    "hvcC": "VPS/SPS/PPS",
    "av1C": "sequence header",
}

# hvcC NAL unit types that carry no decoding parameters: prefix and suffix SEI
_HEVC_SEI_TYPES = (39, 40)
# hvcC: the fixed fields before numOfArrays
_HVCC_HEADER = 22


def config_box(entry: str) -> str | None:
    return CONFIG_BOX.get(entry)


def decoding_part(entry: str, record: bytes) -> bytes:
    """What in a configuration record decides how the frames decode: the whole avcC (SPS,
    PPS) or av1C (sequence header), and an hvcC without its SEI arrays. x265 writes its
    version and options string, CPU flags and thread counts included, as an SEI in its
    headers: two workers on different machines give different SEIs for the same VPS, SPS
    and PPS, and a decoder ignores them. A record that cannot be parsed is compared whole."""
    if config_box(entry) != "hvcC":
        return record
    arrays = _hvcc_arrays(record)
    if arrays is None:
        return record
    kept = [data for nal_type, data in arrays if nal_type not in _HEVC_SEI_TYPES]
    return record[:_HVCC_HEADER] + bytes([len(kept)]) + b"".join(kept)


def _hvcc_arrays(record: bytes) -> list[tuple[int, bytes]] | None:
    """Each NAL unit array of an hvcC as (NAL unit type, the array's bytes); None when the
    arrays do not fill the record exactly."""
    if len(record) <= _HVCC_HEADER:
        return None
    arrays = []
    at = _HVCC_HEADER + 1
    for _ in range(record[_HVCC_HEADER]):
        start = at
        if at + 3 > len(record):
            return None
        nal_type = record[at] & 0x3F
        count = int.from_bytes(record[at + 1 : at + 3], "big")
        at += 3
        for _ in range(count):
            if at + 2 > len(record):
                return None
            at += 2 + int.from_bytes(record[at : at + 2], "big")
        arrays.append((nal_type, record[start:at]))
    return arrays if at == len(record) else None
