"""Split-and-stitch encoding: where a title is cut into chunks that are encoded on their own
and joined again. Pure.

Chunk boundaries lie on the segment grid (multiples of the segment duration), so a packaged
segment never spans two chunks, and every boundary is a keyframe of the fixed GOP: the
joined chunks have their keyframes exactly where a single encode of the title has them."""

from __future__ import annotations

import math
from fractions import Fraction

from pydantic import BaseModel, ConfigDict, Field

from primevod.core.errors import MediaError

# grid arithmetic in floating point: a boundary this close to a multiple is that multiple
_EPSILON = 1e-9
# unless configured, titles from 5 minutes on are encoded in chunks of a minute
DEFAULT_CHUNK_SECONDS = 60.0
DEFAULT_MIN_SOURCE_SECONDS = 300.0


class Chunk(BaseModel):
    """The stretch [start, end) of the title, in seconds. `last`: it runs to the end of the
    title (its encode decodes to the end of the source, whatever the probed duration said)."""

    model_config = ConfigDict(frozen=True)

    index: int = Field(ge=0)
    start: float = Field(ge=0)
    end: float
    last: bool = False

    @property
    def duration(self) -> float:
        return self.end - self.start


def plan_chunks(duration: float, segment_seconds: float, chunk_seconds: float) -> list[Chunk]:
    """Contiguous chunks covering [0, duration]: each a whole number of segments (the most
    that fit in `chunk_seconds`, at least one), except the last, which ends at `duration`. A
    tail shorter than one segment is folded into the chunk before it, so no chunk is shorter
    than a segment (unless the whole title is)."""
    if not (math.isfinite(duration) and duration > 0):
        raise MediaError("request.invalid", f"cannot cut a title of {duration} s into chunks")
    if not (math.isfinite(segment_seconds) and segment_seconds > 0):
        raise MediaError("request.invalid", f"segment duration {segment_seconds} s")
    if not (math.isfinite(chunk_seconds) and chunk_seconds > 0):
        raise MediaError("request.invalid", f"chunk duration {chunk_seconds} s")
    per_chunk = max(1, math.floor(chunk_seconds / segment_seconds + _EPSILON))
    step = per_chunk * segment_seconds
    count = max(1, math.ceil(duration / step - _EPSILON))
    starts = [k * step for k in range(count)]
    if len(starts) > 1 and duration - starts[-1] < segment_seconds - _EPSILON:
        starts.pop()  # a tail shorter than a segment joins the chunk before it
    ends = [*starts[1:], duration]
    return [
        Chunk(index=i, start=start, end=end, last=i == len(starts) - 1)
        for i, (start, end) in enumerate(zip(starts, ends, strict=True))
    ]


def segment_frames(frame_rate: Fraction, segment_seconds: float, gop_frames: int) -> int:
    """Frames in one packaged segment: whole GOPs (the muxer cuts only at keyframes), as
    many as come closest to `segment_seconds`, at least one."""
    if frame_rate <= 0 or gop_frames <= 0:
        raise MediaError("request.invalid", "frame rate and GOP must be positive")
    gops = max(1, round(float(frame_rate) * segment_seconds / gop_frames))
    return gops * gop_frames


def frame_span(chunk: Chunk, frame_rate: Fraction) -> tuple[int, int | None]:
    """The output frames of a chunk: [first, end) on the title's frame grid; end is None
    for the last chunk (it takes every frame up to the end of the source)."""
    first = round(chunk.start * frame_rate)
    return first, None if chunk.last else round(chunk.end * frame_rate)


class ChunkEncode(BaseModel):
    """What one chunk encode wrote: a fragmented MP4 per rung (ladder order), the frames in
    each, the seconds it took, and the folder of its thumbnails (if asked for)."""

    chunk: Chunk
    files: list[str]
    frames: list[int]
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    thumb_dir: str | None = None


def chunk_length(setting: float | None, duration: float | None) -> float | None:
    """The chunk duration to encode a title of `duration` seconds in, or None for a single
    encode. `setting` None is the default: DEFAULT_CHUNK_SECONDS for titles of at least
    DEFAULT_MIN_SOURCE_SECONDS, nothing below; 0 turns chunking off; any other value chunks
    every title longer than one chunk."""
    if not duration or setting == 0:
        return None
    if setting is None:
        return DEFAULT_CHUNK_SECONDS if duration >= DEFAULT_MIN_SOURCE_SECONDS else None
    return setting if duration > setting else None
