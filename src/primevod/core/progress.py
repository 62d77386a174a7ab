"""Encode progress as reported to callers (CLI bars, the pipeline's catalog): FFmpeg's
`-progress` blocks, the encode clock (the time of every packet one encoder writes), and the
words that say what an encode is doing."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from pydantic import BaseModel


class Progress(BaseModel):
    fraction: float  # 0..1 of the source duration encoded
    out_time: float  # seconds of output written
    speed: float | None = None  # realtime factor reported by FFmpeg (2.0 = twice realtime)
    frame: int | None = None
    done: bool = False
    activity: str | None = None  # what the encode is doing: "encoding 4 renditions 1080p…240p"


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


# The key of the encode clock's lines on FFmpeg's stdout (adapters/media/ffmpeg_runner.py).
ENCODE_CLOCK = "encoded_time"


class EncodeClock:
    """Progress from the encode clock: FFmpeg writes `encoded_time=S` for every packet of one
    encoder, from the first packet on. (FFmpeg's own `-progress` reports wait until every
    output file has started, and a sprite sheet starts only once its 25 tiles are picked: a
    quarter of a long title, all of a short one.) A Progress whenever the whole percent
    changes, else at most every `interval` seconds."""

    def __init__(self, duration: float | None, started: float, interval: float = 0.5) -> None:
        self.duration = duration
        self.started = started
        self.interval = interval
        self.out_time = 0.0
        self.percent = -1
        self.last = -math.inf

    def tick(self, seconds: str, now: float) -> Progress | None:
        """The Progress worth reporting for one clock line, if any."""
        try:
            value = float(seconds)
        except ValueError:  # "N/A" before the first timestamp
            return None
        if not self.duration or not math.isfinite(value):
            return None
        self.out_time = max(self.out_time, value)  # packets of B-frames come out of order
        fraction = min(1.0, self.out_time / self.duration)
        percent = int(fraction * 100)
        if percent == self.percent and now - self.last < self.interval:
            return None
        self.percent, self.last = percent, now
        elapsed = now - self.started
        speed = round(self.out_time / elapsed, 3) if elapsed > 0 else None
        return Progress(fraction=fraction, out_time=self.out_time, speed=speed)

    def at_least(self, p: Progress) -> Progress:
        """A `-progress` report never behind the clock (it counts the late outputs too), and
        the clock never behind a report: the fraction only goes forward."""
        if p.done or not self.duration:
            return p
        if p.out_time >= self.out_time:
            self.out_time = p.out_time
            return p
        fraction = max(p.fraction, min(1.0, self.out_time / self.duration))
        return p.model_copy(update={"fraction": fraction, "out_time": self.out_time})


def encode_activity(rung_heights: Sequence[int], audio_renditions: int = 0) -> str:
    """What one FFmpeg run of the whole ladder does, in words: "encoding 4 renditions
    1080p…240p" (video rungs, tallest first), "encoding 2 audio renditions"."""
    heights = sorted(set(rung_heights), reverse=True)
    if not heights:
        plural = "s" if audio_renditions != 1 else ""
        return f"encoding {audio_renditions} audio rendition{plural}"
    count = len(rung_heights)
    span = f"{heights[0]}p" if len(heights) == 1 else f"{heights[0]}p…{heights[-1]}p"
    return f"encoding {count} rendition{'s' if count != 1 else ''} {span}"


def scaled(p: Progress, start: float, share: float, activity: str | None) -> Progress:
    """`p` as part of a longer job: its fraction mapped onto [start, start + share] (the
    first of two passes is the first half of the encode)."""
    fraction = start + share * p.fraction
    return p.model_copy(update={"fraction": min(1.0, fraction), "activity": activity})
