"""Codec families in the ladder model: which families a title gets (`PRIMEVOD_CODECS`,
`--codecs`), and the per-family rungs of fixed and per-title ladders. Pure, no FFmpeg."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_ladder import source, sources
from test_quality_rules import analysis_of, model_points
from test_quality_rules import source as quality_source

from primevod.core.codec_families import (
    EFFICIENCY,
    CodecFamily,
    family_of_codec_string,
    ladder_families,
    parse_codecs,
)
from primevod.core.errors import MediaError
from primevod.core.ladder import AutoLadderConfig, Ladder, RateControl, plan_ladder, with_codecs
from primevod.core.policies import POLICIES, asset_policy, get_policy
from primevod.core.probe import ProbeResult
from primevod.core.quality import ProbePoint, auto_policy, select_rungs
from primevod.settings import Settings

families = st.lists(st.sampled_from(["h264", "hevc", "av1"]), min_size=0, max_size=3)


def test_h264_is_always_encoded_and_families_come_in_a_fixed_order() -> None:
    assert parse_codecs("av1") == (CodecFamily.H264, CodecFamily.AV1)
    assert parse_codecs(" AV1 , hevc,h264 ") == (
        CodecFamily.H264,
        CodecFamily.HEVC,
        CodecFamily.AV1,
    )
    assert parse_codecs(None) == (CodecFamily.H264,)  # a policy alone is H.264


def test_unknown_codec_is_a_clear_request_error() -> None:
    with pytest.raises(MediaError) as info:
        parse_codecs("h264,vp9")
    assert info.value.code == "request.invalid"
    assert "vp9" in info.value.message and "av1" in info.value.message


def test_setting_is_validated_at_start_and_kept_normalised(monkeypatch) -> None:
    monkeypatch.setenv("PRIMEVOD_CODECS", "av1")
    assert Settings().codecs == "h264,av1"
    monkeypatch.setenv("PRIMEVOD_CODECS", "h264,mpeg2")
    with pytest.raises(ValueError, match="mpeg2"):
        Settings()
    monkeypatch.delenv("PRIMEVOD_CODECS")
    assert Settings().codecs == "h264,av1"  # the product default: AV1 beside H.264


def test_an_assets_own_codecs_win_over_the_deployment_default() -> None:
    chosen = asset_policy({"codecs": "h264,hevc", "ladder": "apple"}, "default", "h264")
    assert chosen.name == "apple" and chosen.codecs == ["h264", "hevc"]
    assert asset_policy({}, "default", "h264,av1").codecs == ["h264", "av1"]


def _check_family(ladder: Ladder, family: CodecFamily, rate_control: RateControl) -> None:
    """The ladder invariants, on one family's rungs."""
    rungs = ladder.family_rungs(family)
    assert rungs, f"{family}: no rungs"
    nominal = [r.bitrate_kbps or r.max_bitrate_kbps for r in rungs]
    assert nominal == sorted(nominal) and len(set(nominal)) == len(nominal)
    pixels = [r.pixels for r in rungs]
    assert pixels == sorted(pixels)
    fps = Fraction(ladder.rungs[0].frame_rate)
    for rung in rungs:
        assert rung.width % 2 == 0 and rung.height % 2 == 0
        assert rung.max_bitrate_kbps >= (rung.bitrate_kbps or 0) and rung.buffer_kbits > 0
        assert rung.gop_frames == max(1, round(float(fps) * ladder.gop_seconds))
        if rate_control is RateControl.CAPPED_CRF:
            assert rung.crf is not None and rung.bitrate_kbps is None
            assert 0 <= rung.crf <= (63 if family is CodecFamily.AV1 else 51)
        else:
            assert rung.crf is None and rung.bitrate_kbps


@settings(max_examples=200, deadline=None)
@given(src=sources, policy_name=st.sampled_from(sorted(POLICIES)), asked=families)
def test_ladder_invariants_hold_for_every_family(
    src: ProbeResult, policy_name: str, asked: list[str]
) -> None:
    policy = with_codecs(get_policy(policy_name), asked)
    ladder = plan_ladder(src, policy)
    assert ladder.families == list(parse_codecs(asked))
    # the rungs are mapped family by family, H.264 first: the encode's output order
    order = [ladder.families.index(r.codec) for r in ladder.rungs]
    assert order == sorted(order)
    assert len({r.name for r in ladder.rungs}) == len(ladder.rungs)
    h264 = {(r.width, r.height): r for r in ladder.family_rungs(CodecFamily.H264)}
    for family in ladder.families:
        _check_family(ladder, family, policy.rate_control)
        for rung in ladder.family_rungs(family):
            # same sizes, frame rate and audio as H.264, never more bits
            below = h264[(rung.width, rung.height)]
            assert (rung.frame_rate, rung.gop_frames, rung.audio_group) == (
                below.frame_rate,
                below.gop_frames,
                below.audio_group,
            )
            assert rung.max_bitrate_kbps <= below.max_bitrate_kbps


def test_fixed_ladder_families_scale_rates_by_efficiency() -> None:
    ladder = plan_ladder(source(1920, 1080), with_codecs(get_policy("apple"), "h264,hevc,av1"))
    top = {f: ladder.family_rungs(f)[-1] for f in ladder.families}
    assert top[CodecFamily.H264].bitrate_kbps == 7800
    assert top[CodecFamily.AV1].bitrate_kbps == round(7800 * EFFICIENCY[CodecFamily.AV1])
    assert top[CodecFamily.HEVC].bitrate_kbps == round(7800 * EFFICIENCY[CodecFamily.HEVC])
    assert top[CodecFamily.AV1].name == f"av1-1080p-{top[CodecFamily.AV1].bitrate_kbps}k"
    assert top[CodecFamily.H264].level != "auto" and top[CodecFamily.AV1].level == "auto"


def test_capped_crf_families_map_the_crf_to_their_encoders_scale() -> None:
    ladder = plan_ladder(source(1920, 1080), with_codecs(get_policy("aws-vod"), "av1,hevc"))
    h264 = ladder.family_rungs(CodecFamily.H264)
    av1 = ladder.family_rungs(CodecFamily.AV1)
    hevc = ladder.family_rungs(CodecFamily.HEVC)
    assert [r.crf for r in av1] == [min(63, 2 * r.crf - 11) for r in h264 if r.crf is not None]
    assert [r.crf for r in hevc] == [r.crf + 5 for r in h264 if r.crf is not None]


AV1_BITS = EFFICIENCY[CodecFamily.AV1]


def family_points(complexity: float, upscale_loss: float) -> list[ProbePoint]:
    """H.264 probe points from the rate-quality model of the auto ladder's tests, and AV1
    points of the same model at 60 % of the bits, probed at the AV1 probe CRFs."""
    h264 = model_points(complexity, upscale_loss)
    av1_crfs = AutoLadderConfig().for_family(CodecFamily.AV1).probe_crfs
    av1 = [
        p.model_copy(
            update={
                "codec": CodecFamily.AV1,
                "crf": crf,
                "kbps": p.kbps * EFFICIENCY[CodecFamily.AV1],
            }
        )
        for p, crf in zip(h264, av1_crfs * (len(h264) // 3), strict=True)
    ]
    return h264 + av1


@settings(max_examples=60, deadline=None)
@given(complexity=st.floats(0.2, 8.0), upscale_loss=st.floats(0.5, 12.0))
def test_auto_ladder_picks_each_family_from_its_own_probes(
    complexity: float, upscale_loss: float
) -> None:
    analysis = analysis_of(
        family_points(complexity, upscale_loss), [CodecFamily.H264, CodecFamily.AV1]
    )
    policy, choices = auto_policy(with_codecs(get_policy("auto"), "av1"), analysis)
    ladder = plan_ladder(quality_source(1920, 1080), policy)
    av1_crf_range = AutoLadderConfig().for_family(CodecFamily.AV1).crf_range
    for family in (CodecFamily.H264, CodecFamily.AV1):
        picked = [c for c in choices if c.codec is family]
        rungs = ladder.family_rungs(family)
        assert [(r.width, r.height, r.crf) for r in rungs] == [
            (c.width, c.height, c.crf) for c in picked
        ]
        caps = [r.max_bitrate_kbps for r in rungs]
        assert caps == sorted(caps) and len(set(caps)) == len(caps)
        assert [r.pixels for r in rungs] == sorted(r.pixels for r in rungs)
    # the H.264 family is the H.264-only auto ladder: other families' probes change nothing
    h264_alone = select_rungs(analysis.family_points(CodecFamily.H264), AutoLadderConfig())
    assert [c for c in choices if c.codec is CodecFamily.H264] == h264_alone
    lo, hi = av1_crf_range
    assert all(lo <= r.crf <= hi for r in ladder.family_rungs(CodecFamily.AV1) if r.crf)
    # the same quality for fewer bits: the AV1 top rung costs no more than the H.264 one,
    # unless it buys quality the H.264 ladder could not reach within the maximum bitrate
    top = {c.codec: c for c in choices}
    av1_top, h264_top = top[CodecFamily.AV1], top[CodecFamily.H264]
    assert av1_top.kbps <= h264_top.kbps * 1.0001 or av1_top.quality > h264_top.quality


def test_a_family_the_analysis_did_not_probe_is_scaled_from_h264() -> None:
    analysis = analysis_of(model_points(1.0, 3.0))
    policy, _ = auto_policy(with_codecs(get_policy("auto"), "av1"), analysis)
    assert CodecFamily.AV1 not in policy.family_rungs
    ladder = plan_ladder(quality_source(1920, 1080), policy)
    h264, av1 = ladder.family_rungs(CodecFamily.H264), ladder.family_rungs(CodecFamily.AV1)
    assert [(r.width, r.height) for r in av1] == [(r.width, r.height) for r in h264]


def test_stored_ladders_name_their_families() -> None:
    ladder = plan_ladder(source(), with_codecs(get_policy("default"), "av1"))
    assert ladder_families(ladder.model_dump(mode="json")) == ["h264", "av1"]
    assert ladder_families(None) == ["h264"]  # an asset stored before families existed
    assert family_of_codec_string("av01.0.04M.08") is CodecFamily.AV1
    assert family_of_codec_string("hev1.1.6.L93.B0") is CodecFamily.HEVC
    assert family_of_codec_string("mp4a.40.2") is None


def test_a_family_reaches_down_to_the_h264_bottom_rung() -> None:
    """Grainy content: the AV1 probes' quality is nearly flat (a small step from CRF to CRF),
    so the walk down finds no rung 6 VMAF below the top; without a rung near the H.264
    bottom an AV1 viewer on a slow network would have nowhere to go."""
    points = family_points(1.0, 3.0)
    flat = [
        p.model_copy(update={"quality": 88 + (p.quality - 80) * 0.05})
        if p.codec is CodecFamily.AV1
        else p
        for p in points
    ]
    analysis = analysis_of(flat, [CodecFamily.H264, CodecFamily.AV1])
    config = AutoLadderConfig()
    alone = select_rungs(
        analysis.family_points(CodecFamily.AV1), config.for_family(CodecFamily.AV1)
    )
    _, choices = auto_policy(with_codecs(get_policy("auto"), "av1"), analysis)
    h264 = [c for c in choices if c.codec is CodecFamily.H264]
    av1 = [c for c in choices if c.codec is CodecFamily.AV1]
    assert len(av1) == len(alone) + 1
    assert av1[0].kbps <= max(h264[0].kbps, min(c.kbps for c in av1))
    assert av1[0].kbps < av1[1].kbps / config.min_bitrate_ratio
    assert av1[0].width * av1[0].height <= av1[1].width * av1[1].height
    assert av1[0].max_bitrate_kbps < av1[1].max_bitrate_kbps
