"""The output frame rate and keyframe interval of a ladder: constant, within the policy's
maximum, and a whole number of GOPs per segment."""

from __future__ import annotations

import math
from fractions import Fraction

from primevod.core.errors import MediaError
from primevod.core.probe import VideoStreamInfo

MAX_FRAME_RATE = 60.0
# Common broadcast rates a variable-frame-rate source is snapped to when close enough.
_STANDARD_RATES = [
    Fraction(24000, 1001),
    Fraction(24),
    Fraction(25),
    Fraction(30000, 1001),
    Fraction(30),
    Fraction(48),
    Fraction(50),
    Fraction(60000, 1001),
    Fraction(60),
]


def output_frame_rate(video: VideoStreamInfo, max_fps: float = MAX_FRAME_RATE) -> Fraction:
    """The constant output rate: the source's (snapped when variable), divided down to <= max."""
    fps = Fraction(video.frame_rate or 25).limit_denominator(1001)
    if video.variable_frame_rate:
        nearest = min(_STANDARD_RATES, key=lambda r: abs(float(r) - float(fps)))
        if abs(float(nearest) - float(fps)) / float(nearest) <= 0.05:
            fps = nearest
        else:
            fps = Fraction(round(float(fps) * 1000), 1000)
    divisor = max(1, math.ceil(float(fps) / max_fps - 1e-9))
    return fps / divisor


def gop_seconds_for(segment_seconds: float) -> float:
    """Keyframe interval: segments hold a whole number of GOPs of about 2 s (or less)."""
    if segment_seconds <= 0:
        raise MediaError("request.invalid", "segment duration must be positive")
    return segment_seconds / max(1, math.ceil(segment_seconds / 2.0 - 1e-9))


def fraction_str(value: Fraction) -> str:
    return (
        f"{value.numerator}/{value.denominator}" if value.denominator != 1 else str(value.numerator)
    )
