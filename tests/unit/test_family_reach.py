"""A codec family that cannot reach the H.264 family's top quality on a title is left out of
its ladder: which reach probes the grid calls for, the verdict, and the ladder it makes.
Pure, no FFmpeg (the real probes run in tests/integration/test_reach_probes.py)."""

from __future__ import annotations

from test_codec_families import family_points
from test_quality_rules import analysis_of
from test_quality_rules import source as quality_source

from primevod.core.codec_families import CodecFamily
from primevod.core.family_reach import left_out_families, reach_probes
from primevod.core.ladder import AutoLadderConfig, plan_ladder, with_codecs
from primevod.core.policies import get_policy
from primevod.core.quality import ProbePoint, auto_policy

H264, AV1 = CodecFamily.H264, CodecFamily.AV1
# a target above every probe: the bar a family must reach is H.264's best
HIGH = AutoLadderConfig(target_vmaf=99.9)


def shifted(points: list[ProbePoint], family: CodecFamily, vmaf: float) -> list[ProbePoint]:
    """The points with one family's quality moved by `vmaf`."""
    return [
        p.model_copy(update={"quality": p.quality + vmaf}) if p.codec is family else p
        for p in points
    ]


def largest(points: list[ProbePoint]) -> tuple[int, int]:
    top = max(points, key=lambda p: p.width * p.height)
    return top.width, top.height


def reach_point(points: list[ProbePoint], quality: float) -> ProbePoint:
    w, h = largest(points)
    return ProbePoint(width=w, height=h, crf=15, kbps=5000, quality=quality, codec=AV1)


def best_h264(points: list[ProbePoint]) -> float:
    size = largest(points)
    return max(p.quality for p in points if p.codec is H264 and (p.width, p.height) == size)


def test_a_family_under_h264_at_the_largest_size_gets_one_reach_probe() -> None:
    points = shifted(family_points(1.0, 3.0), AV1, -30.0)
    wanted = reach_probes(points, HIGH, [H264, AV1])
    # x264's lowest probe CRF 19, six steps more quality (13), in SVT-AV1's scale: 15
    assert wanted == [(AV1, *largest(points), 15)]


def test_a_family_at_or_above_h264_needs_no_reach_probe() -> None:
    points = shifted(family_points(1.0, 3.0), AV1, +30.0)
    assert reach_probes(points, HIGH, [H264, AV1]) == []
    assert reach_probes(points, HIGH, [H264]) == []  # nothing else asked for
    assert reach_probes([], HIGH, [H264, AV1]) == []


def test_a_family_whose_reach_probe_stays_under_h264_is_left_out_with_the_reason() -> None:
    points = shifted(family_points(1.0, 3.0), AV1, -30.0)
    anchor = best_h264(points)
    left = left_out_families(points, [reach_point(points, anchor - 0.5)], HIGH)
    assert list(left) == [AV1]
    w, h = largest(points)
    assert f"{w}x{h}" in left[AV1] and f"{anchor:.1f}" in left[AV1] and "VMAF" in left[AV1]
    low = shifted(points, AV1, -60.0)  # every AV1 point under 43.2, the target in dB
    psnr = left_out_families(low, [reach_point(points, 10.0)], HIGH, "psnr")
    assert "dB PSNR" in psnr[AV1]


def test_a_family_whose_reach_probe_matches_h264_is_kept() -> None:
    points = shifted(family_points(1.0, 3.0), AV1, -30.0)
    assert left_out_families(points, [reach_point(points, best_h264(points))], HIGH) == {}
    assert left_out_families(points, [], HIGH) == {}  # no reach probe ran: nothing to judge


def test_a_family_that_reaches_the_target_is_kept_though_h264_goes_higher() -> None:
    """Both families' top rungs sit at the target then (a tiny test pattern: x264 CRF 19
    scored 98.9 VMAF, SVT-AV1 CRF 27 97.0 and its reach probe 98.5, the target 95)."""
    points = shifted(family_points(1.0, 3.0), AV1, -30.0)
    anchor = best_h264(points)
    target = AutoLadderConfig(target_vmaf=anchor - 2)
    assert left_out_families(points, [reach_point(points, anchor - 1)], target) == {}
    assert AV1 in left_out_families(points, [reach_point(points, anchor - 3)], target)
    # a grid already at the target needs no reach probe
    at_target = shifted(family_points(1.0, 3.0), AV1, 0.0)
    best_av1 = max(p.quality for p in at_target if p.codec is AV1)
    assert reach_probes(at_target, AutoLadderConfig(target_vmaf=best_av1), [H264, AV1]) == []


def test_the_ladder_of_a_left_out_family_is_h264_alone_and_says_why() -> None:
    points = shifted(family_points(1.0, 3.0), AV1, -30.0)
    analysis = analysis_of(points, [H264, AV1]).model_copy(
        update={"reach": [reach_point(points, best_h264(points) - 3)]}
    )
    auto = get_policy("auto").model_copy(update={"auto": HIGH})
    policy, choices = auto_policy(with_codecs(auto, "av1"), analysis)
    assert policy.codecs == [H264] and AV1 not in policy.family_rungs
    assert {c.codec for c in choices} == {H264}
    ladder = plan_ladder(quality_source(1920, 1080), policy)
    assert ladder.families == [H264]
    assert "av1" in ladder.left_out and "h264 reaches" in ladder.left_out["av1"]
    # and the same title without the reach verdict keeps both families
    kept, _ = auto_policy(with_codecs(auto, "av1"), analysis_of(points, [H264, AV1]))
    assert kept.codecs == [H264, AV1] and kept.left_out == {}
