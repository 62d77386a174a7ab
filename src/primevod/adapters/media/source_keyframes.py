"""Where a source's video keyframes are, read with PyAV without decoding: a seek to the
keyframe at or before each stretch asked for and a demux of its packets to the stretch's
end, so only those stretches of the file are read."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av


def keyframes_in(
    source: Path, stretches: Sequence[tuple[Fraction, Fraction]]
) -> list[Fraction] | None:
    """The keyframes (seconds from the start, as FFmpeg's `-ss` counts them) from the one at
    or before each stretch's start to its end; None when the source cannot be read so."""
    found: set[Fraction] = set()
    try:
        with av.open(str(source)) as container:
            if not container.streams.video:
                return None
            stream = container.streams.video[0]
            base = stream.time_base or Fraction(1, 90000)
            offset = Fraction(container.start_time or 0, av.time_base)
            for start, end in stretches:
                container.seek(int((start + offset) / base), stream=stream, backward=True)
                found |= _until(container, stream, base, offset, end)
    except (av.error.FFmpegError, OSError):
        return None
    return sorted(found)


def _until(
    container: av.container.InputContainer,
    stream: av.video.stream.VideoStream,
    base: Fraction,
    offset: Fraction,
    end: Fraction,
) -> set[Fraction]:
    found: set[Fraction] = set()
    for packet in container.demux(stream):
        if packet.pts is None:
            continue
        at = packet.pts * base - offset
        if packet.is_keyframe:
            found.add(at)
        if at > end:
            break
    return found


def video_time_base(source: Path) -> Fraction | None:
    """The time base of the source's first video stream (None: unreadable)."""
    try:
        with av.open(str(source)) as container:
            streams = container.streams.video
            return Fraction(streams[0].time_base) if streams and streams[0].time_base else None
    except (av.error.FFmpegError, OSError):
        return None
