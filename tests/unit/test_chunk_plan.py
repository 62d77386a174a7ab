"""Chunk planning for split-and-stitch encodes: pure, no FFmpeg. Properties over arbitrary
durations, segment and chunk lengths."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from primevod.core.chunks import Chunk, frame_span, plan_chunks, segment_frames
from primevod.core.errors import MediaError

durations = st.floats(min_value=0.01, max_value=7200, allow_nan=False, allow_infinity=False)
segments = st.sampled_from([0.5, 1.0, 2.0, 2.002, 3.0, 4.0, 6.0, 6.006, 10.0])
chunk_lengths = st.floats(min_value=2.0, max_value=600, allow_nan=False, allow_infinity=False)


def on_grid(value: float, step: float) -> bool:
    n = round(value / step)
    return math.isclose(n * step, value, rel_tol=1e-9, abs_tol=1e-9)


def test_forty_seconds_in_ten_second_chunks() -> None:
    chunks = plan_chunks(40.0, 2.0, 10.0)
    assert [(c.index, c.start, c.end, c.last) for c in chunks] == [
        (0, 0.0, 10.0, False),
        (1, 10.0, 20.0, False),
        (2, 20.0, 30.0, False),
        (3, 30.0, 40.0, True),
    ]


def test_a_short_tail_joins_the_chunk_before_it() -> None:
    chunks = plan_chunks(41.5, 2.0, 10.0)
    assert [(c.start, c.end) for c in chunks][-1] == (30.0, 41.5)
    # a tail of a whole segment or more is a chunk of its own
    assert [(c.start, c.end) for c in plan_chunks(42.0, 2.0, 10.0)][-1] == (40.0, 42.0)


def test_chunk_length_rounds_down_to_whole_segments() -> None:
    assert [c.end for c in plan_chunks(20.0, 4.0, 10.0)] == [8.0, 16.0, 20.0]
    # shorter than a segment: one segment per chunk
    assert [c.end for c in plan_chunks(6.0, 2.0, 0.5)] == [2.0, 4.0, 6.0]


def test_a_title_shorter_than_a_segment_is_one_chunk() -> None:
    assert plan_chunks(1.2, 2.0, 10.0) == [Chunk(index=0, start=0.0, end=1.2, last=True)]


@pytest.mark.parametrize(
    ("duration", "segment", "chunk"),
    [(0.0, 2.0, 10.0), (-1.0, 2.0, 10.0), (10.0, 0.0, 10.0), (10.0, 2.0, 0.0), (math.nan, 2, 10)],
)
def test_nonsense_is_refused(duration: float, segment: float, chunk: float) -> None:
    with pytest.raises(MediaError):
        plan_chunks(duration, segment, chunk)


@settings(max_examples=60)
@given(durations, segments, chunk_lengths)
def test_chunks_are_contiguous_and_cover_the_title(
    duration: float, segment: float, chunk: float
) -> None:
    chunks = plan_chunks(duration, segment, chunk)
    assert chunks[0].start == 0.0
    assert chunks[-1].end == duration
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert [c.last for c in chunks] == [False] * (len(chunks) - 1) + [True]
    for before, after in itertools.pairwise(chunks):
        assert before.end == after.start
    assert all(c.end > c.start for c in chunks)


@settings(max_examples=60)
@given(durations, segments, chunk_lengths)
def test_chunks_lie_on_the_segment_grid(duration: float, segment: float, chunk: float) -> None:
    chunks = plan_chunks(duration, segment, chunk)
    per_chunk = max(1, math.floor(chunk / segment + 1e-9))
    for c in chunks:
        assert on_grid(c.start, segment)
    for c in chunks[:-1]:  # every chunk but the last: the same whole number of segments
        assert math.isclose(c.duration, per_chunk * segment, rel_tol=1e-9)


@settings(max_examples=60)
@given(durations, segments, chunk_lengths)
def test_no_chunk_is_shorter_than_a_segment(duration: float, segment: float, chunk: float) -> None:
    chunks = plan_chunks(duration, segment, chunk)
    if len(chunks) > 1:
        assert all(c.duration >= segment * (1 - 1e-9) for c in chunks)
    # and the last is at most one chunk plus a tail shorter than a segment
    per_chunk = max(1, math.floor(chunk / segment + 1e-9))
    assert chunks[-1].duration < (per_chunk + 1) * segment * (1 + 1e-9)


@settings(max_examples=60)
@given(
    st.sampled_from([Fraction(24000, 1001), Fraction(25), Fraction(30000, 1001), Fraction(60)]),
    st.sampled_from([2.0, 4.0, 6.0]),
    st.integers(min_value=1, max_value=200),
    st.integers(min_value=0, max_value=10_000),
)
def test_frame_spans_tile_the_frame_grid(
    fps: Fraction, segment: float, segments_per_chunk: int, extra_frames: int
) -> None:
    """With the exact segment length of the encode (whole GOPs of whole frames), the chunks'
    frames follow each other with no gap or overlap, each starting on a GOP boundary."""
    gop = round(float(fps) * 2)
    seg_frames = segment_frames(fps, segment, gop)
    exact_segment = float(seg_frames / fps)
    duration = float((seg_frames * 7 + extra_frames) / fps)
    chunks = plan_chunks(duration, exact_segment, exact_segment * segments_per_chunk)
    spans = [frame_span(c, fps) for c in chunks]
    assert spans[0][0] == 0 and spans[-1][1] is None
    for (_, end), (first, _) in itertools.pairwise(spans):
        assert end == first
    assert all(first % gop == 0 for first, _ in spans)


def test_segment_frames_are_whole_gops() -> None:
    assert segment_frames(Fraction(30), 2.0, 60) == 60
    assert segment_frames(Fraction(30000, 1001), 6.0, 60) == 180
    assert segment_frames(Fraction(25), 3.0, 75) == 75
    assert segment_frames(Fraction(30), 0.5, 60) == 60  # never less than one GOP
