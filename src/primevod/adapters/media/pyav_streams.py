"""Container and stream facts as the headers give them, read with PyAV without decoding
anything. Cover art is not counted as a video stream."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av

from primevod.core.errors import MediaError
from primevod.core.language import is_language_tag
from primevod.core.probe import (
    AudioStreamInfo,
    ProbeResult,
    SubtitleStreamInfo,
    VideoStreamInfo,
)


def _language(stream: av.stream.Stream) -> str | None:
    """The stream's language tag as the container has it ("eng"), None when undetermined
    or not a well-formed tag: it reaches FFmpeg's metadata, which writes the MPD's @lang
    as it is (a quote in it would break the XML)."""
    lang = (stream.metadata or {}).get("language")
    return lang if lang and lang != "und" and is_language_tag(lang) else None


def _is_default(stream: av.stream.Stream) -> bool:
    try:
        return bool(stream.disposition & av.stream.Disposition.default)
    except (AttributeError, TypeError):
        return False


# FFmpeg's names of the colour codes (ISO/IEC 23091-2) sources carry; a code not listed
# (unspecified, reserved, rare) reads as None
TRANSFERS = {
    1: "bt709",
    4: "bt470m",
    5: "bt470bg",
    6: "smpte170m",
    7: "smpte240m",
    8: "linear",
    13: "iec61966-2-1",
    14: "bt2020-10",
    15: "bt2020-12",
    16: "smpte2084",
    18: "arib-std-b67",
}
PRIMARIES = {1: "bt709", 5: "bt470bg", 6: "smpte170m", 9: "bt2020", 11: "smpte431", 12: "smpte432"}
MATRICES = {1: "bt709", 5: "bt470bg", 6: "smpte170m", 9: "bt2020nc", 10: "bt2020c"}


def _color(names: dict[int, str], code: object) -> str | None:
    return names.get(code) if isinstance(code, int) else None


def _ratio_str(value: Fraction | None) -> str | None:
    if not value:
        return None
    return f"{value.numerator}:{value.denominator}"


@dataclass
class _Streams:
    video: list[VideoStreamInfo] = field(default_factory=list)
    audio: list[AudioStreamInfo] = field(default_factory=list)
    subtitles: list[SubtitleStreamInfo] = field(default_factory=list)
    undecodable: list[str] = field(default_factory=list)  # types FFmpeg has no decoder for


def describe(container: av.container.InputContainer, file: Path, size: int) -> ProbeResult:
    """What the headers say about the file and each of its streams; raise MediaError when
    FFmpeg has no decoder for the streams the file is wanted for."""
    streams = _describe_streams(container)
    _check_decoders(streams, file)
    return _describe_container(container, file, size, streams)


def _describe_streams(container: av.container.InputContainer) -> _Streams:
    streams = _Streams()
    for stream in container.streams:
        if stream.type in ("video", "audio") and stream.codec_context is None:
            streams.undecodable.append(stream.type)
            continue
        duration = _stream_duration(stream)
        if stream.type == "video":
            if _is_cover_art(stream):
                continue
            streams.video.append(_describe_video(stream, duration))
        elif stream.type == "audio":
            streams.audio.append(_describe_audio(stream, duration))
        elif stream.type == "subtitle":
            streams.subtitles.append(_describe_subtitle(stream))
    return streams


def _stream_duration(stream: av.stream.Stream) -> float | None:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    return None


def _is_cover_art(stream: av.stream.Stream) -> bool:
    return bool(
        stream.codec_context.name in ("mjpeg", "png", "bmp")
        and stream.disposition & getattr(av.stream.Disposition, "attached_pic", 0)
    )


def _describe_video(stream: av.video.stream.VideoStream, duration: float | None) -> VideoStreamInfo:
    ctx = stream.codec_context
    fmt = ctx.format
    bit_depth = None
    chroma = None
    if fmt is not None:
        try:
            bit_depth = max(c.bits for c in fmt.components) if fmt.components else None
        except (AttributeError, ValueError):
            bit_depth = None
        chroma = _chroma(fmt.name)
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    sar = ctx.sample_aspect_ratio or stream.sample_aspect_ratio
    dar = ctx.display_aspect_ratio or stream.display_aspect_ratio
    return VideoStreamInfo(
        index=stream.index,
        codec=ctx.name,
        profile=ctx.profile or None,
        width=ctx.width,
        height=ctx.height,
        sample_aspect_ratio=_ratio_str(sar) or "1:1",
        display_aspect_ratio=_ratio_str(dar),
        frame_rate=float(rate) if rate else None,
        pixel_format=fmt.name if fmt is not None else None,
        bit_depth=bit_depth,
        chroma_subsampling=chroma,
        scan_type=_scan_from_field_order(ctx),
        bit_rate=ctx.bit_rate or None,
        frame_count=stream.frames or None,
        duration=duration,
        language=_language(stream),
        default=_is_default(stream),
        color_transfer=_color(TRANSFERS, getattr(ctx, "color_trc", None)),
        color_primaries=_color(PRIMARIES, getattr(ctx, "color_primaries", None)),
        color_matrix=_color(MATRICES, getattr(ctx, "colorspace", None)),
    )


def _describe_audio(stream: av.audio.stream.AudioStream, duration: float | None) -> AudioStreamInfo:
    ctx = stream.codec_context
    layout = getattr(ctx, "layout", None)
    channels = getattr(layout, "nb_channels", None) or getattr(ctx, "channels", 0) or 0
    return AudioStreamInfo(
        index=stream.index,
        codec=ctx.name,
        profile=ctx.profile or None,
        channels=channels,
        channel_layout=getattr(layout, "name", None),
        sample_rate=ctx.sample_rate or 0,
        bit_rate=ctx.bit_rate or None,
        language=_language(stream),
        duration=duration,
        default=_is_default(stream),
    )


def _describe_subtitle(stream: av.stream.Stream) -> SubtitleStreamInfo:
    return SubtitleStreamInfo(
        index=stream.index,
        codec=stream.codec_context.name if stream.codec_context else "unknown",
        language=_language(stream),
        title=(stream.metadata or {}).get("title"),
        default=_is_default(stream),
    )


def _check_decoders(streams: _Streams, file: Path) -> None:
    # An undecodable extra track is tolerated as long as a decodable picture (or, for a file
    # without video, decodable sound) remains.
    undecodable = streams.undecodable
    if undecodable and (not streams.video and ("video" in undecodable or not streams.audio)):
        kind = "video" if "video" in undecodable else "audio"
        raise MediaError(
            "source.unsupported_codec", f"{file.name}: no decoder for its {kind} codec"
        )


def _describe_container(
    container: av.container.InputContainer, file: Path, size: int, streams: _Streams
) -> ProbeResult:
    duration = container.duration / 1_000_000 if container.duration else None
    if duration is None:
        durations = [s.duration for s in [*streams.video, *streams.audio] if s.duration]
        duration = max(durations) if durations else None
    bit_rate = container.bit_rate or (int(size * 8 / duration) if duration else None)
    fmt = container.format
    return ProbeResult(
        path=str(file),
        format_name=fmt.name,
        format_long_name=fmt.long_name,
        size=size,
        duration=duration,
        bit_rate=bit_rate or None,
        video=streams.video,
        audio=streams.audio,
        subtitles=streams.subtitles,
        tags={str(k): str(v) for k, v in (container.metadata or {}).items()},
    )


def _chroma(pix_fmt: str) -> str | None:
    name = pix_fmt.lower()
    if name.startswith(("yuv420", "yuvj420", "nv12", "nv21", "p010", "p016")):
        return "4:2:0"
    if name.startswith(("yuv422", "yuvj422", "nv16", "y210", "uyvy", "yuyv")):
        return "4:2:2"
    if name.startswith(("yuv444", "yuvj444", "gbr", "rgb", "bgr", "argb", "abgr", "rgba", "bgra")):
        return "4:4:4"
    if name.startswith("gray"):
        return "4:0:0"
    return None


def _scan_from_field_order(ctx: av.codec.context.CodecContext) -> str:
    # AVFieldOrder: 0 unknown, 1 progressive, 2..5 the four interlaced field orders.
    order = getattr(ctx, "field_order", 0)
    if isinstance(order, str):
        return "progressive" if order.lower() in ("progressive", "unknown", "") else "interlaced"
    return "interlaced" if int(order or 0) >= 2 else "progressive"
