"""Codec families in the MediaConvert job: every HEVC and AV1 rung of a ladder is an output of
its codec in the one CMAF group, and the request stays valid against botocore's MediaConvert
service model (offline: no AWS account is reachable here).

The QVBR levels are written out from the policies (quality 7 and 8 are x264 CRF 24 and 22;
x265 CRF = x264 + 5, SVT-AV1 CRF = 2 x x264 - 11) rather than recomputed with the code
under test."""

from __future__ import annotations

import copy
import math
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.media_probes import DESTINATION, FILM, INPUT, NTSC, PROBES, ROLE, source
from test_quality_rules import analysis_of, model_points

from primevod.adapters.aws.mediaconvert_model import validate_create_job
from primevod.adapters.price_files import read_prices
from primevod.core.codec_families import EFFICIENCY, CodecFamily
from primevod.core.cost import estimate_title
from primevod.core.errors import MediaError
from primevod.core.ladder import (
    AutoLadderConfig,
    LadderPolicy,
    RateControl,
    RungTemplate,
    plan_ladder,
    with_codecs,
)
from primevod.core.mediaconvert import MediaConvertJob, create_job_request
from primevod.core.policies import get_policy
from primevod.core.probe import ProbeResult
from primevod.core.quality import ComplexityAnalysis, auto_policy

ALL = "h264,hevc,av1"
CODEC = {"h264": "H_264", "hevc": "H_265", "av1": "AV1"}
SETTINGS_KEY = {"H_264": "H264Settings", "H_265": "H265Settings", "AV1": "Av1Settings"}


def job(probe: ProbeResult, policy: LadderPolicy, **kwargs: Any) -> MediaConvertJob:
    return create_job_request(
        probe, policy, role_arn=ROLE, input_url=INPUT, destination=DESTINATION, **kwargs
    )


def all_families(name: str) -> LadderPolicy:
    return with_codecs(get_policy(name), ALL)


def cmaf(request: dict[str, Any]) -> dict[str, Any]:
    groups = request["Settings"]["OutputGroups"]
    (group,) = [g for g in groups if g["OutputGroupSettings"]["Type"] == "CMAF_GROUP_SETTINGS"]
    return group


def video_outputs(request: dict[str, Any]) -> list[dict[str, Any]]:
    return [o for o in cmaf(request)["Outputs"] if "VideoDescription" in o]


def codec_of(output: dict[str, Any]) -> str:
    return output["VideoDescription"]["CodecSettings"]["Codec"]


def settings_of(output: dict[str, Any]) -> dict[str, Any]:
    codec = output["VideoDescription"]["CodecSettings"]
    return codec[SETTINGS_KEY[codec["Codec"]]]


def of_codec(request: dict[str, Any], codec: str) -> list[dict[str, Any]]:
    return [o for o in video_outputs(request) if codec_of(o) == codec]


def level(output: dict[str, Any]) -> float:
    qvbr = settings_of(output)["QvbrSettings"]
    return qvbr["QvbrQualityLevel"] + qvbr.get("QvbrQualityLevelFineTune", 0)


def fps_of(settings_: dict[str, Any]) -> Fraction:
    return Fraction(settings_["FramerateNumerator"], settings_["FramerateDenominator"])


# --- every family of a fixed ladder, one CMAF group ---------------------------------------


@pytest.mark.parametrize("probe_name", sorted(n for n, p in PROBES.items() if p.video))
@pytest.mark.parametrize("policy", ["default", "aws-vod", "apple"])
def test_every_family_rung_is_an_output_of_its_codec_in_one_valid_request(
    policy: str, probe_name: str
) -> None:
    probe = PROBES[probe_name]
    result = job(probe, all_families(policy))
    request = result.request
    assert validate_create_job(request) == []
    ladder = plan_ladder(probe, all_families(policy))
    assert ladder.families == [CodecFamily.H264, CodecFamily.HEVC, CodecFamily.AV1]
    outputs = video_outputs(request)
    assert [codec_of(o) for o in outputs] == [CODEC[r.codec] for r in ladder.rungs]
    assert [o["NameModifier"] for o in outputs] == [f"_{r.name}" for r in ladder.rungs]
    names = [o["NameModifier"] for o in cmaf(request)["Outputs"]]
    assert len(set(names)) == len(names), "no two outputs of the group write the same files"
    for output, rung in zip(outputs, ladder.rungs, strict=True):
        description = output["VideoDescription"]
        assert (description["Width"], description["Height"]) == (rung.width, rung.height)
        assert settings_of(output)["MaxBitrate"] == rung.max_bitrate_kbps * 1000
    for codec, prefix in (("H_265", "_hevc-"), ("AV1", "_av1-")):
        assert all(o["NameModifier"].startswith(prefix) for o in of_codec(request, codec))


@pytest.mark.parametrize("fps", [25.0, NTSC, FILM, 60.0])
@pytest.mark.parametrize("policy", ["default", "aws-vod", "apple"])
def test_every_family_keyframes_on_the_same_frames_of_one_segment_grid(
    policy: str, fps: float
) -> None:
    request = job(source(fps=fps), all_families(policy)).request
    group = cmaf(request)["OutputGroupSettings"]["CmafGroupSettings"]
    assert group["SegmentLengthControl"] == "GOP_MULTIPLE"
    outputs = video_outputs(request)
    assert {codec_of(o) for o in outputs} == {"H_264", "H_265", "AV1"}
    assert len({settings_of(o)["GopSize"] for o in outputs}) == 1
    assert len({fps_of(settings_of(o)) for o in outputs}) == 1
    gop = settings_of(outputs[0])["GopSize"]
    segments = group["SegmentLength"] * float(fps_of(settings_of(outputs[0]))) / gop
    assert abs(segments - round(segments)) < 0.01 and round(segments) >= 1
    for output in of_codec(request, "H_265"):
        hevc = settings_of(output)
        assert hevc["GopSizeUnits"] == "FRAMES"
        assert hevc["GopClosedCadence"] == 1
        assert hevc["SceneChangeDetect"] == "DISABLED"
    for output in of_codec(request, "AV1"):
        assert "GopSizeUnits" not in settings_of(output), "AV1's GOP is frames, always"


def test_hevc_is_main_profile_hvc1_with_the_encoders_level() -> None:
    request = job(source(), all_families("default")).request
    hevc = of_codec(request, "H_265")
    assert len(hevc) == 5
    for output in hevc:
        settings_ = settings_of(output)
        assert settings_["CodecProfile"] == "MAIN_MAIN"
        assert settings_["CodecLevel"] == "AUTO"
        assert settings_["WriteMp4PackagingType"] == "HVC1"
        assert settings_["RateControlMode"] == "QVBR"
        assert settings_["QualityTuningLevel"] == "SINGLE_PASS_HQ"
        assert settings_["HrdBufferSize"] == 2 * settings_["MaxBitrate"]
        assert (settings_["ParNumerator"], settings_["ParDenominator"]) == (1, 1)


def test_av1_is_qvbr_under_the_rungs_cap_at_8_bits() -> None:
    request = job(source(), all_families("default")).request
    av1 = of_codec(request, "AV1")
    assert len(av1) == 5
    for output in av1:
        settings_ = settings_of(output)
        assert settings_["RateControlMode"] == "QVBR"
        assert settings_["BitDepth"] == "BIT_8"
        assert fps_of(settings_) == 25
        assert settings_["GopSize"] == 50.0  # 2 s at 25 fps, the H.264 rungs' GOP
        for absent in ("Bitrate", "HrdBufferSize", "ParControl", "GopClosedCadence"):
            assert absent not in settings_


def test_av1_rungs_of_non_square_pixels_are_square_with_a_note() -> None:
    # 854x480 is a hair wider than 16:9: its 16:9 rungs carry a 1281:1280 pixel aspect; the
    # top rung is the source's own size, square
    result = job(source(854, 480), all_families("default"))
    hevc = of_codec(result.request, "H_265")
    pars = [(settings_of(o)["ParNumerator"], settings_of(o)["ParDenominator"]) for o in hevc]
    assert pars == [(1281, 1280), (1281, 1280), (1, 1)]
    av1 = plan_ladder(source(854, 480), all_families("default")).family_rungs(CodecFamily.AV1)
    note = "1281:1280 becomes 1:1"
    noted = [r for r in av1 if any(r.name in n and note in n for n in result.notes)]
    assert [r.sample_aspect_ratio for r in noted] == ["1281:1280", "1281:1280"]
    assert validate_create_job(result.request) == []


def test_every_family_aims_at_the_h264_rungs_quality() -> None:
    """default: quality 7, 7, 8, 8, 8 (x264 CRF 24/22; x265 29/27; SVT-AV1 37/33)."""
    request = job(source(), all_families("default")).request
    for codec in ("H_264", "H_265", "AV1"):
        assert [level(o) for o in of_codec(request, codec)] == [7, 7, 8, 8, 8], codec
    aws_vod = job(source(), all_families("aws-vod")).request
    for codec in ("H_264", "H_265", "AV1"):
        assert [level(o) for o in of_codec(aws_vod, codec)] == [7, 7, 8, 8, 9], codec


def test_family_rungs_share_the_audio_renditions() -> None:
    request = job(source(), all_families("aws-vod")).request
    audio = [o for o in cmaf(request)["Outputs"] if "AudioDescriptions" in o]
    groups = {o["ContainerSettings"]["CmfcSettings"]["AudioGroupId"] for o in audio}
    assert groups == {"aac-64k", "aac-96k", "aac-128k"}
    for codec in ("H_264", "H_265", "AV1"):
        named = {
            o["ContainerSettings"]["CmfcSettings"]["AudioRenditionSets"]
            for o in of_codec(request, codec)
        }
        assert named == groups, codec


def test_a_vbr_ladder_keeps_hevc_vbr_and_makes_av1_qvbr_with_a_note() -> None:
    result = job(source(), all_families("apple"))
    hevc = of_codec(result.request, "H_265")
    ladder = plan_ladder(source(), all_families("apple"))
    targets = [r.bitrate_kbps * 1000 for r in ladder.family_rungs(CodecFamily.HEVC)]
    assert [settings_of(o)["RateControlMode"] for o in hevc] == ["VBR"] * len(hevc)
    assert [settings_of(o)["Bitrate"] for o in hevc] == targets
    av1 = of_codec(result.request, "AV1")
    assert len(av1) == 9
    assert {settings_of(o)["RateControlMode"] for o in av1} == {"QVBR"}
    assert [level(o) for o in av1] == [7] * 9
    av1_rungs = ladder.family_rungs(CodecFamily.AV1)
    assert [settings_of(o)["MaxBitrate"] for o in av1] == [
        r.max_bitrate_kbps * 1000 for r in av1_rungs
    ]
    qvbr_notes = [n for n in result.notes if "AV1 is QVBR only" in n]
    assert len(qvbr_notes) == 9
    assert all(r.name in n for r, n in zip(av1_rungs, qvbr_notes, strict=True))
    assert not [n for n in result.notes if "hevc-" in n]


def test_h264_alone_is_unchanged_by_the_families() -> None:
    alone = job(source(), get_policy("default")).request
    together = job(source(), all_families("default")).request
    assert of_codec(together, "H_264") == video_outputs(alone)


# --- per-title (capped CRF) ladders: CRFs in each encoder's scale --------------------------


def per_title(h264_crf: int, hevc_crf: int, av1_crf: int) -> LadderPolicy:
    """A capped-CRF policy shaped as the auto analysis makes them: each family its own rung
    with a CRF in its encoder's scale."""

    def rung(crf: int, cap: int) -> list[RungTemplate]:
        return [RungTemplate(width=1920, height=1080, bitrate_kbps=cap, crf=crf)]

    return LadderPolicy(
        name="per-title",
        description="test ladder",
        rate_control=RateControl.CAPPED_CRF,
        rungs=rung(h264_crf, 6000),
        codecs=[CodecFamily.H264, CodecFamily.HEVC, CodecFamily.AV1],
        family_rungs={
            CodecFamily.HEVC: rung(hevc_crf, 4200),
            CodecFamily.AV1: rung(av1_crf, 3600),
        },
    )


def test_crfs_of_each_scale_map_to_the_same_qvbr_level() -> None:
    # x264 23 = x265 28 = SVT-AV1 35: all QVBR 7.5
    result = job(source(), per_title(23, 28, 35))
    assert validate_create_job(result.request) == []
    qvbr = [settings_of(o)["QvbrSettings"] for o in video_outputs(result.request)]
    assert qvbr == [{"QvbrQualityLevel": 7, "QvbrQualityLevelFineTune": 0.5}] * 3
    assert [settings_of(o)["MaxBitrate"] for o in video_outputs(result.request)] == [
        6_000_000,
        4_200_000,
        3_600_000,
    ]
    assert not result.notes


def test_a_family_crf_outside_the_levels_is_clamped_with_its_x264_crf_noted() -> None:
    # SVT-AV1 36 is x264 23.5 (7.25); x265 20 is x264 15 (11.5 -> 10); SVT-AV1 63 is x264 37
    result = job(source(), per_title(23, 20, 36))
    qvbr = [settings_of(o)["QvbrSettings"] for o in video_outputs(result.request)]
    assert qvbr[1:] == [
        {"QvbrQualityLevel": 10},
        {"QvbrQualityLevel": 7, "QvbrQualityLevelFineTune": 0.25},
    ]
    (note,) = result.notes
    assert "hevc-1080p" in note and "CRF 20 (x264 15)" in note and "clamped to 10" in note
    low = job(source(), per_title(23, 28, 63))
    assert settings_of(of_codec(low.request, "AV1")[0])["QvbrSettings"] == {"QvbrQualityLevel": 1}
    assert any("CRF 63 (x264 37)" in n and "clamped to 1" in n for n in low.notes)


def family_analysis(complexity: float) -> ComplexityAnalysis:
    """Probe points of the auto ladder tests' rate-quality model for H.264, and the same
    curves for x265 and SVT-AV1 at their probe CRFs and their share of the bits."""
    h264 = model_points(complexity, 3.0)
    points = list(h264)
    for family in (CodecFamily.HEVC, CodecFamily.AV1):
        crfs = AutoLadderConfig().for_family(family).probe_crfs
        points += [
            p.model_copy(update={"codec": family, "crf": crf, "kbps": p.kbps * EFFICIENCY[family]})
            for p, crf in zip(h264, crfs * (len(h264) // len(crfs)), strict=True)
        ]
    return analysis_of(points, [CodecFamily.H264, CodecFamily.HEVC, CodecFamily.AV1])


def x264_equivalent(codec: str, crf: float) -> float:
    return {"H_264": crf, "H_265": crf - 5, "AV1": (crf + 11) / 2}[codec]


@pytest.mark.parametrize("complexity", [0.5, 2.0, 6.0])
def test_the_auto_analysis_capped_crf_ladder_carries_every_family(complexity: float) -> None:
    policy, choices = auto_policy(with_codecs(get_policy("auto"), ALL), family_analysis(complexity))
    assert policy.auto is None and policy.rate_control is RateControl.CAPPED_CRF
    probe = source()
    result = job(probe, policy)
    assert validate_create_job(result.request) == []
    assert "AutomatedEncodingSettings" not in cmaf(result.request)
    ladder = plan_ladder(probe, policy)
    assert {c.codec for c in choices} == {CodecFamily.H264, CodecFamily.HEVC, CodecFamily.AV1}
    outputs = video_outputs(result.request)
    assert [codec_of(o) for o in outputs] == [CODEC[r.codec] for r in ladder.rungs]
    for output, rung in zip(outputs, ladder.rungs, strict=True):
        assert rung.crf is not None
        expected = min(10.0, max(1.0, (38 - x264_equivalent(codec_of(output), rung.crf)) / 2))
        assert level(output) == pytest.approx(expected, abs=0.006), rung.name


# --- Automated ABR: one family -------------------------------------------------------------


def test_automated_abr_leaves_the_other_families_out_with_a_note() -> None:
    result = job(source(), all_families("auto"))
    assert validate_create_job(result.request) == []
    (video,) = video_outputs(result.request)
    assert codec_of(video) == "H_264"
    assert result.ladder.families == [CodecFamily.H264], "the stored ladder is what is encoded"
    assert any("hevc, av1 left out" in n for n in result.notes)
    alone = job(source(), get_policy("auto"))
    assert not any("left out" in n for n in alone.notes)


# --- the validator sees the family members -------------------------------------------------


@pytest.mark.parametrize(
    ("codec", "key", "value", "fragment"),
    [
        ("AV1", "RateControlMode", "VBR", "Av1Settings.RateControlMode: 'VBR' is not one of"),
        # a member no version of the model has (botocore 1.44 added GopSizeUnits to AV1)
        ("AV1", "GopClosedCadence", 1, "Unknown parameter in"),
        ("AV1", "MaxBitrate", 2_000_000_000, "Av1Settings.MaxBitrate: 2000000000 above max"),
        ("H_265", "WriteMp4PackagingType", "HVC2", "WriteMp4PackagingType: 'HVC2' is not one"),
        ("H_265", "CodecLevel", "LEVEL_4_2", "H265Settings.CodecLevel: 'LEVEL_4_2'"),
    ],
)
def test_a_broken_family_output_is_reported(
    codec: str, key: str, value: Any, fragment: str
) -> None:
    request = copy.deepcopy(job(source(), all_families("default")).request)
    target = of_codec(request, codec)[-1]
    settings_of(target)[key] = value
    errors = validate_create_job(request)
    assert any(fragment in e for e in errors), errors


# --- properties over arbitrary sources, and the price --------------------------------------

sources = st.builds(
    source,
    width=st.integers(16, 8192),
    height=st.integers(16, 8192),
    fps=st.one_of(st.sampled_from([FILM, 25.0, NTSC, 50.0, 60.0]), st.floats(1.0, 240.0)),
    audio=st.booleans(),
    scan=st.sampled_from(["progressive", "interlaced"]),
    rotation=st.sampled_from([0, 90, 180, 270]),
    duration=st.one_of(st.none(), st.floats(0.1, 36_000.0)),
)


@settings(max_examples=120, deadline=None)
@given(probe=sources, policy=st.sampled_from(["default", "aws-vod", "apple"]))
def test_any_source_with_every_family_is_a_valid_request_or_a_clear_rejection(
    probe: ProbeResult, policy: str
) -> None:
    try:
        request = job(probe, all_families(policy)).request
    except MediaError as error:
        assert error.code == "request.invalid"
        return
    assert validate_create_job(request) == []
    outputs = video_outputs(request)
    assert len({settings_of(o)["GopSize"] for o in outputs}) == 1
    names = [o["NameModifier"] for o in cmaf(request)["Outputs"]]
    assert len(set(names)) == len(names)


def test_the_estimate_prices_each_family_at_its_codec() -> None:
    prices = read_prices()
    estimate = estimate_title(source(), all_families("default"), prices)
    lines = {line.output: line for line in estimate.lines if line.kind == "video"}
    assert len(lines) == 15
    ladder = plan_ladder(source(), all_families("default"))
    top = {f: ladder.family_rungs(f)[-1].name for f in ladder.families}
    multipliers = prices.mediaconvert.codec_multipliers
    h264 = lines[top[CodecFamily.H264]].multiplier
    assert math.isclose(lines[top[CodecFamily.HEVC]].multiplier, h264 * multipliers["H_265"])
    assert math.isclose(lines[top[CodecFamily.AV1]].multiplier, h264 * multipliers["AV1"])
    assert estimate.tier == "professional"
