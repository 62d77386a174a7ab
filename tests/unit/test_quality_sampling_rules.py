"""The quality step's sampling and verdict, pure: which spans of a title are scored, which
span a scored frame belongs to, and that every codec family's top rung must pass."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from primevod.core.quality import RungQuality, family_tops, verdict_by_family
from primevod.core.quality_sampling import (
    Grid,
    QualitySampling,
    plan_spans,
    search_windows,
    span_of_frame,
)

FPS = Fraction(25)


def grid(durations: list[float], gop: int | None = 50) -> Grid:
    """Segments of 4 s (100 frames at 25 fps), GOPs of 2 s unless told."""
    return Grid(durations=durations, fps=FPS, segment_frames=100, gop_frames=gop)


def test_spans_are_spread_over_the_title_and_over_the_gop() -> None:
    durations = [4.0] * 15  # a 60 s title in 4 s segments
    spans = plan_spans(grid(durations), QualitySampling(spans=6, span_seconds=2.0))
    assert [s.first for s in spans] == [1, 3, 6, 8, 11, 13]
    assert [s.start for s in spans] == [Fraction(4 * s.first) for s in spans]
    assert all(s.count == 1 and s.frames == 50 for s in spans)
    # span k starts k/6 of a GOP into its segment, so that together they cover every
    # position in the GOP (quality peaks on the keyframe)
    assert [s.offset for s in spans] == [0, 8, 17, 25, 33, 42]
    assert [s.scored_start for s in spans] == [s.start + Fraction(s.offset, 25) for s in spans]


def test_spans_move_to_just_after_the_source_keyframes() -> None:
    """A source with keyframes every 10 s: each span takes, among the segments near its
    share of the title, the place with the fewest frames decoded before it (the source's
    from its keyframe, the renditions' from their segment's start), at its GOP phase."""
    title = grid([4.0] * 7 + [2.0])  # 30 s
    sampling = QualitySampling(spans=4, span_seconds=1.0)
    keyframes = [Fraction(0), Fraction(251, 25), Fraction(502, 25)]
    spans = plan_spans(title, sampling, keyframes)
    assert [(s.first, s.offset) for s in spans] == [(0, 0), (3, 12), (5, 25), (6, 38)]
    assert [s.offset % 50 for s in spans] == [0, 12, 25, 38]
    # unknown keyframes: each span in its own share's middle segment
    blind = plan_spans(title, sampling, None)
    assert [(s.first, s.offset) for s in blind] == [(1, 0), (3, 12), (5, 25), (7, 25)]
    assert plan_spans(title, sampling.model_copy(update={"near_keyframes": False}), keyframes) == (
        blind
    )
    # the stretches whose keyframes are worth reading cover every span's candidates
    windows = search_windows(title, sampling)
    assert windows[0][0] == 0 and windows[-1][1] == 30
    assert all(a < b for a, b in windows)


def test_a_span_never_runs_past_its_segment() -> None:
    spans = plan_spans(grid([4.0, 4.0, 1.2]), QualitySampling(spans=3, span_seconds=2.0))
    assert [s.frames for s in spans] == [50, 50, 30]
    whole = plan_spans(grid([4.0, 4.0]), QualitySampling(spans=2, span_seconds=None))
    assert [s.frames for s in whole] == [100, 100]


def test_full_scope_is_one_span_over_every_segment() -> None:
    spans = plan_spans(grid([4.0] * 8), QualitySampling(scope="full", subsample=1))
    assert len(spans) == 1
    assert (spans[0].first, spans[0].count, spans[0].frames) == (0, 8, None)


@given(
    segments=st.integers(1, 400),
    spans=st.integers(1, 12),
    seconds=st.sampled_from([None, 0.5, 1.0, 2.0, 6.0]),
    gop=st.sampled_from([None, 25, 50, 100]),
    keyframes=st.none() | st.lists(st.integers(0, 1600 * 25), max_size=40),
)
def test_spans_are_distinct_sorted_and_inside_the_title(
    segments: int, spans: int, seconds: float | None, gop: int | None, keyframes: list[int] | None
) -> None:
    sampling = QualitySampling(spans=spans, span_seconds=seconds)
    known = None if keyframes is None else [Fraction(k, 25) for k in keyframes]
    planned = plan_spans(grid([4.0] * segments, gop), sampling, known)
    firsts = [s.first for s in planned]
    assert firsts == sorted(set(firsts)) and len(planned) == min(spans, segments)
    assert all(0 <= f < segments for f in firsts)
    assert all(s.frames is not None and 1 <= s.frames <= 100 for s in planned)
    assert all(s.frames is not None and s.offset + s.frames <= 100 for s in planned)


def test_a_scored_frame_is_counted_in_its_own_span() -> None:
    spans = plan_spans(grid([4.0] * 15), QualitySampling(spans=3, span_seconds=2.0))
    assert [span_of_frame(spans, f) for f in (0, 49, 50, 99, 100, 149)] == [0, 0, 1, 1, 2, 2]


def rung(name: str, family: str | None, kbps: float, vmaf: float) -> RungQuality:
    return RungQuality(
        name=name, family=family, width=1280, height=720, average_kbps=kbps,
        peak_kbps=kbps, vmaf=vmaf,
    )  # fmt: skip


def test_every_family_top_rung_must_reach_the_target() -> None:
    rungs = [
        rung("h264-low", "h264", 800, 80.0),
        rung("h264-top", "h264", 3000, 95.0),
        rung("av1-top", "av1", 1800, 91.0),
        rung("av1-low", "av1", 500, 78.0),
    ]
    assert {f: r.name for f, r in family_tops(rungs).items()} == {
        "h264": "h264-top",
        "av1": "av1-top",
    }
    top, passed, message = verdict_by_family(rungs, 93.0, "vmaf")
    assert (top, passed) == (91.0, False) and message.startswith("av1:")
    top, passed, _ = verdict_by_family(rungs, 90.0, "vmaf")
    assert (top, passed) == (91.0, True)


def test_rungs_without_a_family_are_one_h264_ladder_as_before() -> None:
    rungs = [rung("360p", None, 900, 74.0), rung("720p", None, 4000, 92.0)]
    top, passed, message = verdict_by_family(rungs, 93.0, "vmaf")
    assert (top, passed) == (92.0, False)
    assert message == "top rung 92.00 VMAF is below the target 93"
