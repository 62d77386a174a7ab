"""Probing with PyAV: container and stream facts plus a short decode of the first frames
(rotation, interlacing, frame-rate regularity) and of the last second (truncation)."""

from __future__ import annotations

import itertools
import os
from fractions import Fraction
from pathlib import Path

import av
import av.error

from primevod.adapters.media.pyav_streams import describe
from primevod.core.errors import MediaError
from primevod.core.probe import (
    ProbeResult,
    VideoStreamInfo,
)

_SAMPLE_PACKETS = 240  # packets read to judge frame-rate regularity
_SAMPLE_FRAMES = 8  # frames decoded for rotation and interlacing


# FFmpeg demuxers that read plain text as pictures: `tty` draws any .txt file as 640x400
# "ansi" video frames, which would otherwise pass the source rules
TEXT_DEMUXERS = {"tty"}


def probe_file(path: str | os.PathLike[str], *, check_decode: bool = True) -> ProbeResult:
    """Probe a media file; raise MediaError with a `source.*` code when it cannot be read."""
    file = Path(path)
    if not file.is_file():
        raise MediaError("source.missing", f"no such file: {file}")
    size = file.stat().st_size
    if size == 0:
        raise MediaError("source.empty", f"{file.name} is empty (0 bytes)")
    try:
        # "file:" keeps a name like "clip:1.mp4" from being read as a protocol, and the
        # whitelist keeps a playlist posing as a video from making FFmpeg fetch URLs
        container = av.open(
            f"file:{file.absolute()}",
            mode="r",
            metadata_errors="ignore",
            options={"protocol_whitelist": "file"},
        )
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise MediaError(
            "source.unreadable", f"{file.name} is not a readable media file ({_reason(exc)})"
        ) from None
    if container.format.name in TEXT_DEMUXERS:
        container.close()
        raise MediaError("source.unreadable", f"{file.name} is text, not a media file")
    if is_still_picture(container.format.name):
        container.close()
        raise MediaError("source.duration", f"{file.name} is a still picture, not a video")
    try:
        with container:
            result = describe(container, file, size)
            if check_decode:
                _check_decodable(container, result, file)
            return result
    except MediaError:
        raise
    except Exception as exc:  # any decoder or demuxer surprise is the file's fault, not ours
        raise MediaError(
            "source.unreadable", f"{file.name} could not be read ({_reason(exc)})"
        ) from None


def is_still_picture(format_name: str) -> bool:
    """FFmpeg's single-picture demuxers: `image2` for a file by its name (.jpg, .png, ...)
    and the `*_pipe` ones that recognise a picture by its bytes (`png_pipe`, `webp_pipe`).
    Animated formats have demuxers of their own (`gif`, `apng`)."""
    return format_name == "image2" or format_name.endswith("_pipe")


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return text.strip().splitlines()[0][:160] if text.strip() else type(exc).__name__


def _check_decodable(
    container: av.container.InputContainer, result: ProbeResult, file: Path
) -> None:
    """Decode the first frames (rotation, interlacing, frame-rate regularity) and the end of
    the file (truncation). Each problem becomes a `source.*` MediaError."""
    primary = result.primary_video
    if primary is not None:
        stream = container.streams[primary.index]
        _check_codec(stream, file)
        _inspect_video(container, stream, primary, file)
    else:
        primary_audio = result.primary_audio
        if primary_audio is not None:
            stream = container.streams[primary_audio.index]
            _check_codec(stream, file)
            _decode_some(container, stream, file, frames=4)
    if result.duration and result.duration > 2.0:
        _check_tail(container, result, file)


def _check_codec(stream: av.stream.Stream, file: Path) -> None:
    try:
        codec = av.codec.Codec(stream.codec_context.name, "r")
    except (av.error.FFmpegError, ValueError, av.codec.codec.UnknownCodecError):
        codec = None
    if codec is None or stream.codec_context.name in ("none", ""):
        raise MediaError(
            "source.unsupported_codec",
            f"{file.name}: no decoder for {stream.type} codec {stream.codec_context.name!r}",
        )


def _inspect_video(
    container: av.container.InputContainer,
    stream: av.video.stream.VideoStream,
    info: VideoStreamInfo,
    file: Path,
) -> None:
    container.seek(0)
    pts: list[int] = []
    decoded = 0
    interlaced = 0
    rotation = 0
    try:
        for packet in container.demux(stream):
            if packet.pts is not None:
                pts.append(packet.pts)
            if decoded < _SAMPLE_FRAMES:
                for frame in packet.decode():
                    if decoded == 0:
                        rotation = round(getattr(frame, "rotation", 0) or 0)
                    decoded += 1
                    interlaced += int(bool(frame.interlaced_frame))
            if len(pts) >= _SAMPLE_PACKETS and decoded >= _SAMPLE_FRAMES:
                break
        if decoded < _SAMPLE_FRAMES:
            for frame in stream.codec_context.decode(None):  # flush the decoder
                decoded += 1
                interlaced += int(bool(frame.interlaced_frame))
    except av.error.FFmpegError as exc:
        if decoded == 0:
            raise MediaError(
                "source.truncated", f"{file.name}: the video cannot be decoded ({_reason(exc)})"
            ) from None
    if decoded == 0:
        raise MediaError("source.truncated", f"{file.name}: no video frame could be decoded")
    # FFmpeg reports the display matrix as a counter-clockwise angle; players rotate clockwise.
    info.rotation = (-rotation) % 360 if rotation % 90 == 0 else 0
    if interlaced * 2 > decoded:
        info.scan_type = "interlaced"
    info.variable_frame_rate = _is_variable(pts, stream.time_base)


def _is_variable(pts: list[int], time_base: Fraction | None) -> bool:
    if len(pts) < 8 or not time_base:
        return False
    ordered = sorted(set(pts))
    if len(ordered) > 32:
        # the window ends in the middle of B-frame reordering: its last timestamps have
        # gaps that later packets fill, so they say nothing about the frame rate
        ordered = ordered[:-16]
    deltas = [b - a for a, b in itertools.pairwise(ordered)]
    deltas = [d for d in deltas if d > 0]
    if not deltas:
        return False
    smallest, largest = min(deltas), max(deltas)
    # Constant-rate streams keep every step within a tick or two of each other.
    tolerance = max(2, smallest * 0.1)
    return largest - smallest > tolerance


def _decode_some(
    container: av.container.InputContainer, stream: av.stream.Stream, file: Path, frames: int
) -> None:
    container.seek(0)
    got = 0
    try:
        for packet in container.demux(stream):
            for _ in packet.decode():
                got += 1
            if got >= frames:
                return
    except av.error.FFmpegError as exc:
        if got == 0:
            raise MediaError(
                "source.truncated", f"{file.name}: the stream cannot be decoded ({_reason(exc)})"
            ) from None
    if got == 0:
        raise MediaError("source.truncated", f"{file.name}: no frame could be decoded")


def _check_tail(container: av.container.InputContainer, result: ProbeResult, file: Path) -> None:
    """Seek to just before the end and decode: a cut-off file has nothing there. Passes when
    the video or the audio reaches the end (a still picture with sound has one frame)."""
    duration = float(result.duration or 0.0)
    start = container.start_time / 1_000_000 if container.start_time else 0.0
    best: float | None = None
    for info in (result.primary_video, result.primary_audio):
        if info is None:
            continue
        reached = _last_time(container, container.streams[info.index], start, duration)
        if reached is not None:
            best = reached if best is None else max(best, reached)
            if reached >= duration * 0.9 - 2.0:
                return
    shown = f"{best:.1f}s" if best is not None else "nothing"
    raise MediaError(
        "source.truncated",
        f"{file.name} claims {duration:.1f}s but decoding near the end reached {shown}",
    )


def _last_time(
    container: av.container.InputContainer,
    stream: av.stream.Stream,
    start: float,
    duration: float,
) -> float | None:
    """Seconds (from the file's start) of the last packet present near the end. Demuxing is
    enough: a cut-off file has no packets there, and damage inside the data shows up when the
    encode ends short. Steps back further when the first seek lands past every packet."""
    for back in (1.5, 10.0, 30.0):
        target = start + max(0.0, duration - back)
        last = None
        try:
            container.seek(int(target * 1_000_000), any_frame=False, backward=True)
            for packet in container.demux(stream):
                if packet.pts is None or packet.size == 0 or packet.time_base is None:
                    continue
                end = float((packet.pts + (packet.duration or 0)) * packet.time_base)
                last = end if last is None else max(last, end)
        except av.error.FFmpegError:
            pass
        if last is not None:
            return last - start
        if duration - back <= 0:
            break
    return None
