"""The checks on one media playlist: its tags (version, VOD), its segments' durations and
reachability, and whether (a sample of) its segments start with a keyframe and decode. Its
files also say what the variant really carries: measured rates, codec and picture size."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from urllib.parse import urljoin

from primevod.adapters.media.fetcher import Fetcher
from primevod.adapters.media.segment_probe import SegmentProbe, first_packet
from primevod.core.codec_strings import video_codec_string
from primevod.core.content_keys import is_encrypted
from primevod.core.fmp4 import first_sample_is_sync, trex_default_flags
from primevod.core.hls import (
    MediaPlaylistInfo,
    Segment,
    measure_bitrates,
    parse_media_playlist,
    required_version,
)
from primevod.core.outputs import ValidationReport

DECODE_SAMPLES = 3  # segments per playlist decoded (first, last and between); all are demuxed


@dataclass
class MediaStats:
    """What a media playlist's own files say: measured rates and the coded stream."""

    average: int = 0
    peak: int = 0
    codec: str | None = None  # RFC 6381 string read from the init segment
    resolution: tuple[int, int] | None = None


def check_version(report: ValidationReport, uri: str, text: str) -> None:
    declared = None
    for line in text.splitlines():
        if line.startswith("#EXT-X-VERSION:"):
            try:
                declared = int(line.split(":", 1)[1])
            except ValueError:
                report.add("playlist.version", uri, False, f"unreadable {line.strip()!r}")
                return
    needed = required_version(text)
    ok = (declared or 1) >= needed
    report.add(
        "playlist.version", uri, ok, f"EXT-X-VERSION {declared or 'absent (1)'}, tags need {needed}"
    )


def check_media_playlist(
    uri: str,
    kind: str,
    fetcher: Fetcher,
    report: ValidationReport,
    sample_segments: int | None,
    decode_samples: int = DECODE_SAMPLES,
) -> MediaStats | None:
    """None when the playlist's rates cannot be measured: it is unreadable, has no
    segments, or misses some of them. `decode_samples`: segments decoded (the keyframe rule
    is read from the fragment headers of all the others)."""
    parsed = _read_playlist(report, uri, fetcher)
    if parsed is None:
        return None
    text, info = parsed
    _check_tags(report, uri, text, info)
    if not info.segments:
        report.add("playlist.segments", uri, False, "no segments")
        return None
    _check_durations(report, uri, info)
    sized, complete = _check_reachable(report, uri, info.segments, fetcher)
    init = _read_init(report, uri, info.map_uri, fetcher)
    if init is None:
        return None
    picks = sized if sample_segments is None else _spread(sized, sample_segments)
    if is_encrypted(text):
        stats = _encrypted_stats(report, uri, kind, init)
    else:
        stats = _check_segments(report, uri, kind, picks, init, fetcher, decode_samples)
    if not complete:
        return None
    stats.average, stats.peak = measure_bitrates(sized, info.target_duration)
    return stats


def _read_playlist(
    report: ValidationReport, uri: str, fetcher: Fetcher
) -> tuple[str, MediaPlaylistInfo] | None:
    try:
        text = fetcher.read(uri).decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        report.add("playlist.reachable", uri, False, f"cannot read: {exc}")
        return None
    try:
        return text, parse_media_playlist(text)
    except ValueError as exc:
        report.add("playlist.parse", uri, False, f"malformed playlist: {exc}")
        return None


def _check_tags(report: ValidationReport, uri: str, text: str, info: MediaPlaylistInfo) -> None:
    check_version(report, uri, text)
    report.add(
        "playlist.vod",
        uri,
        info.playlist_type == "VOD" and info.endlist,
        f"PLAYLIST-TYPE {info.playlist_type or 'absent'}, "
        f"ENDLIST {'present' if info.endlist else 'absent'}",
    )
    report.add(
        "playlist.no_program_date_time",
        uri,
        not info.has_program_date_time,
        "wall-clock PROGRAM-DATE-TIME in a VOD playlist" if info.has_program_date_time else "none",
        severity="warning",
    )


def _check_durations(report: ValidationReport, uri: str, info: MediaPlaylistInfo) -> None:
    target = info.target_duration or 0
    longest = max(s.duration for s in info.segments)
    report.add(
        "segment.duration",
        uri,
        longest <= target + 0.5,
        f"longest EXTINF {longest:.3f}s, TARGETDURATION {target}",
    )


def _check_reachable(
    report: ValidationReport, uri: str, segments: list[Segment], fetcher: Fetcher
) -> tuple[list[Segment], bool]:
    """The segments that exist, resolved and sized, and whether that is all of them."""
    sized: list[Segment] = []
    unreachable: list[str] = []
    reason = ""  # the first failure's own words (a local error, or an HTTP status)
    for seg in segments:
        seg_uri = urljoin(uri, seg.uri)
        try:
            sized.append(Segment(uri=seg_uri, duration=seg.duration, size=fetcher.size(seg_uri)))
        except OSError as exc:
            unreachable.append(seg.uri)
            reason = reason or f" ({exc.strerror or exc})"
    report.add(
        "segment.reachable",
        uri,
        not unreachable,
        f"missing: {', '.join(unreachable[:5])}{reason}"
        if unreachable
        else f"{len(sized)} segment(s)",
    )
    return sized, not unreachable


def _read_init(
    report: ValidationReport, uri: str, map_uri: str | None, fetcher: Fetcher
) -> bytes | None:
    """The init segment (empty without EXT-X-MAP); None when it cannot be read."""
    if not map_uri:
        return b""
    try:
        return fetcher.read(urljoin(uri, map_uri))
    except OSError as exc:
        report.add("segment.init", uri, False, f"init segment unreadable: {exc}")
        return None


def _encrypted_stats(report: ValidationReport, uri: str, kind: str, init: bytes) -> MediaStats:
    """An encrypted playlist (HLS AES-128): its segments do not demux without the key, which
    a validator never has; the codec and picture size come from the clear init segment."""
    probe = first_packet(init, kind, decode=False)
    report.add(
        "segment.encrypted",
        uri,
        True,
        "AES-128: segments measured by size; their pictures are checked before encryption",
    )
    return MediaStats(codec=probe.codec, resolution=probe.resolution)


def _check_segments(
    report: ValidationReport,
    uri: str,
    kind: str,
    picks: list[Segment],
    init: bytes,
    fetcher: Fetcher,
    decode_samples: int = DECODE_SAMPLES,
) -> MediaStats:
    """The keyframe and decoding rules on the picked segments; the codec and picture size
    of the first one that shows them."""
    # the codec from the init segment's boxes, whether or not a segment decodes
    stats = MediaStats(codec=video_codec_string(init) if kind == "video" else None)
    # every picked segment is demuxed (keyframe rule); a spread of them is also decoded
    to_decode = {id(s) for s in _spread(picks, decode_samples)} if decode_samples else set()
    bad_key: list[str] = []
    undecodable: list[str] = []
    default_flags = trex_default_flags(init) if init else None
    for seg in picks:
        try:
            data = fetcher.read(seg.uri)
        except OSError:
            continue
        probe = _probe(init, data, kind, default_flags, decode=id(seg) in to_decode)
        if stats.resolution is None:
            stats.resolution = probe.resolution
        if stats.codec is None:
            stats.codec = probe.codec
        if kind == "video" and probe.decoded is not None and not probe.keyframe:
            bad_key.append(posixpath.basename(seg.uri))  # no decode without its reference
        elif not probe.decoded:
            undecodable.append(posixpath.basename(seg.uri))
    report.add(
        "segment.decodable",
        uri,
        not undecodable,
        f"cannot decode: {', '.join(undecodable[:5])}"
        if undecodable
        else f"{len(picks)} read, {len(to_decode)} decoded",
    )
    if kind == "video":
        report.add(
            "segment.keyframe",
            uri,
            not bad_key,
            f"not starting with a keyframe: {', '.join(bad_key[:5])}"
            if bad_key
            else f"{len(picks)} checked",
        )
    return stats


def _probe(
    init: bytes, data: bytes, kind: str, default_flags: int | None, *, decode: bool
) -> SegmentProbe:
    sync = first_sample_is_sync(data, default_flags)
    if decode or sync is None:
        return first_packet(init + data, kind, decode=decode)
    # the fragment header answers the keyframe rule without a decoder
    return SegmentProbe(keyframe=sync, decoded=True)


def _spread(items: list[Segment], count: int) -> list[Segment]:
    if count <= 0 or len(items) <= count:
        return items
    step = (len(items) - 1) / max(1, count - 1)
    return [items[round(i * step)] for i in range(count)]
