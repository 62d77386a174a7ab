"""HLS playlist rules: measuring segment bitrates, rewriting media playlists for VOD and
writing the master playlist from measured figures. Pure text in, text out."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from pydantic import BaseModel

HLS_VERSION = 6  # EXT-X-MAP without I-frames-only needs version 6 (RFC 8216 section 7)


class Segment(BaseModel):
    uri: str
    duration: float
    size: int | None = None


class MediaPlaylistInfo(BaseModel):
    version: int | None
    target_duration: int | None
    playlist_type: str | None
    endlist: bool
    map_uri: str | None
    segments: list[Segment]
    has_program_date_time: bool
    independent_segments: bool


_ATTR = re.compile(r'([A-Z0-9-]+)=("[^"]*"|[^,]*)')


def parse_attributes(text: str) -> dict[str, str]:
    return {k: v.strip('"') for k, v in _ATTR.findall(text)}


def parse_media_playlist(text: str) -> MediaPlaylistInfo:
    """Raises ValueError on a malformed number (EXTINF, TARGETDURATION, VERSION)."""
    version = target = None
    ptype = None
    endlist = pdt = independent = False
    map_uri = None
    segments: list[Segment] = []
    pending: float | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#EXT-X-VERSION:"):
            version = int(line.split(":", 1)[1])
        elif line.startswith("#EXT-X-TARGETDURATION:"):
            target = int(line.split(":", 1)[1])
        elif line.startswith("#EXT-X-PLAYLIST-TYPE:"):
            ptype = line.split(":", 1)[1]
        elif line.startswith("#EXT-X-ENDLIST"):
            endlist = True
        elif line.startswith("#EXT-X-PROGRAM-DATE-TIME"):
            pdt = True
        elif line.startswith("#EXT-X-INDEPENDENT-SEGMENTS"):
            independent = True
        elif line.startswith("#EXT-X-MAP:"):
            map_uri = parse_attributes(line.split(":", 1)[1]).get("URI")
        elif line.startswith("#EXTINF:"):
            pending = float(line.split(":", 1)[1].split(",", 1)[0])
        elif not line.startswith("#"):
            segments.append(Segment(uri=line, duration=pending or 0.0))
            pending = None
    return MediaPlaylistInfo(
        version=version,
        target_duration=target,
        playlist_type=ptype,
        endlist=endlist,
        map_uri=map_uri,
        segments=segments,
        has_program_date_time=pdt,
        independent_segments=independent,
    )


def measure_bitrates(segments: Sequence[Segment]) -> tuple[int, int]:
    """(average, peak) in bit/s: total bits over total time, and the highest segment rate.
    A final segment shorter than a second is left out of the peak (its rate is noise)."""
    timed = [s for s in segments if s.size is not None and s.duration > 0]
    if not timed:
        return 0, 0
    total_bits = sum(s.size * 8 for s in timed)  # type: ignore[operator]
    total_time = sum(s.duration for s in timed)
    peak_candidates = [s for s in timed[:-1]] + (
        [timed[-1]] if timed[-1].duration >= 1.0 or len(timed) == 1 else []
    )
    peak = max(s.size * 8 / s.duration for s in peak_candidates)  # type: ignore[operator]
    return round(total_bits / total_time), round(peak)


def target_duration(segments: Sequence[Segment]) -> int:
    """RFC 8216: the maximum EXTINF rounded to the nearest integer (at least 1)."""
    longest = max((s.duration for s in segments), default=1.0)
    return max(1, math.floor(longest + 0.5))


def required_version(text: str) -> int:
    """The lowest EXT-X-VERSION the tags of a playlist need (RFC 8216 section 7)."""
    version = 1
    if re.search(r"#EXTINF:\d+\.\d", text):
        version = 3
    if "#EXT-X-BYTERANGE" in text or "#EXT-X-I-FRAMES-ONLY" in text:
        version = max(version, 4)
    if "#EXT-X-MAP" in text:
        version = max(version, 5 if "#EXT-X-I-FRAMES-ONLY" in text else 6)
    if re.search(r'INSTREAM-ID="SERVICE', text):
        version = max(version, 7)
    return version


def rewrite_media_playlist(text: str) -> str:
    """A media playlist fit for VOD: no wall-clock PROGRAM-DATE-TIME, PLAYLIST-TYPE:VOD,
    INDEPENDENT-SEGMENTS, EXT-X-VERSION and TARGETDURATION recomputed."""
    info = parse_media_playlist(text)
    out = [
        "#EXTM3U",
        f"#EXT-X-VERSION:{HLS_VERSION}",
        f"#EXT-X-TARGETDURATION:{target_duration(info.segments)}",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        "#EXT-X-INDEPENDENT-SEGMENTS",
    ]
    skip = (
        "#EXTM3U",
        "#EXT-X-VERSION",
        "#EXT-X-TARGETDURATION",
        "#EXT-X-PLAYLIST-TYPE",
        "#EXT-X-PROGRAM-DATE-TIME",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        "#EXT-X-ENDLIST",
    )
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(skip):
            continue
        out.append(line)
    out.append("#EXT-X-ENDLIST")
    return "\n".join(out) + "\n"


class AudioMedia(BaseModel):
    group_id: str
    name: str
    uri: str
    channels: int
    language: str | None = None
    default: bool = True


class Variant(BaseModel):
    uri: str
    bandwidth: int
    average_bandwidth: int
    codecs: str
    resolution: tuple[int, int] | None = None
    frame_rate: float | None = None
    audio_group: str | None = None


def render_master(variants: Sequence[Variant], audio: Sequence[AudioMedia]) -> str:
    """Master playlist, variants in ascending bandwidth."""
    out = ["#EXTM3U", f"#EXT-X-VERSION:{HLS_VERSION}", "#EXT-X-INDEPENDENT-SEGMENTS", ""]
    for media in audio:
        attrs = [
            "TYPE=AUDIO",
            f'GROUP-ID="{media.group_id}"',
            f'NAME="{media.name}"',
        ]
        if media.language:
            attrs.append(f'LANGUAGE="{media.language}"')
        attrs += [
            f"DEFAULT={'YES' if media.default else 'NO'}",
            "AUTOSELECT=YES",
            f'CHANNELS="{media.channels}"',
            f'URI="{media.uri}"',
        ]
        out.append("#EXT-X-MEDIA:" + ",".join(attrs))
    if audio:
        out.append("")
    for variant in sorted(variants, key=lambda v: v.bandwidth):
        attrs = [
            f"BANDWIDTH={variant.bandwidth}",
            f"AVERAGE-BANDWIDTH={variant.average_bandwidth}",
            f'CODECS="{variant.codecs}"',
        ]
        if variant.resolution:
            attrs.append(f"RESOLUTION={variant.resolution[0]}x{variant.resolution[1]}")
        if variant.frame_rate:
            attrs.append(f"FRAME-RATE={variant.frame_rate:.3f}")
        if variant.audio_group:
            attrs.append(f'AUDIO="{variant.audio_group}"')
        out.append("#EXT-X-STREAM-INF:" + ",".join(attrs))
        out.append(variant.uri)
    return "\n".join(out) + "\n"
