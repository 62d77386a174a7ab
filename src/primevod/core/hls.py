"""HLS playlist rules: measuring segment bitrates, rewriting media playlists for VOD and
writing the master playlist from measured figures. Pure text in, text out."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from pydantic import BaseModel

from primevod.core.labels import clean_label
from primevod.core.language import bcp47

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


def peak_segment_bitrate(segments: Sequence[Segment], target: int | None = None) -> int:
    """RFC 8216 section 4.1: the largest bit rate of any contiguous set of segments whose total
    duration is between 0.5 and 1.5 times the target duration (rate = bits / seconds of the
    set). A title too short for any such set has its whole rate as its peak."""
    timed = [s for s in segments if s.size is not None and s.duration > 0]
    if not timed:
        return 0
    target = target or target_duration(timed)
    low, high = 0.5 * target, 1.5 * target
    peak = 0.0
    for start in range(len(timed)):
        bits = seconds = 0.0
        for seg in timed[start:]:
            bits += seg.size * 8  # type: ignore[operator]
            seconds += seg.duration
            if seconds > high:
                break
            if seconds >= low:
                peak = max(peak, bits / seconds)
    if peak == 0.0:
        peak = sum(s.size * 8 for s in timed) / sum(s.duration for s in timed)  # type: ignore[operator]
    return round(peak)


def measure_bitrates(segments: Sequence[Segment], target: int | None = None) -> tuple[int, int]:
    """(average, peak) in bit/s as RFC 8216 defines them: the average segment bit rate (all
    bits over all time) and the peak segment bit rate over windows of about one target
    duration. The peak is never below the average (with no window tiling the whole title,
    the RFC's windows could miss bits the average counts)."""
    timed = [s for s in segments if s.size is not None and s.duration > 0]
    if not timed:
        return 0, 0
    total_bits = sum(s.size * 8 for s in timed)  # type: ignore[operator]
    total_time = sum(s.duration for s in timed)
    average = round(total_bits / total_time)
    return average, max(average, peak_segment_bitrate(timed, target))


def target_duration(segments: Sequence[Segment]) -> int:
    """RFC 8216: the maximum EXTINF rounded to the nearest integer (at least 1)."""
    longest = max((s.duration for s in segments), default=1.0)
    return max(1, math.floor(longest + 0.5))


def has_runt_tail(segments: Sequence[Segment], segment_seconds: float) -> bool:
    """Whether the last segment is a runt to fold into the one before it: shorter than half
    the nominal segment length, in a title of more than one segment."""
    return len(segments) > 1 and segments[-1].duration < segment_seconds / 2


def fold_last_segment(text: str) -> str:
    """The media playlist with its last segment folded into the one before: that segment's
    EXTINF becomes the sum of both and the last URI line goes (its bytes are appended to the
    previous segment's file by the caller). Raises ValueError with fewer than two segments."""
    lines = text.splitlines()
    uris = [i for i, line in enumerate(lines) if line.strip() and not line.startswith("#")]
    infs = [i for i, line in enumerate(lines) if line.startswith("#EXTINF:")]
    if len(uris) < 2 or len(infs) < 2:
        raise ValueError("a playlist with fewer than two segments has nothing to fold")
    last_inf, prev_inf = infs[-1], infs[-2]
    total = sum(float(lines[i].split(":", 1)[1].split(",", 1)[0]) for i in (prev_inf, last_inf))
    title = lines[prev_inf].split(",", 1)[1] if "," in lines[prev_inf] else ""
    lines[prev_inf] = f"#EXTINF:{total:.6f},{title}"
    del lines[uris[-1]]
    del lines[last_inf]
    return "\n".join(lines) + "\n"


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
    subtitles_group: str | None = None


class SubtitleMedia(BaseModel):
    group_id: str
    name: str
    uri: str
    language: str
    default: bool = False


class IFrameVariant(BaseModel):
    """An EXT-X-I-FRAME-STREAM-INF: the I-frame playlist of one video variant."""

    uri: str
    bandwidth: int
    average_bandwidth: int
    codecs: str
    resolution: tuple[int, int]


class IFrame(BaseModel):
    """One entry of an I-frame playlist: a byte range of a segment holding a keyframe."""

    uri: str
    offset: int
    length: int
    duration: float


def render_iframe_playlist(map_uri: str, frames: Sequence[IFrame]) -> str:
    """An EXT-X-I-FRAMES-ONLY media playlist; each EXTINF lasts until the next I-frame."""
    target = target_duration([Segment(uri=f.uri, duration=f.duration) for f in frames])
    out = [
        "#EXTM3U",
        f"#EXT-X-VERSION:{HLS_VERSION}",
        f"#EXT-X-TARGETDURATION:{target}",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        "#EXT-X-I-FRAMES-ONLY",
        f'#EXT-X-MAP:URI="{map_uri}"',
    ]
    for frame in frames:
        out += [
            f"#EXTINF:{frame.duration:.6f},",
            f"#EXT-X-BYTERANGE:{frame.length}@{frame.offset}",
            frame.uri,
        ]
    out.append("#EXT-X-ENDLIST")
    return "\n".join(out) + "\n"


def media_language(language: str) -> str:
    """An EXT-X-MEDIA LANGUAGE: a whole RFC 5646 tag, `und` for anything else."""
    return bcp47(language) or "und"


def media_name(name: str, language: str | None) -> str:
    """An EXT-X-MEDIA NAME: one line, no `"`, capped (core/labels), the language when
    nothing is left. Every NAME and LANGUAGE of a master passes here: names come from
    source metadata and users, and a line break in one would add a playlist line."""
    return clean_label(name) or media_language(language or "und")


def _media_lines(audio: Sequence[AudioMedia], subtitles: Sequence[SubtitleMedia]) -> list[str]:
    out = []
    for media in audio:
        attrs = [
            "TYPE=AUDIO",
            f'GROUP-ID="{media.group_id}"',
            f'NAME="{media_name(media.name, media.language)}"',
        ]
        if media.language:
            attrs.append(f'LANGUAGE="{media_language(media.language)}"')
        attrs += [
            f"DEFAULT={'YES' if media.default else 'NO'}",
            "AUTOSELECT=YES",
            f'CHANNELS="{media.channels}"',
            f'URI="{media.uri}"',
        ]
        out.append("#EXT-X-MEDIA:" + ",".join(attrs))
    for sub in subtitles:
        attrs = [
            "TYPE=SUBTITLES",
            f'GROUP-ID="{sub.group_id}"',
            f'NAME="{media_name(sub.name, sub.language)}"',
            f'LANGUAGE="{media_language(sub.language)}"',
            f"DEFAULT={'YES' if sub.default else 'NO'}",
            "AUTOSELECT=YES",
            "FORCED=NO",
            f'URI="{sub.uri}"',
        ]
        out.append("#EXT-X-MEDIA:" + ",".join(attrs))
    return out


def render_master(
    variants: Sequence[Variant],
    audio: Sequence[AudioMedia],
    subtitles: Sequence[SubtitleMedia] = (),
    iframes: Sequence[IFrameVariant] = (),
) -> str:
    """Master playlist, variants in ascending bandwidth, then the I-frame variants."""
    out = ["#EXTM3U", f"#EXT-X-VERSION:{HLS_VERSION}", "#EXT-X-INDEPENDENT-SEGMENTS", ""]
    out += _media_lines(audio, subtitles)
    if audio or subtitles:
        out.append("")
    for variant in sorted(variants, key=lambda v: v.bandwidth):
        attrs = _stream_attrs(variant)
        if variant.frame_rate:
            attrs.append(f"FRAME-RATE={variant.frame_rate:.3f}")
        if variant.audio_group:
            attrs.append(f'AUDIO="{variant.audio_group}"')
        if variant.subtitles_group:
            attrs.append(f'SUBTITLES="{variant.subtitles_group}"')
        out.append("#EXT-X-STREAM-INF:" + ",".join(attrs))
        out.append(variant.uri)
    if iframes:
        out.append("")
    for frame in sorted(iframes, key=lambda v: v.bandwidth):
        attrs = [*_stream_attrs(frame), f'URI="{frame.uri}"']
        out.append("#EXT-X-I-FRAME-STREAM-INF:" + ",".join(attrs))
    return "\n".join(out) + "\n"


def _stream_attrs(stream: Variant | IFrameVariant) -> list[str]:
    """The attributes a variant and an I-frame variant share, in the order both write them."""
    attrs = [
        f"BANDWIDTH={stream.bandwidth}",
        f"AVERAGE-BANDWIDTH={stream.average_bandwidth}",
        f'CODECS="{stream.codecs}"',
    ]
    if stream.resolution:
        attrs.append(f"RESOLUTION={stream.resolution[0]}x{stream.resolution[1]}")
    return attrs


def without_iframe_variants(master_text: str) -> str:
    """The master playlist without its EXT-X-I-FRAME-STREAM-INF lines (an encrypted package:
    byte ranges into whole-segment AES-128 segments cannot be decrypted alone)."""
    lines = [
        line
        for line in master_text.splitlines()
        if not line.startswith("#EXT-X-I-FRAME-STREAM-INF")
    ]
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines) + "\n"
