"""Encode progress as reported to callers (CLI bars, the pipeline's catalog)."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel


class Progress(BaseModel):
    fraction: float  # 0..1 of the source duration encoded
    out_time: float  # seconds of output written
    speed: float | None = None  # realtime factor reported by FFmpeg (2.0 = twice realtime)
    frame: int | None = None
    done: bool = False


ProgressCallback = Callable[[Progress], None]


def parse_progress_block(
    block: dict[str, str], duration: float | None, frame_rate: float | None = None
) -> Progress:
    """Turn one `-progress` key=value block of FFmpeg into a Progress. FFmpeg reports
    `out_time_us=N/A` while any output has written nothing yet (a sprite sheet waiting for
    its tiles): then the frame count at the output frame rate tells the time."""
    out_us = block.get("out_time_us") or block.get("out_time_ms") or "0"
    try:
        out_time = max(0.0, int(out_us) / 1_000_000)
    except ValueError:
        out_time = 0.0
        if frame_rate and block.get("frame", "").isdigit():
            out_time = int(block["frame"]) / frame_rate
    speed_text = block.get("speed", "").strip().rstrip("x")
    try:
        speed = float(speed_text) if speed_text and speed_text != "N/A" else None
    except ValueError:
        speed = None
    try:
        frame = int(block["frame"]) if block.get("frame") else None
    except ValueError:
        frame = None
    done = block.get("progress") == "end"
    fraction = 1.0 if done else (min(1.0, out_time / duration) if duration else 0.0)
    return Progress(fraction=fraction, out_time=out_time, speed=speed, frame=frame, done=done)
