"""Which frames the quality step scores, pure: a few short spans spread over the title, the
same in every rendition, and every n-th frame of them (or, on demand, every frame of the
whole title). The spans start on segment boundaries, where every rendition of every codec
family starts with a keyframe, so a rendition's span decodes from its own first frame."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from pydantic import BaseModel, Field

Scope = Literal["sampled", "full"]


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


def spread(count: int, total: int) -> list[int]:
    """`count` indices spread evenly over range(total) (all of them when count >= total)."""
    if count <= 0 or count >= total:
        return list(range(total))
    return sorted({min(total - 1, int((k + 0.5) * total / count)) for k in range(count)})


def plan_spans(
    durations: list[float], fps: Fraction, segment_frames: int, sampling: QualitySampling
) -> list[Span]:
    """The spans to score over segments of these durations (seconds; all but the last one
    `segment_frames` frames long at `fps`). Full scope: one span, the whole title."""
    if not durations:
        return []
    if sampling.exhaustive:
        return [Span(first=0, count=len(durations), start=Fraction(0), frames=None)]  # from 0
    picked = spread(sampling.spans, len(durations))
    spans = []
    for k, j in enumerate(picked):
        in_segment = max(1, round(durations[j] * fps))
        wanted = in_segment if sampling.span_seconds is None else round(sampling.span_seconds * fps)
        frames = max(1, min(in_segment, wanted))
        offset = _offset(k, len(picked), in_segment - frames)
        start = j * segment_frames / fps
        spans.append(Span(j, 1, start, frames, offset=offset, scored_start=start + offset / fps))
    return spans


def _offset(k: int, spans: int, room: int) -> int:
    """Where span k of `spans` starts inside its segment: the first at the segment's start,
    the last at its end, the others evenly between. Quality cycles with the GOP (best on the
    keyframe, worst before the next): spans all at segment starts would sample the good
    half of every GOP (measured: 1 s spans at segment starts scored 1.6 VMAF too high)."""
    if room <= 0 or spans <= 1:
        return 0
    return round(k * room / (spans - 1))


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
