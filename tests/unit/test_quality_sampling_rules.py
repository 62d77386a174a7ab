"""The quality step's sampling and verdict, pure: which spans of a title are scored, which
span a scored frame belongs to, and that every codec family's top rung must pass."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from primevod.core.quality import RungQuality, family_tops, verdict_by_family
from primevod.core.quality_sampling import QualitySampling, plan_spans, span_of_frame

FPS = Fraction(25)


def test_spans_are_spread_over_the_title_and_start_on_segment_boundaries() -> None:
    durations = [4.0] * 15  # a 60 s title in 4 s segments
    spans = plan_spans(durations, FPS, 100, QualitySampling(spans=6, span_seconds=2.0))
    assert [s.first for s in spans] == [1, 3, 6, 8, 11, 13]
    assert [s.start for s in spans] == [Fraction(4 * s.first) for s in spans]
    assert all(s.count == 1 and s.frames == 50 for s in spans)
    # inside their segments the spans move from its start to its end, so that together they
    # cover every position in the GOP (quality peaks on the keyframe)
    assert [s.offset for s in spans] == [0, 10, 20, 30, 40, 50]
    assert [s.scored_start for s in spans] == [s.start + Fraction(s.offset, 25) for s in spans]


def test_a_span_never_runs_past_its_segment() -> None:
    spans = plan_spans([4.0, 4.0, 1.2], FPS, 100, QualitySampling(spans=3, span_seconds=2.0))
    assert [s.frames for s in spans] == [50, 50, 30]
    whole = plan_spans([4.0, 4.0], FPS, 100, QualitySampling(spans=2, span_seconds=None))
    assert [s.frames for s in whole] == [100, 100]


def test_full_scope_is_one_span_over_every_segment() -> None:
    spans = plan_spans([4.0] * 8, FPS, 100, QualitySampling(scope="full", subsample=1))
    assert len(spans) == 1
    assert (spans[0].first, spans[0].count, spans[0].frames) == (0, 8, None)


@given(
    segments=st.integers(1, 400),
    spans=st.integers(1, 12),
    seconds=st.sampled_from([None, 0.5, 1.0, 2.0, 6.0]),
)
def test_spans_are_distinct_sorted_and_inside_the_title(
    segments: int, spans: int, seconds: float | None
) -> None:
    sampling = QualitySampling(spans=spans, span_seconds=seconds)
    planned = plan_spans([4.0] * segments, FPS, 100, sampling)
    firsts = [s.first for s in planned]
    assert firsts == sorted(set(firsts)) and len(planned) == min(spans, segments)
    assert all(0 <= f < segments for f in firsts)
    assert all(s.frames is not None and 1 <= s.frames <= 100 for s in planned)
    assert all(s.frames is not None and s.offset + s.frames <= 100 for s in planned)


def test_a_scored_frame_is_counted_in_its_own_span() -> None:
    spans = plan_spans([4.0] * 15, FPS, 100, QualitySampling(spans=3, span_seconds=2.0))
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
