"""The local cost model (core/local_cost.py) and the budget decision (core/budget.py): pure
properties, and the calibration from recorded jobs."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from support.media_probes import PROBES

from primevod.core.budget import THRESHOLD, decide, usd
from primevod.core.codec_families import CodecFamily
from primevod.core.ladder import plan_ladder, with_codecs
from primevod.core.local_cost import (
    DEFAULT_CPU_PER_MEGAPIXEL,
    PRESET_ORDER,
    SAMPLE_MIN_SECONDS,
    SAMPLES,
    Calibration,
    EncodeRecord,
    LocalRates,
    Sample,
    calibrate,
    encoder_cost,
    estimate_local,
    keyframe_reach,
    keyframe_spans,
    run_start_up,
    rung_megapixels,
    sample_spans,
    work_megapixels,
)
from primevod.core.policies import get_policy

RATES = LocalRates(cpu_hour_usd=0.05, storage_gb_month_usd=0.02)
LADDER = plan_ladder(PROBES["1080p25"], get_policy("apple"))
DEFAULT = calibrate([], "veryfast")
money = st.floats(min_value=0, max_value=1000, allow_nan=False)


@given(st.floats(1, 36_000), st.floats(0, 36_000))
def test_more_minutes_never_cost_less(first: float, extra: float) -> None:
    short = estimate_local(LADDER, first, "veryfast", DEFAULT, RATES)
    long = estimate_local(LADDER, first + extra, "veryfast", DEFAULT, RATES)
    assert long.cpu_seconds >= short.cpu_seconds and long.encode_usd >= short.encode_usd
    assert long.package_bytes >= short.package_bytes


@given(st.sampled_from(PRESET_ORDER), st.sampled_from(PRESET_ORDER))
def test_a_slower_preset_never_costs_less(a: str, b: str) -> None:
    fast, slow = sorted((a, b), key=PRESET_ORDER.index)
    cheap = estimate_local(LADDER, 60, fast, DEFAULT, RATES)
    dear = estimate_local(LADDER, 60, slow, DEFAULT, RATES)
    assert dear.cpu_seconds >= cheap.cpu_seconds


def test_a_sample_decides_over_the_ladder_and_the_rungs_share_it() -> None:
    calibration = Calibration(
        DEFAULT_CPU_PER_MEGAPIXEL, 0.5, "test", cpu_scale=1.25, bytes_scale=1.0
    )
    sampled = estimate_local(
        LADDER, 120, "veryfast", calibration, RATES, Sample(100.0, 50_000_000, 6.0)
    )
    assert sampled.cpu_seconds == 125.0  # the projection times the machine's scale
    assert sum(r.cpu_seconds for r in sampled.rungs) == 125.0
    assert sampled.rungs[-1].cpu_seconds > sampled.rungs[0].cpu_seconds  # more pixels, more CPU
    assert sampled.encode_usd == 125.0 / 3600 * 0.05
    audio = sum(a.bitrate_kbps for a in LADDER.audio) * 1000 / 8 * 120
    assert sampled.package_bytes == int(50_000_000 + audio)


def test_each_family_weighs_by_its_own_encoder() -> None:
    """An AV1 rung costs what SVT-AV1 costs whatever x264's preset; an HEVC rung more than
    the H.264 rung of the same picture at the same preset."""
    families = plan_ladder(PROBES["1080p25"], with_codecs(get_policy("apple"), "h264,hevc,av1"))
    by_family = {
        c: [r for r in families.rungs if r.codec is c and r.height == 1080] for c in CodecFamily
    }
    h264, hevc, av1 = (by_family[c][0] for c in CodecFamily)
    for preset in ("veryfast", "medium"):
        assert rung_megapixels(hevc, 60, preset) > rung_megapixels(h264, 60, preset)
    assert rung_megapixels(av1, 60, "veryfast") == rung_megapixels(av1, 60, "slow")
    assert rung_megapixels(av1, 60, "veryfast") > rung_megapixels(h264, 60, "veryfast")
    assert work_megapixels(families, 60, "veryfast") > work_megapixels(LADDER, 60, "veryfast")
    # a rung under 720p's pixels encodes one SVT-AV1 preset slower: more CPU per pixel
    small = min((r for r in families.rungs if r.codec is CodecFamily.AV1), key=lambda r: r.pixels)
    assert encoder_cost(small, "veryfast") > encoder_cost(av1, "veryfast")


@given(st.floats(0, 5), st.floats(0.1, 20), st.floats(0.5, 10), st.floats(0.1, 0.9))
def test_the_start_up_is_what_two_runs_from_one_point_share(
    start_up: float, rate: float, seconds: float, share: float
) -> None:
    short, long = start_up + rate * seconds * share, start_up + rate * seconds
    assert abs(run_start_up(short, long, share) - start_up) < 1e-6 * (1 + long)


def test_calibration_prefers_the_jobs_at_the_same_preset() -> None:
    records = [
        EncodeRecord("veryfast", 100.0, 2.0, 900, 1000, 2.5, 1000),
        EncodeRecord("veryfast", 100.0, 4.0, 700, 1000, 4.0, 1000),
        EncodeRecord("veryfast", 100.0, 3.0, 800, 1000, 2.0, 1000),
        EncodeRecord("medium", 100.0, 50.0, 100, 1000),
    ]
    same = calibrate(records, "veryfast")
    assert same.cpu_per_megapixel == 0.03 and same.fill == 0.8
    assert same.cpu_scale == 1.0 and same.bytes_scale == 0.8  # medians of 0.8/1.0/1.5
    assert "3 jobs at veryfast" in same.source
    other = calibrate(records, "slow")  # none at slow: all of them
    assert "4 jobs at other presets" in other.source
    assert calibrate([], "veryfast").cpu_per_megapixel == DEFAULT_CPU_PER_MEGAPIXEL


@given(st.floats(0.1, 100_000))
def test_sample_spans_lie_in_the_title_and_stay_small(duration: float) -> None:
    spans = sample_spans(duration)
    assert all(0 <= start < end <= duration for start, end in spans)
    assert spans == sorted(spans)
    sampled = sum(end - start for start, end in spans)
    if len(spans) == SAMPLES:
        assert sampled <= max(duration * 0.05, SAMPLES * SAMPLE_MIN_SECONDS) + 0.01
    else:  # a title too short for three excerpts is sampled whole
        assert spans == [(0.0, duration)] and duration <= SAMPLES * SAMPLE_MIN_SECONDS * 2


@given(
    st.floats(20, 10_000),
    st.lists(st.floats(0, 10_000), max_size=30),
    st.floats(0, 1),
)
def test_keyframe_spans_start_a_lead_after_a_keyframe_and_keep_their_length(
    duration: float, keyframes: list[float], lead: float
) -> None:
    spans = sample_spans(duration)
    moved = keyframe_spans(spans, keyframes, duration, lead)
    assert moved == sorted(moved) and len(moved) == len(spans)
    assert len({start for start, _ in moved}) == len(moved)  # one excerpt per keyframe
    length = spans[0][1] - spans[0][0]
    points = {round(k, 3) for k in keyframes}
    for (start, end), (before, _) in zip(moved, spans, strict=True):
        assert abs((end - start) - length) < 0.01 and start >= 0 and end <= duration + 0.001
        assert abs(start - before) <= keyframe_reach(duration) + 0.001  # still spread out
        assert any(abs(start - lead - k) < 0.002 for k in points) or (start, end) in spans


def test_keyframe_spans_take_the_nearest_keyframe_that_leaves_room() -> None:
    spans = [(2.0, 3.0), (5.5, 6.5), (9.0, 10.0)]
    keyframes = [0.0, 4.0, 8.0, 10.0]
    # 9.0 is nearest 8.0 + 0.5; 10.0 + 0.5 + 1 would end past the title
    assert keyframe_spans(spans, keyframes, 11.0, lead=0.5) == [
        (0.5, 1.5),
        (4.5, 5.5),
        (8.5, 9.5),
    ]
    # a keyframe starts one excerpt; one too far away leaves the excerpt where it was
    assert keyframe_spans([(1.0, 2.0), (2.0, 3.0)], [0.0, 10.0], 11.0) == [(0.0, 1.0), (2.0, 3.0)]
    assert keyframe_spans(spans, [], 11.0, lead=0.5) == spans


@given(st.none() | money, money, money, st.booleans())
def test_the_budget_refuses_only_past_it_and_an_override_always_passes(
    budget: float | None, spent: float, estimate: float, override: bool
) -> None:
    decision = decide(budget_usd=budget, spent_usd=spent, estimate_usd=estimate, override=override)
    over = budget is not None and spent + estimate > budget
    assert decision.allowed == (not over or override)
    if decision.crossed_threshold:
        assert budget is not None and spent < budget * THRESHOLD <= spent + estimate


def test_dollars_keep_the_digits_a_small_amount_needs() -> None:
    assert [usd(v) for v in (20, 0.1234, 0.00000025, 0)] == [
        "$20.00",
        "$0.1234",
        "$0.00000025",
        "$0.00",
    ]
