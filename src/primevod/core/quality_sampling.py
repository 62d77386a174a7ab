"""Which frames the quality step scores, pure: a few short spans spread over the title, the
same in every rendition, and every n-th frame of them (or, on demand, every frame of the
whole title). A span lies inside one segment, where every rendition of every codec family
starts with a keyframe, so a rendition's span decodes from its segment's first frame; the
source's span decodes from the source keyframe before it, so each span is placed, among the
segments near its share of the title, where both decodes are shortest."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from pydantic import BaseModel, Field

Scope = Literal["sampled", "full"]

# Segments either side of a span's share of the title it may move to: far enough to reach a
# source keyframe (mezzanine GOPs are up to ~10 s), near enough to keep the spans spread
REACH_SEGMENTS = 3
# FFmpeg's `-ss` seeks this much earlier in containers that seek by decoding timestamp
# (3/23 s when the video has B-frames): a keyframe closer than this before a span's first
# frame may not be where its decode starts
SEEK_LEAD = Fraction(3, 23)
# Seconds of source the meter reads before a span's first frame (more than a source frame
# at 5 fps): the encode's `fps` filter may have taken an earlier frame for it
SOURCE_LEAD = Fraction(1, 4)


class QualitySampling(BaseModel):
    """How much of a title the quality step scores. The defaults were chosen by
    `benchmarks/quality_step_cost.py` (docs/quality.md): within 0.4 VMAF of scoring every
    frame of the title on its benchmark, for about half the previous sampling's CPU."""

    scope: Scope = Field("sampled", description="`full`: every frame of the whole title")
    spans: int = Field(4, ge=1, description="spans spread over the title")
    span_seconds: float | None = Field(
        1.0, gt=0, description="seconds scored from the start of each span (None: the segment)"
    )
    subsample: int = Field(5, ge=1, description="score every n-th frame of the spans")
    near_keyframes: bool = Field(
        True, description="place the spans just after the source's keyframes (False: ignore them)"
    )

    @property
    def exhaustive(self) -> bool:
        return self.scope == "full"


@dataclass(frozen=True)
class Span:
    """A stretch of the title: `count` segments from segment `first` (starting `start`
    seconds into the title), of which `frames` frames are scored (None: all) from frame
    `offset` of the segment on, `scored_start` seconds into the title."""

    first: int
    count: int
    start: Fraction
    frames: int | None
    offset: int = 0
    scored_start: Fraction = Fraction(0)


@dataclass(frozen=True)
class Grid:
    """The package's frame grid: segment durations (seconds; all but the last one
    `segment_frames` frames long at `fps`) and the renditions' GOP (frames)."""

    durations: Sequence[float]
    fps: Fraction
    segment_frames: int
    gop_frames: int | None = None

    @property
    def gop(self) -> int:
        return self.gop_frames or self.segment_frames

    def frames_in(self, segment: int) -> int:
        return max(1, round(self.durations[segment] * self.fps))

    def start(self, segment: int) -> Fraction:
        return segment * self.segment_frames / self.fps


def spread(count: int, total: int) -> list[int]:
    """`count` indices spread evenly over range(total) (all of them when count >= total)."""
    if count <= 0 or count >= total:
        return list(range(total))
    return sorted({min(total - 1, int((k + 0.5) * total / count)) for k in range(count)})


def search_windows(grid: Grid, sampling: QualitySampling) -> list[tuple[Fraction, Fraction]]:
    """The stretches of the title (seconds) each span may be placed in: where the source's
    keyframes are worth knowing."""
    if sampling.exhaustive or not grid.durations:
        return []
    windows = []
    for segments in _candidate_segments(len(grid.durations), sampling.spans):
        first, last = min(segments), max(segments)
        windows.append((grid.start(first), grid.start(last) + Fraction(grid.durations[last])))
    return windows


def plan_spans(
    grid: Grid, sampling: QualitySampling, keyframes: Sequence[Fraction] | None = None
) -> list[Span]:
    """The spans to score. Full scope: one span, the whole title. Sampled: span k of n lies
    in a segment near the k-th n-th of the title, `k/n` of a GOP into it (or a GOP more),
    so that together the spans cover every position in the GOP (quality peaks on the
    keyframe and sinks until the next one: 1 s spans all at segment starts scored 1.6 VMAF
    too high); among those places, the one with the fewest frames decoded and not scored:
    the source's from its keyframe before the span (`keyframes`, seconds; None: unknown),
    the renditions' from the segment's start."""
    if not grid.durations:
        return []
    if sampling.exhaustive:
        return [Span(first=0, count=len(grid.durations), start=Fraction(0), frames=None)]
    known = sorted(keyframes) if keyframes is not None and sampling.near_keyframes else None
    groups = _candidate_segments(len(grid.durations), sampling.spans)
    return [
        _best_span(grid, sampling, segments, round(k * grid.gop / len(groups)), known)
        for k, segments in enumerate(groups)
    ]


def _candidate_segments(total: int, spans: int) -> list[list[int]]:
    """For each span, the segments it may lie in, nearest to its share of the title first:
    within REACH_SEGMENTS of its spread segment and nearer to it than to the next span's."""
    targets = spread(spans, total)
    bounds = [0] + [(a + b + 1) // 2 for a, b in itertools.pairwise(targets)] + [total]
    groups = []
    for k, target in enumerate(targets):
        low = max(bounds[k], target - REACH_SEGMENTS)
        near = range(low, min(bounds[k + 1], target + REACH_SEGMENTS + 1))
        groups.append(sorted(near, key=lambda j, t=target: (abs(j - t), j)))
    return groups


def _best_span(
    grid: Grid,
    sampling: QualitySampling,
    segments: list[int],
    phase: int,
    keyframes: list[Fraction] | None,
) -> Span:
    candidates = [
        _span(grid, sampling, j, offset)
        for j in segments
        for offset in _offsets(grid, sampling, j, phase)
    ]
    # the first of equals: the segment nearest the span's share of the title
    return min(candidates, key=lambda span: _waste(span, grid.fps, keyframes))


def _offsets(grid: Grid, sampling: QualitySampling, segment: int, phase: int) -> list[int]:
    """Where a span may start in a segment: `phase` frames into one of its GOPs (the last
    frames it fits in when the segment is too short)."""
    in_segment = grid.frames_in(segment)
    room = in_segment - _frames(grid, sampling, segment)
    fits = list(range(phase, room + 1, grid.gop))
    return fits or [max(0, min(phase, room))]


def _frames(grid: Grid, sampling: QualitySampling, segment: int) -> int:
    in_segment = grid.frames_in(segment)
    if sampling.span_seconds is None:
        return in_segment
    return max(1, min(in_segment, round(sampling.span_seconds * grid.fps)))


def _span(grid: Grid, sampling: QualitySampling, segment: int, offset: int) -> Span:
    start = grid.start(segment)
    return Span(
        first=segment,
        count=1,
        start=start,
        frames=_frames(grid, sampling, segment),
        offset=offset,
        scored_start=start + offset / grid.fps,
    )


def _waste(span: Span, fps: Fraction, keyframes: list[Fraction] | None) -> Fraction:
    """Frames decoded and not scored: the renditions' from their segment's keyframe, and the
    source's from its keyframe before the seek (the title's start when none is known before
    it; nothing known: the same everywhere)."""
    if keyframes is None:
        return Fraction(span.offset)
    seek = span.scored_start - SOURCE_LEAD - SEEK_LEAD
    before = [k for k in keyframes if k <= seek]
    source = span.scored_start - (before[-1] if before else 0)
    return span.offset + source * fps


def seek_step(fps: Fraction, time_base: Fraction | None) -> Fraction:
    """The smallest step (seconds) of the output frame grid that FFmpeg's `-ss` (whole
    microseconds) and the source's time base both hold exactly: 1/25 s for 25 fps in 1/12800
    or 1/90000, 1 s for 25 fps in a 24 fps source's 1/12288 (unknown: the microseconds' step)."""
    frames = Fraction(10**6) / fps  # microseconds per frame
    whole = frames.denominator
    per_tick = Fraction(1, 1) / (fps * time_base) if time_base else fps
    return math.lcm(whole, per_tick.denominator) / fps


def span_of_frame(spans: list[Span], frame: int) -> int:
    """Which span a frame number of the joined spans (0-based) falls in."""
    end = 0
    for n, span in enumerate(spans):
        if span.frames is None:
            return n
        end += span.frames
        if frame < end:
            return n
    return len(spans) - 1
