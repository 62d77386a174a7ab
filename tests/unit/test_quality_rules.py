"""The auto ladder's pure rules: invariants over random configurations, rung choice,
BD-rate, sample picking and the local hull (no FFmpeg)."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from primevod.core.auto_ladder import family_choices
from primevod.core.codec_families import CodecFamily, family_crf
from primevod.core.ladder import AutoLadderConfig, plan_ladder
from primevod.core.policies import get_policy
from primevod.core.probe import ProbeResult, VideoStreamInfo
from primevod.core.quality import (
    ComplexityAnalysis,
    ProbePoint,
    auto_policy,
    bd_rate,
    frontier,
    probe_sizes,
    select_rungs,
)


def source(width: int, height: int) -> ProbeResult:
    video = VideoStreamInfo(index=0, codec="h264", width=width, height=height, frame_rate=25.0)
    return ProbeResult(path="x.mp4", format_name="mp4", size=1, duration=60.0, video=[video])


SIZES = [(416, 234), (640, 360), (960, 540), (1280, 720), (1920, 1080)]


def model_points(complexity: float, upscale_loss: float, noise: float = 0.0) -> list[ProbePoint]:
    """Probe points from a plausible rate-quality model: rate falls ~11 % per CRF step and
    grows with pixels and complexity; quality falls with CRF and with the upscale."""
    points = []
    for i, (w, h) in enumerate(SIZES):
        for crf in (19, 25, 31):
            kbps = complexity * (w * h) ** 0.8 * math.exp(-0.115 * crf) * 0.9
            ceiling = 100 - upscale_loss * (len(SIZES) - 1 - i) ** 1.3
            quality = max(0.0, ceiling - 0.06 * (crf - 12) ** 2 * complexity**0.3)
            quality += noise * math.sin(crf * 7.0 + i)
            points.append(ProbePoint(width=w, height=h, crf=crf, kbps=kbps, quality=quality))
    return points


def analysis_of(
    points: list[ProbePoint], codecs: list[CodecFamily] | None = None
) -> ComplexityAnalysis:
    """The analysis of a 60 s 1080p25 title that measured these probe points."""
    return ComplexityAnalysis(
        duration=60,
        source_size=(1920, 1080),
        frame_rate="25",
        samples=[(0, 1)],
        preset="veryfast",
        codecs=codecs or [CodecFamily.H264],
        points=points,
    )


configs = st.builds(
    AutoLadderConfig,
    min_bitrate_kbps=st.integers(50, 1000),
    max_bitrate_kbps=st.integers(1500, 12000),
    max_renditions=st.integers(1, 8),
    target_vmaf=st.floats(80, 99),
    min_vmaf_step=st.floats(1, 12),
    min_bitrate_ratio=st.floats(1.2, 2.5),
    max_bitrate_ratio=st.floats(1.5, 6.0),
    knee_vmaf=st.floats(0.0, 3.0),
)


@settings(max_examples=300, deadline=None)
@given(
    config=configs,
    complexity=st.floats(0.2, 8.0),
    upscale_loss=st.floats(0.5, 12.0),
    noise=st.floats(0.0, 2.0),
)
def test_auto_ladder_invariants(
    config: AutoLadderConfig, complexity: float, upscale_loss: float, noise: float
) -> None:
    points = model_points(complexity, upscale_loss, noise)
    rungs = select_rungs(points, config)
    assert 1 <= len(rungs) <= config.max_renditions
    rates = [r.kbps for r in rungs]
    assert rates == sorted(rates) and len(set(rates)) == len(rates), "bitrate rises"
    pixels = [r.width * r.height for r in rungs]
    assert pixels == sorted(pixels), "resolution never falls as the bitrate rises"
    hull = frontier(points, config)
    if any(config.min_bitrate_kbps <= c.kbps <= config.max_bitrate_kbps for c in hull):
        assert all(r.kbps <= config.max_bitrate_kbps * 1.0001 for r in rungs)
        assert all(r.kbps >= config.min_bitrate_kbps * 0.9999 for r in rungs)
    lo, hi = config.crf_range
    assert all(lo <= r.crf <= hi and r.max_bitrate_kbps >= r.kbps for r in rungs)
    # the top rung reaches the target when any encode within the maximum bitrate does
    if any(c.quality >= config.target_vmaf for c in hull if c.kbps <= config.max_bitrate_kbps):
        assert rungs[-1].quality >= config.target_vmaf

    # and the planner keeps them as they are: same sizes, capped CRF, rising
    analysis = analysis_of(points)
    policy, choices = auto_policy(get_policy("auto").model_copy(update={"auto": config}), analysis)
    ladder = plan_ladder(source(1920, 1080), policy)
    assert [(r.width, r.height, r.crf) for r in ladder.rungs] == [
        (c.width, c.height, c.crf) for c in choices
    ]
    caps = [r.max_bitrate_kbps for r in ladder.rungs]
    assert caps == sorted(caps)


def test_simple_content_gets_fewer_and_cheaper_rungs() -> None:
    config = AutoLadderConfig()
    easy = select_rungs(model_points(0.3, 2.0), config)
    hard = select_rungs(model_points(6.0, 2.0), config)
    assert len(easy) < len(hard)
    assert easy[-1].kbps < hard[-1].kbps


def saturating_points(codec: CodecFamily = CodecFamily.H264) -> list[ProbePoint]:
    """A grainy title's probes: every size's quality flattens out below the target (95),
    a little higher for each larger size, while its bitrate keeps growing ~11 % per CRF
    (in H.264's CRF scale; other families' probes sit at their own CRFs for the same)."""
    points = []
    for i, (w, h) in enumerate(SIZES[-4:]):
        for crf in (19, 25, 31):
            kbps = 0.5 * (w * h) ** 0.8 * math.exp(-0.115 * crf)
            quality = 88.0 + 1.5 * i - 0.02 * (crf - 16) ** 2
            points.append(
                ProbePoint(
                    width=w,
                    height=h,
                    crf=family_crf(codec, crf),
                    kbps=kbps,
                    quality=quality,
                    codec=codec,
                )
            )
    return points


def test_a_flat_curve_gets_rungs_at_most_max_ratio_apart() -> None:
    config = AutoLadderConfig()
    rungs = select_rungs(saturating_points(), config)
    rates = [r.kbps for r in rungs]
    assert len(rungs) >= 3
    assert all(b <= a * config.max_bitrate_ratio for a, b in itertools.pairwise(rates))
    # without the gap rule the 6-VMAF quality step alone leaves rungs far apart
    wide = select_rungs(saturating_points(), config.model_copy(update={"max_bitrate_ratio": 99}))
    assert any(b.kbps > 5 * a.kbps for a, b in itertools.pairwise(wide))


def test_out_of_reach_target_puts_the_top_at_the_knee() -> None:
    config = AutoLadderConfig()
    hull = [c for c in frontier(saturating_points(), config) if c.kbps <= config.max_bitrate_kbps]
    best = hull[-1]
    assert best.quality < config.target_vmaf
    top = select_rungs(saturating_points(), config)[-1]
    assert best.quality - config.knee_vmaf <= top.quality < best.quality
    assert top.kbps < best.kbps / 1.5, "the last VMAF point of a flat curve costs the most"
    cheaper = [c for c in hull if c.kbps < top.kbps]
    assert all(c.quality < best.quality - config.knee_vmaf for c in cheaper)
    no_knee = select_rungs(saturating_points(), config.model_copy(update={"knee_vmaf": 0}))
    assert no_knee[-1] == best


def test_only_the_h264_family_stops_at_the_knee() -> None:
    """The knee saves the fallback's costly top bits; a modern family keeps its best."""
    config = AutoLadderConfig()
    analysis = analysis_of(
        saturating_points() + saturating_points(CodecFamily.AV1),
        [CodecFamily.H264, CodecFamily.AV1],
    )
    h264 = family_choices(analysis, config, CodecFamily.H264)
    av1 = family_choices(analysis, config, CodecFamily.AV1, reach_kbps=h264[0].kbps)
    av1_knobs = config.for_family(CodecFamily.AV1)
    hull = frontier(analysis.family_points(CodecFamily.AV1), av1_knobs)
    best_av1 = [c for c in hull if c.kbps <= config.max_bitrate_kbps][-1]
    assert av1[-1].quality == best_av1.quality
    no_knee = config.model_copy(update={"knee_vmaf": 0})
    assert h264[-1].quality < select_rungs(saturating_points(), no_knee)[-1].quality


def test_probe_sizes_follow_the_source() -> None:
    config = AutoLadderConfig()
    assert probe_sizes((1280, 720), config) == [(1280, 720), (960, 540), (768, 432), (640, 360)]
    assert probe_sizes((1920, 1080), config)[0] == (1920, 1080)
    assert probe_sizes((320, 180), config) == [(320, 180)]


def test_bd_rate() -> None:
    anchor = [(200, 60.0), (500, 75.0), (1000, 85.0), (2000, 92.0), (4000, 96.0)]
    assert bd_rate(anchor, anchor) == pytest.approx(0.0, abs=1e-9)
    half = [(r / 2, q) for r, q in anchor]
    assert bd_rate(anchor, half) == pytest.approx(-50.0, abs=1e-6)
    assert bd_rate(half, anchor) == pytest.approx(100.0, abs=1e-6)
    better = [(r, q + 3) for r, q in anchor]
    assert bd_rate(anchor, better) < 0
    assert bd_rate(anchor, [(100, 10.0), (200, 20.0)]) is None  # no overlap
    assert bd_rate(anchor, [(100, 70.0)]) is None  # one point


def test_pick_samples_avoids_cuts_and_prefers_typical_motion() -> None:
    from primevod.adapters.media.complexity import pick_samples

    fps = 10.0
    # a 6 s window from t=10: calm, a cut at 12.0, then a burst of motion from 14.5
    activity = [1.0] * 20 + [80.0] + [1.0] * 24 + [30.0] * 15
    samples = pick_samples([(10.0, activity, [12.0])], fps, 1.0, 60.0)
    ((start, length),) = samples
    assert length == 1.0
    assert not start + 0.1 < 12.0 < start + 0.9, "a sample never straddles a cut"
    assert start + 1.0 <= 14.6, "typical (calm) motion, not the burst"


def test_frontier_drops_a_small_picture_a_bigger_one_beats_for_the_same_bits() -> None:
    import itertools

    from primevod.core.quality import ProbePoint, frontier

    # the probes of the noisy benchmark title (height, CRF, kb/s, VMAF)
    measured = [
        (360, 31, 216, 27.9), (432, 31, 305, 35.6), (540, 31, 571, 45.4), (360, 25, 618, 47.3),
        (432, 25, 1014, 55.4), (360, 19, 1741, 59.0), (720, 31, 1965, 62.1),
        (540, 25, 1984, 64.5), (432, 19, 2732, 66.4), (540, 19, 4873, 74.7),
        (720, 25, 5556, 80.8), (720, 19, 11519, 90.7),
    ]  # fmt: skip
    points = [
        ProbePoint(width=h * 16 // 9 // 2 * 2, height=h, crf=c, kbps=k, quality=q)
        for h, c, k, q in measured
    ]
    hull = frontier(points, AutoLadderConfig())
    kbps = [c.kbps for c in hull]
    assert kbps == sorted(kbps) and [c.quality for c in hull] == sorted(c.quality for c in hull)
    # 432p at CRF 21 (1964 kb/s, 62.7) is on the staircase, but 540p gives 1.8 more for 1 %
    # more bits: a rung near 2 Mb/s is 540p
    assert not [c for c in hull if c.height == 432 and 1500 < c.kbps < 2500]
    assert [c for c in hull if c.height == 540 and 1500 < c.kbps < 2500]
    # locally only: no gap wider than 1.3x opens in the envelope
    assert all(b.kbps / a.kbps <= 1.3 for a, b in itertools.pairwise(hull))
