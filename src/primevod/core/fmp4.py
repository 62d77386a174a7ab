"""Just enough ISO-BMFF to read a fragmented MP4 segment's first sample flags: whether a
CMAF segment starts with a sync sample (keyframe), without opening a decoder; and where
each fragment and its first sample lie (for HLS I-frame playlists). Pure."""

from __future__ import annotations

import struct
from collections.abc import Iterator

from pydantic import BaseModel

_NON_SYNC = 0x00010000  # sample_is_non_sync_sample in ISO/IEC 14496-12 sample flags
_CONTAINERS = {b"moov", b"mvex", b"moof", b"traf", b"trak", b"mdia", b"minf", b"stbl"}
_VISUAL_ENTRY_FIELDS = 78  # VisualSampleEntry: reserved, data_reference_index, picture fields


def _boxes(data: bytes, start: int = 0, end: int | None = None) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of each box between start and end."""
    end = len(data) if end is None else end
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            if pos + 16 > end:
                return
            size = struct.unpack_from(">Q", data, pos + 8)[0]
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            return
        yield kind, pos + header, pos + size
        pos += size


def _find(
    data: bytes, path: list[bytes], start: int = 0, end: int | None = None
) -> tuple[int, int] | None:
    for kind, body, stop in _boxes(data, start, end):
        if kind == path[0]:
            if len(path) == 1:
                return body, stop
            if kind in _CONTAINERS:
                return _find(data, path[1:], body, stop)
    return None


def trex_default_flags(init: bytes) -> int | None:
    found = _find(init, [b"moov", b"mvex", b"trex"])
    if found is None or found[1] - found[0] < 24:
        return None
    return int(struct.unpack_from(">I", init, found[0] + 20)[0])


def first_sample_is_sync(segment: bytes, default_flags: int | None = None) -> bool | None:
    """True/False from the first track fragment of the segment's first `moof`; None when
    the segment holds no readable fragment."""
    traf = _find(segment, [b"moof", b"traf"])
    if traf is None:
        return None
    flags = default_flags
    tfhd = _find(segment, [b"tfhd"], *traf)
    if tfhd is not None:
        body = tfhd[0]
        tf_flags = int.from_bytes(segment[body + 1 : body + 4], "big")
        offset = body + 8  # version/flags + track_ID
        for bit, size in ((0x01, 8), (0x02, 4), (0x08, 4), (0x10, 4)):
            if tf_flags & bit:
                offset += size
        if tf_flags & 0x20:
            flags = int(struct.unpack_from(">I", segment, offset)[0])
    trun = _find(segment, [b"trun"], *traf)
    if trun is not None:
        body = trun[0]
        tr_flags = int.from_bytes(segment[body + 1 : body + 4], "big")
        count = int(struct.unpack_from(">I", segment, body + 4)[0])
        offset = body + 8
        if tr_flags & 0x01:
            offset += 4  # data_offset
        if tr_flags & 0x04:
            flags = int(struct.unpack_from(">I", segment, offset)[0])
        elif tr_flags & 0x400 and count:
            offset += (4 if tr_flags & 0x100 else 0) + (4 if tr_flags & 0x200 else 0)
            flags = int(struct.unpack_from(">I", segment, offset)[0])
    if flags is None:
        return None
    return not flags & _NON_SYNC


def _top_boxes(data: bytes) -> list[tuple[bytes, int, int]]:
    """(type, box start, payload start) of each top-level box: boxes follow each other, so a
    box starts where the one before it ends."""
    out, start = [], 0
    for kind, body, stop in _boxes(data):
        out.append((kind, start, body))
        start = stop
    return out


def _sidx_references(data: bytes, body: int) -> tuple[int, list[tuple[int, int]]]:
    """Where a `sidx` payload (starting at `body`) lists its references, and each reference
    as (type bit + referenced_size word, subsegment_duration)."""
    version = data[body]
    offset = body + 12 + (16 if version else 8)  # version/flags, reference_ID, timescale, times
    count = int(struct.unpack_from(">H", data, offset + 2)[0])  # after 16 reserved bits
    first = offset + 4
    refs = []
    for i in range(count):
        if first + 12 * (i + 1) > len(data):
            break
        word, duration = struct.unpack_from(">II", data, first + 12 * i)
        refs.append((int(word), int(duration)))
    return first, refs


def _sidx_body(data: bytes) -> int | None:
    return next((body for kind, _, body in _top_boxes(data) if kind == b"sidx"), None)


def join_segments(first: bytes, second: bytes) -> bytes:
    """One CMAF segment made of two consecutive ones of the same track: the second's
    fragments (moof + mdat, without its styp/sidx) appended to the first. The first segment's
    `sidx` grows to cover them (its last subsegment takes the added bytes and duration: a
    subsegment may hold several fragments). Fragments carry their own decode times (tfdt)
    and moof-relative data offsets, so their bytes are appended unchanged."""
    tail_start = next(
        (start for kind, start, _ in _top_boxes(second) if kind not in (b"styp", b"sidx")),
        len(second),
    )
    tail = second[tail_start:]
    merged = bytearray(first)
    mine = _sidx_body(first)
    if mine is not None:
        refs_at, refs = _sidx_references(first, mine)
        theirs = _sidx_body(second)
        added = sum(d for _, d in _sidx_references(second, theirs)[1]) if theirs else 0
        if refs and not refs[-1][0] & 0x80000000:  # the last reference points at media
            word, duration = refs[-1]
            size = (word & 0x7FFFFFFF) + len(tail)
            struct.pack_into(">II", merged, refs_at + 12 * (len(refs) - 1), size, duration + added)
    return bytes(merged) + tail


class Fragment(BaseModel):
    """One `moof` + `mdat` of a media segment: where it starts, how far a reader must read
    to have its first sample, when it starts and how long it lasts (media timescale)."""

    offset: int
    first_sample_end: int
    end: int
    decode_time: int
    duration: int
    starts_with_sync: bool


def media_timescale(init: bytes) -> int | None:
    """The first track's media timescale (moov/trak/mdia/mdhd)."""
    found = _find(init, [b"moov", b"trak", b"mdia", b"mdhd"])
    if found is None:
        return None
    body = found[0]
    offset = body + (20 if init[body] == 1 else 12)  # version/flags, creation, modification
    return int(struct.unpack_from(">I", init, offset)[0])


def fragments(segment: bytes, default_flags: int | None = None) -> list[Fragment]:
    """Every fragment of a CMAF segment (one track), in file order. A fragment whose headers
    cannot be read ends the list."""
    out: list[Fragment] = []
    tops = [
        (kind, start, body, stop)
        for (kind, start, body), (_, _, stop) in zip(
            _top_boxes(segment), _boxes(segment), strict=True
        )
    ]
    for i, (kind, start, body, stop) in enumerate(tops):
        if kind != b"moof":
            continue
        mdat_end = next((s for k, _, _, s in tops[i + 1 :] if k == b"mdat"), stop)
        parsed = _fragment(segment, start, body, stop, default_flags)
        if parsed is None:
            break
        first_end, decode_time, duration, sync = parsed
        out.append(
            Fragment(
                offset=start,
                first_sample_end=first_end,
                end=mdat_end,
                decode_time=decode_time,
                duration=duration,
                starts_with_sync=sync,
            )
        )
    return out


def _fragment(
    data: bytes, moof_start: int, body: int, stop: int, default_flags: int | None
) -> tuple[int, int, int, bool] | None:
    """(end of the first sample's bytes, decode time, duration, first sample is sync) of
    the fragment whose `moof` payload is data[body:stop]."""
    traf = _find(data, [b"traf"], body, stop)
    if traf is None:
        return None
    tfhd, trun = _find(data, [b"tfhd"], *traf), _find(data, [b"trun"], *traf)
    if tfhd is None or trun is None:
        return None
    base, default_duration, default_size, flags = _track_defaults(data, tfhd[0], moof_start)
    flags = flags if flags is not None else default_flags
    tfdt = _find(data, [b"tfdt"], *traf)
    decode_time = 0
    if tfdt is not None:
        wide = data[tfdt[0]] == 1
        decode_time = int(struct.unpack_from(">Q" if wide else ">I", data, tfdt[0] + 4)[0])
    run = trun[0]
    tr_flags = int.from_bytes(data[run + 1 : run + 4], "big")
    count = int(struct.unpack_from(">I", data, run + 4)[0])
    offset = run + 8
    data_offset = 0
    if tr_flags & 0x01:
        data_offset = int(struct.unpack_from(">i", data, offset)[0])
        offset += 4
    first_flags = None
    if tr_flags & 0x04:
        first_flags = int(struct.unpack_from(">I", data, offset)[0])
        offset += 4
    fields = [bit for bit in (0x100, 0x200, 0x400, 0x800) if tr_flags & bit]
    duration = 0
    first_size = default_size
    for i in range(count):
        entry = offset + 4 * len(fields) * i
        if entry + 4 * len(fields) > trun[1]:
            return None
        values = dict(zip(fields, struct.unpack_from(f">{len(fields)}I", data, entry), strict=True))
        duration += values.get(0x100, default_duration or 0)
        if i == 0:
            first_size = values.get(0x200, default_size)
            if first_flags is None:
                first_flags = values.get(0x400, flags)
    if first_size is None or first_flags is None:
        return None
    return base + data_offset + first_size, decode_time, duration, not first_flags & _NON_SYNC


def _track_defaults(
    data: bytes, body: int, moof_start: int
) -> tuple[int, int | None, int | None, int | None]:
    """(data base offset, default duration, size, flags) from a `tfhd` payload."""
    tf_flags = int.from_bytes(data[body + 1 : body + 4], "big")
    offset = body + 8
    base = moof_start  # default-base-is-moof, and what CMAF requires
    if tf_flags & 0x01:
        base = int(struct.unpack_from(">Q", data, offset)[0])
        offset += 8
    if tf_flags & 0x02:
        offset += 4
    values: dict[int, int | None] = {0x08: None, 0x10: None, 0x20: None}
    for bit in (0x08, 0x10, 0x20):
        if tf_flags & bit:
            values[bit] = int(struct.unpack_from(">I", data, offset)[0])
            offset += 4
    return base, values[0x08], values[0x10], values[0x20]


def video_sample_entry(init: bytes) -> tuple[str, dict[str, bytes]] | None:
    """The first track's sample entry type ("avc1", "hvc1", "av01", ...) and the payloads of
    the boxes inside it by type (its "avcC", "hvcC" or "av1C" decoder configuration); None
    for a track that is not video or an init segment that cannot be read."""
    found = _find(init, [b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stsd"])
    if found is None or found[1] - found[0] < 16:
        return None
    entries = list(_boxes(init, found[0] + 8, found[1]))  # after version/flags, entry_count
    if not entries:
        return None
    kind, body, stop = entries[0]
    if _find(init, [b"moov", b"trak", b"mdia", b"minf", b"vmhd"]) is None:
        return None  # an audio or text track
    children = {
        child: init[start:end]
        for child, start, end in _boxes(init, body + _VISUAL_ENTRY_FIELDS, stop)
    }
    return kind.decode("latin-1"), {k.decode("latin-1"): v for k, v in children.items()}
