"""What a source must be to enter the pipeline. Pure checks over a probe result.

Audio-only sources are accepted: they get an audio-only HLS/DASH rendition set (see
docs/media.md). A file with neither video nor audio is rejected.
"""

from __future__ import annotations

from pydantic import BaseModel

from primevod.core.errors import MediaError
from primevod.core.probe import ProbeResult

DEV_MAX_SECONDS = 30.0  # the dev profile's longest source: test clips, cheap encodes
# a container's duration runs past the streams' by a frame or an audio packet
DURATION_SLACK = 0.1


class SourceLimits(BaseModel):
    min_dimension: int = 16
    max_dimension: int = 8192
    max_pixels: int = 8192 * 4320
    min_duration: float = 0.1
    max_duration: float = 12 * 3600.0
    max_frame_rate: float = 300.0
    allow_audio_only: bool = True
    why_max_duration: str = ""  # what sets the limit, for the message


def limits_for(profile: str) -> SourceLimits:
    """The source limits of a settings profile (`PRIMEVOD_PROFILE`): `dev` takes test clips
    of at most DEV_MAX_SECONDS; any other profile, the defaults."""
    if profile == "dev":
        return SourceLimits(max_duration=DEV_MAX_SECONDS, why_max_duration="the dev profile's")
    return SourceLimits()


def check_source(probe: ProbeResult, limits: SourceLimits | None = None) -> None:
    """Raise a MediaError with a stable code when the probed source cannot be processed."""
    limits = limits or SourceLimits()
    if not probe.video and not probe.audio:
        raise MediaError("source.no_streams", "the file has no video or audio stream")
    if not probe.video and not limits.allow_audio_only:
        raise MediaError("source.no_video", "the file has no video stream (audio-only is off)")

    duration = probe.duration
    if duration is None or duration != duration or duration <= 0:
        raise MediaError("source.duration", "the duration of the file cannot be determined")
    if duration < limits.min_duration:
        raise MediaError(
            "source.duration",
            f"duration {duration:.3f}s is shorter than the minimum {limits.min_duration}s",
        )
    if duration > limits.max_duration + DURATION_SLACK:
        whose = f"{limits.why_max_duration} " if limits.why_max_duration else ""
        raise MediaError(
            "source.too_long",
            f"the source runs {duration:.1f} s; {whose}limit is {limits.max_duration:g} s",
        )

    video = probe.primary_video
    if video is None:
        return
    width, height = video.width, video.height
    if min(width, height) < limits.min_dimension:
        raise MediaError(
            "source.dimensions",
            f"video is {width}x{height}; each side must be at least {limits.min_dimension} px",
        )
    if max(width, height) > limits.max_dimension or width * height > limits.max_pixels:
        raise MediaError(
            "source.dimensions",
            f"video is {width}x{height}; the limit is {limits.max_dimension} px a side",
        )
    fps = video.frame_rate
    if fps is None or fps <= 0:
        raise MediaError("source.frame_rate", "the frame rate of the video cannot be determined")
    if fps > limits.max_frame_rate:
        raise MediaError(
            "source.frame_rate",
            f"frame rate {fps:.2f} fps is above the maximum {limits.max_frame_rate:.0f} fps",
        )
