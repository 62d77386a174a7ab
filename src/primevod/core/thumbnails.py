"""Poster, thumbnail and storyboard planning, and the WebVTT storyboard text. Pure."""

from __future__ import annotations

import math

from pydantic import BaseModel


class ThumbnailPlan(BaseModel):
    interval: float  # seconds between thumbnails
    thumb_width: int
    thumb_height: int
    tile_width: int
    tile_height: int
    columns: int = 5
    rows: int = 5
    poster_time: float
    poster_width: int
    poster_height: int

    @property
    def per_sprite(self) -> int:
        return self.columns * self.rows


def _even(value: float) -> int:
    return max(2, round(value / 2.0) * 2)


def plan_thumbnails(
    display: tuple[int, int], duration: float, *, interval: float | None = None
) -> ThumbnailPlan:
    """One thumbnail every few seconds (about 100 over the title, 2 to 10 s apart), tiles
    of 160 px on the long side, poster up to 1280 px at a fifth of the way in (max 10 s)."""
    width, height = display
    if interval is None:
        interval = min(10.0, max(2.0, math.ceil(duration / 100.0)))
    aspect = width / height

    def fit(long_side: int) -> tuple[int, int]:
        if width >= height:
            w = min(long_side, width)
            return _even(w), _even(w / aspect)
        h = min(long_side, height)
        return _even(h * aspect), _even(h)

    thumb_w, thumb_h = fit(320)
    tile_w, tile_h = fit(160)
    poster_w, poster_h = fit(1280)
    return ThumbnailPlan(
        interval=interval,
        thumb_width=thumb_w,
        thumb_height=thumb_h,
        tile_width=tile_w,
        tile_height=tile_h,
        poster_time=min(duration * 0.2, 10.0),
        poster_width=poster_w,
        poster_height=poster_h,
    )


def _timestamp(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def storyboard_vtt(
    plan: ThumbnailPlan, count: int, duration: float, sprite_name: str = "sprite_{:03d}.jpg"
) -> str:
    """WebVTT cues, one per thumbnail, each pointing at its tile in a sprite (#xywh=)."""
    lines = ["WEBVTT", ""]
    for i in range(count):
        start = i * plan.interval
        if start >= duration:
            break
        end = min(duration, start + plan.interval)
        sprite = i // plan.per_sprite + 1
        cell = i % plan.per_sprite
        x = (cell % plan.columns) * plan.tile_width
        y = (cell // plan.columns) * plan.tile_height
        lines.append(f"{_timestamp(start)} --> {_timestamp(end)}")
        lines.append(
            f"{sprite_name.format(sprite)}#xywh={x},{y},{plan.tile_width},{plan.tile_height}"
        )
        lines.append("")
    return "\n".join(lines)
