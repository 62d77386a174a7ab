"""The MediaConvert CreateJob request built from the project's own ladders: pure, no AWS.

The expected figures are written out from the policies (docs/media.md, the "Video on Demand
on AWS" solution's QVBR ladder) rather than recomputed with the code under test."""

from __future__ import annotations

import ast
import math
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.media_probes import DESTINATION, FILM, INPUT, NTSC, ROLE, source
from support.media_probes import PROBES as FIXED_PROBES

from primevod.adapters.aws.mediaconvert_model import validate_create_job
from primevod.core import mediaconvert, mediaconvert_outputs
from primevod.core.errors import MediaError
from primevod.core.ladder import (
    AutoLadderConfig,
    LadderPolicy,
    RateControl,
    RungTemplate,
    plan_ladder,
)
from primevod.core.mediaconvert import MediaConvertJob, create_job_request
from primevod.core.policies import get_policy
from primevod.core.probe import ProbeResult

FIXED = ["apple", "aws-vod", "default"]
POLICY_NAMES = [*FIXED, "auto"]


PROBES = FIXED_PROBES


def job(probe: ProbeResult, policy: str | LadderPolicy, **kwargs: Any) -> MediaConvertJob:
    chosen = get_policy(policy) if isinstance(policy, str) else policy
    return create_job_request(
        probe, chosen, role_arn=ROLE, input_url=INPUT, destination=DESTINATION, **kwargs
    )


def cmaf(request: dict[str, Any]) -> dict[str, Any]:
    groups = request["Settings"]["OutputGroups"]
    found = [g for g in groups if g["OutputGroupSettings"]["Type"] == "CMAF_GROUP_SETTINGS"]
    assert len(found) == 1
    return found[0]


def cmaf_settings(request: dict[str, Any]) -> dict[str, Any]:
    return cmaf(request)["OutputGroupSettings"]["CmafGroupSettings"]


def video_outputs(request: dict[str, Any]) -> list[dict[str, Any]]:
    return [o for o in cmaf(request)["Outputs"] if "VideoDescription" in o]


def audio_outputs(request: dict[str, Any]) -> list[dict[str, Any]]:
    return [o for o in cmaf(request)["Outputs"] if "AudioDescriptions" in o]


def h264(output: dict[str, Any]) -> dict[str, Any]:
    codec = output["VideoDescription"]["CodecSettings"]
    assert codec["Codec"] == "H_264"
    return codec["H264Settings"]


def aac(output: dict[str, Any]) -> dict[str, Any]:
    (description,) = output["AudioDescriptions"]
    assert description["CodecSettings"]["Codec"] == "AAC"
    return description["CodecSettings"]["AacSettings"]


def thumbnail_groups(request: dict[str, Any]) -> list[dict[str, Any]]:
    groups = request["Settings"]["OutputGroups"]
    return [g for g in groups if g["OutputGroupSettings"]["Type"] == "FILE_GROUP_SETTINGS"]


def fps_of(settings: dict[str, Any]) -> Fraction:
    return Fraction(settings["FramerateNumerator"], settings["FramerateDenominator"])


# --- fixed ladders: the local rungs, one output each -------------------------------------


@pytest.mark.parametrize("probe_name", sorted(PROBES))
@pytest.mark.parametrize("policy", FIXED)
def test_a_fixed_policy_has_one_output_per_local_rung(policy: str, probe_name: str) -> None:
    probe = PROBES[probe_name]
    request = job(probe, policy).request
    rungs = plan_ladder(probe, get_policy(policy)).rungs
    outputs = video_outputs(request)
    assert len(outputs) == len(rungs)
    sizes = [(o["VideoDescription"]["Width"], o["VideoDescription"]["Height"]) for o in outputs]
    assert sizes == [(r.width, r.height) for r in rungs]
    assert all(o["ContainerSettings"]["Container"] == "CMFC" for o in cmaf(request)["Outputs"])
    assert len({o["NameModifier"] for o in cmaf(request)["Outputs"]}) == len(
        cmaf(request)["Outputs"]
    )


# The policies' GOPs: 2 s within 4 s and 6 s segments, 3 s for aws-vod's 3 s segments.
GOP_SECONDS = {"apple": 2.0, "aws-vod": 3.0, "default": 2.0}
SEGMENT_SECONDS = {"apple": 6, "aws-vod": 3, "default": 4, "auto": 4}


@pytest.mark.parametrize("probe_name", sorted(PROBES))
@pytest.mark.parametrize("policy", FIXED)
def test_gops_are_closed_aligned_and_fill_whole_segments(policy: str, probe_name: str) -> None:
    request = job(PROBES[probe_name], policy).request
    segment = cmaf_settings(request)["SegmentLength"]
    assert segment == SEGMENT_SECONDS[policy]
    assert cmaf_settings(request)["SegmentLengthControl"] == "GOP_MULTIPLE"
    settings_ = [h264(o) for o in video_outputs(request)]
    assert {s["GopSizeUnits"] for s in settings_} == {"FRAMES"}
    assert len({s["GopSize"] for s in settings_}) == 1, "every rung keyframes on the same frames"
    assert len({fps_of(s) for s in settings_}) == 1
    for s in settings_:
        fps = fps_of(s)
        assert s["GopSize"] == round(float(fps) * GOP_SECONDS[policy])
        assert s["GopClosedCadence"] == 1
        assert s["SceneChangeDetect"] in ("DISABLED", "TRANSITION_DETECTION")
        gops_per_segment = segment * float(fps) / s["GopSize"]
        assert round(gops_per_segment) >= 1
        assert abs(gops_per_segment - round(gops_per_segment)) < 0.01


@pytest.mark.parametrize("policy", POLICY_NAMES)
def test_a_segment_length_override_moves_segments_and_gops(policy: str) -> None:
    request = job(source(fps=NTSC), policy, segment_seconds=2).request
    assert cmaf_settings(request)["SegmentLength"] == 2
    for output in video_outputs(request):
        settings_ = h264(output)
        if settings_["GopSizeUnits"] == "FRAMES":
            assert settings_["GopSize"] == 60  # 2 s of 29.97 fps
        else:
            assert settings_["GopSize"] == 2.0


def test_aws_vod_is_the_solutions_qvbr_ladder() -> None:
    request = job(source(), "aws-vod").request
    got = [
        (
            o["VideoDescription"]["Width"],
            o["VideoDescription"]["Height"],
            h264(o)["QvbrSettings"]["QvbrQualityLevel"],
            h264(o)["MaxBitrate"],
        )
        for o in video_outputs(request)
    ]
    assert got == [
        (480, 270, 7, 400_000),
        (640, 360, 7, 1_500_000),
        (960, 540, 8, 3_500_000),
        (1280, 720, 8, 6_000_000),
        (1920, 1080, 9, 8_500_000),
    ]
    for output in video_outputs(request):
        assert h264(output)["RateControlMode"] == "QVBR"
        assert "QvbrQualityLevelFineTune" not in h264(output)["QvbrSettings"]
        assert "Bitrate" not in h264(output)
    assert sorted(aac(o)["Bitrate"] for o in audio_outputs(request)) == [64_000, 96_000, 128_000]


def test_the_default_policy_is_qvbr_7_and_8_under_its_caps() -> None:
    request = job(source(3840, 2160, FILM), "default").request
    outputs = video_outputs(request)
    levels = [h264(o)["QvbrSettings"]["QvbrQualityLevel"] for o in outputs]
    caps = [h264(o)["MaxBitrate"] for o in outputs]
    assert levels == [7, 7, 8, 8, 8, 8, 8]
    assert caps == [400_000, 900_000, 2_000_000, 4_000_000, 7_000_000, 12_000_000, 20_000_000]
    assert [h264(o)["HrdBufferSize"] for o in outputs] == [2 * c for c in caps]
    assert [o["VideoDescription"]["Height"] for o in outputs][-1] == 2160


def test_apple_keeps_its_vbr_targets_and_caps() -> None:
    outputs = video_outputs(job(source(), "apple").request)
    targets = [h264(o)["Bitrate"] for o in outputs]
    assert targets == [
        145_000,
        365_000,
        730_000,
        1_100_000,
        2_000_000,
        3_000_000,
        4_500_000,
        6_000_000,
        7_800_000,
    ]
    assert {h264(o)["RateControlMode"] for o in outputs} == {"VBR"}
    assert [h264(o)["MaxBitrate"] for o in outputs] == [
        round(t // 1000 * 1.25) * 1000 for t in targets
    ]


@pytest.mark.parametrize(
    ("fps", "expected"),
    [
        (25.0, Fraction(25)),
        (NTSC, Fraction(30000, 1001)),
        (FILM, Fraction(24000, 1001)),
        (60.0, Fraction(60)),
        (120.0, Fraction(60)),  # above the policies' 60 fps: halved, as locally
    ],
)
def test_the_frame_rate_is_the_local_ladders(fps: float, expected: Fraction) -> None:
    for policy in POLICY_NAMES:
        for output in video_outputs(job(source(fps=fps), policy).request):
            settings_ = h264(output)
            assert settings_["FramerateControl"] == "SPECIFIED"
            assert fps_of(settings_) == expected


def test_an_interlaced_source_is_deinterlaced_everywhere() -> None:
    for policy in POLICY_NAMES:
        request = job(PROBES["sd-640x480i-29.97"], policy).request
        outputs = video_outputs(request) + thumbnail_groups(request)[0]["Outputs"]
        for output in outputs:
            deinterlacer = output["VideoDescription"]["VideoPreprocessors"]["Deinterlacer"]
            assert deinterlacer["Mode"] == "DEINTERLACE"
        progressive = job(source(640, 480, NTSC), policy).request
        assert all(
            "VideoPreprocessors" not in o["VideoDescription"] for o in video_outputs(progressive)
        )


def test_an_hdr_source_is_tone_mapped_to_sdr_everywhere() -> None:
    for policy in POLICY_NAMES:
        for name in ("phone-hlg-1080x1920-30", "hdr10-2160p23.976"):
            request = job(PROBES[name], policy).request
            outputs = video_outputs(request) + thumbnail_groups(request)[0]["Outputs"]
            for output in outputs:
                corrector = output["VideoDescription"]["VideoPreprocessors"]["ColorCorrector"]
                assert corrector["ColorSpaceConversion"] == "FORCE_709"
                assert corrector["HdrToSdrToneMapper"] == "PRESERVE_DETAILS"
            assert validate_create_job(request) == [], name
        sdr = job(PROBES["1080p25"], policy).request
        assert all("VideoPreprocessors" not in o["VideoDescription"] for o in video_outputs(sdr))


def test_a_portrait_source_gets_portrait_rungs() -> None:
    for policy in FIXED:
        outputs = video_outputs(job(PROBES["portrait-1080x1920-30"], policy).request)
        assert outputs
        for output in outputs:
            assert output["VideoDescription"]["Width"] < output["VideoDescription"]["Height"]


def test_a_rotated_source_is_turned_by_mediaconvert_from_its_metadata() -> None:
    rotated = job(PROBES["phone-rotated-90"], "default").request
    assert rotated["Settings"]["Inputs"][0]["VideoSelector"] == {"Rotate": "AUTO"}
    top = video_outputs(rotated)[-1]["VideoDescription"]
    assert (top["Width"], top["Height"]) == (1080, 1920)
    upright = job(PROBES["1080p25"], "default").request
    assert "Rotate" not in upright["Settings"]["Inputs"][0]["VideoSelector"]


@pytest.mark.parametrize("probe_name", sorted(PROBES))
@pytest.mark.parametrize("policy", FIXED)
def test_each_rung_names_an_audio_group_that_exists(policy: str, probe_name: str) -> None:
    probe = PROBES[probe_name]
    request = job(probe, policy).request
    groups = {
        o["ContainerSettings"]["CmfcSettings"]["AudioGroupId"] for o in audio_outputs(request)
    }
    named = {
        o["ContainerSettings"].get("CmfcSettings", {}).get("AudioRenditionSets")
        for o in video_outputs(request)
    }
    if not probe.audio:
        assert not audio_outputs(request)
        assert named == {None}
        assert "AudioSelectors" not in request["Settings"]["Inputs"][0]
        return
    assert named == groups, "every rung has sound and every audio rendition is used"
    ladder = plan_ladder(probe, get_policy(policy))
    assert sorted(aac(o)["Bitrate"] for o in audio_outputs(request)) == sorted(
        a.bitrate_kbps * 1000 for a in ladder.audio
    )


def test_mono_audio_is_mono_at_half_the_rate() -> None:
    request = job(PROBES["720p25-mono"], "default").request
    settings_ = [aac(o) for o in audio_outputs(request)]
    assert {s["CodingMode"] for s in settings_} == {"CODING_MODE_1_0"}
    assert sorted(s["Bitrate"] for s in settings_) == [32_000, 64_000]  # 64k and 128k stereo


def test_thumbnails_are_jpeg_frame_captures_beside_the_package() -> None:
    request = job(source(duration=61.0), "default").request
    (group,) = thumbnail_groups(request)
    destination = group["OutputGroupSettings"]["FileGroupSettings"]["Destination"]
    assert destination.startswith(DESTINATION + "thumbs/")
    (output,) = group["Outputs"]
    assert output["Extension"] == "jpg"
    assert output["ContainerSettings"]["Container"] == "RAW"
    description = output["VideoDescription"]
    assert (description["Width"], description["Height"]) == (320, 180)
    capture = description["CodecSettings"]["FrameCaptureSettings"]
    assert description["CodecSettings"]["Codec"] == "FRAME_CAPTURE"
    assert Fraction(capture["FramerateNumerator"], capture["FramerateDenominator"]) == Fraction(
        1, 2
    )
    assert capture["MaxCaptures"] == math.ceil(61 / 2)


def test_the_package_writes_both_manifests_under_the_destination() -> None:
    settings_ = cmaf_settings(job(source(), "default").request)
    assert settings_["Destination"] == DESTINATION + "master"
    assert settings_["WriteHlsManifest"] == settings_["WriteDashManifest"] == "ENABLED"
    # a destination without its slash lands in the same place
    bare = job(source(), "default").request
    again = create_job_request(
        source(),
        get_policy("default"),
        role_arn=ROLE,
        input_url=INPUT,
        destination=DESTINATION.rstrip("/"),
    ).request
    assert cmaf_settings(again)["Destination"] == cmaf_settings(bare)["Destination"]


def test_role_queue_and_input_are_passed_through() -> None:
    queue = "arn:aws:mediaconvert:eu-west-1:123456789012:queues/Default"
    request = job(source(), "aws-vod", queue_arn=queue).request
    assert request["Role"] == ROLE
    assert request["Queue"] == queue
    assert request["Settings"]["Inputs"][0]["FileInput"] == INPUT
    assert "Queue" not in job(source(), "aws-vod").request


def test_an_audio_only_source_is_an_audio_only_package() -> None:
    probe = source(video=False)
    for policy in POLICY_NAMES:
        result = job(probe, policy)
        request = result.request
        assert not video_outputs(request)
        assert not thumbnail_groups(request)
        assert audio_outputs(request)
        tracks = {
            o["ContainerSettings"]["CmfcSettings"]["AudioTrackType"] for o in audio_outputs(request)
        }
        assert tracks == {"AUDIO_ONLY_VARIANT_STREAM"}
        assert "AutomatedEncodingSettings" not in cmaf(request)
        if policy == "auto":
            assert any("audio-only" in note for note in result.notes)


# --- auto: MediaConvert Automated ABR ------------------------------------------------------


@pytest.mark.parametrize("probe_name", sorted(n for n, p in PROBES.items() if p.video))
def test_auto_is_automated_abr_with_one_base_output(probe_name: str) -> None:
    result = job(PROBES[probe_name], "auto")
    request = result.request
    group = cmaf(request)
    assert group["AutomatedEncodingSettings"]["AbrSettings"] == {
        "MaxRenditions": 6,
        "MinAbrBitrate": 150_000,
        "MaxAbrBitrate": 8_000_000,
    }
    (video,) = video_outputs(request)
    assert "Width" not in video["VideoDescription"]
    assert "Height" not in video["VideoDescription"]
    settings_ = h264(video)
    assert settings_["RateControlMode"] == "QVBR"
    assert settings_["QualityTuningLevel"] == "MULTI_PASS_HQ"
    for fixed in ("Bitrate", "MaxBitrate", "QvbrSettings", "HrdBufferSize"):
        assert fixed not in settings_
    assert settings_["GopSizeUnits"] == "SECONDS"
    assert settings_["GopSize"] == 2.0
    assert settings_["GopClosedCadence"] == 1
    assert request["AccelerationSettings"] == {"Mode": "PREFERRED"}
    assert cmaf_settings(request)["SegmentLength"] == 4
    assert len(audio_outputs(request)) == (1 if PROBES[probe_name].audio else 0)
    assert not any("clamped" in note for note in result.notes)


def auto_policy(**config: Any) -> LadderPolicy:
    return get_policy("auto").model_copy(update={"auto": AutoLadderConfig(**config)})


def abr(result: MediaConvertJob) -> dict[str, Any]:
    return cmaf(result.request)["AutomatedEncodingSettings"]["AbrSettings"]


@pytest.mark.parametrize(
    ("config", "member", "expected"),
    [
        ({"max_renditions": 1}, "MaxRenditions", 3),
        ({"max_renditions": 2}, "MaxRenditions", 3),
        ({"min_bitrate_kbps": 16}, "MinAbrBitrate", 100_000),
        ({"min_bitrate_kbps": 99}, "MinAbrBitrate", 100_000),
        ({"max_bitrate_kbps": 250_000}, "MaxAbrBitrate", 100_000_000),
        ({"min_bitrate_kbps": 16, "max_bitrate_kbps": 40}, "MaxAbrBitrate", 100_000),
    ],
)
def test_auto_settings_outside_mediaconvert_are_clamped_with_a_note(
    config: dict[str, int], member: str, expected: int
) -> None:
    result = job(source(), auto_policy(**config))
    assert abr(result)[member] == expected
    assert any(member in note and "clamped" in note for note in result.notes)


def test_auto_settings_inside_mediaconvert_pass_unchanged() -> None:
    result = job(
        source(), auto_policy(min_bitrate_kbps=100, max_bitrate_kbps=100_000, max_renditions=12)
    )
    assert abr(result) == {
        "MaxRenditions": 12,
        "MinAbrBitrate": 100_000,
        "MaxAbrBitrate": 100_000_000,
    }
    assert not any("clamped" in note for note in result.notes)


def test_an_auto_minimum_above_its_maximum_is_rejected() -> None:
    with pytest.raises(MediaError) as raised:
        job(source(), auto_policy(min_bitrate_kbps=5000, max_bitrate_kbps=2000))
    assert raised.value.code == "request.invalid"
    assert "minimum bitrate" in raised.value.message


@settings(max_examples=200, deadline=None)
@given(
    low=st.integers(16, 150_000),
    high=st.integers(32, 150_000),
    renditions=st.integers(1, 12),
)
def test_any_local_auto_config_fits_mediaconvert_or_is_rejected(
    low: int, high: int, renditions: int
) -> None:
    policy = auto_policy(min_bitrate_kbps=low, max_bitrate_kbps=high, max_renditions=renditions)
    bps_low, bps_high = min(max(low * 1000, 100_000), 100_000_000), min(high * 1000, 100_000_000)
    bps_high = max(bps_high, 100_000)
    if bps_low > bps_high:
        with pytest.raises(MediaError) as raised:
            job(source(), policy)
        assert raised.value.code == "request.invalid"
        return
    result = job(source(), policy)
    assert abr(result) == {
        "MaxRenditions": max(3, renditions),
        "MinAbrBitrate": bps_low,
        "MaxAbrBitrate": bps_high,
    }
    clamped = renditions < 3 or low < 100 or high < 100 or high > 100_000
    assert any("clamped" in note for note in result.notes) == clamped


# --- rejections and clamps of the fixed ladders --------------------------------------------


@pytest.mark.parametrize("segment", [2.5, 0.5, 3.2])
@pytest.mark.parametrize("policy", POLICY_NAMES)
def test_a_fractional_segment_length_is_rejected(policy: str, segment: float) -> None:
    with pytest.raises(MediaError) as raised:
        job(source(), policy, segment_seconds=segment)
    assert raised.value.code == "request.invalid"
    assert "whole seconds" in raised.value.message


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("role_arn", "MediaConvertRole"),
        ("role_arn", "arn:aws:iam::123456789012:user/someone"),
        ("input_url", "/tmp/clip.mp4"),
        ("input_url", "s3://bucket-only"),
        ("destination", "s3://"),
        ("destination", "https://bucket/assets/"),
        ("queue_arn", "Default"),
    ],
)
def test_locations_mediaconvert_cannot_use_are_rejected(field: str, value: str) -> None:
    arguments = {"role_arn": ROLE, "input_url": INPUT, "destination": DESTINATION, field: value}
    with pytest.raises(MediaError) as raised:
        create_job_request(source(), get_policy("default"), **arguments)
    assert raised.value.code == "request.invalid"
    assert value in raised.value.message


@pytest.mark.parametrize("policy", POLICY_NAMES)
def test_a_source_too_small_for_mediaconvert_is_rejected(policy: str) -> None:
    with pytest.raises(MediaError) as raised:
        job(source(24, 24), policy)
    assert raised.value.code == "request.invalid"
    assert "32" in raised.value.message


def test_rungs_too_thin_for_mediaconvert_are_left_out_with_a_note() -> None:
    banner = source(4000, 200)
    result = job(banner, "apple")
    rungs = plan_ladder(banner, get_policy("apple")).rungs
    thin = [r for r in rungs if min(r.width, r.height) < 32]
    assert thin, "the banner's smallest boxes make slivers"
    assert len(video_outputs(result.request)) == len(rungs) - len(thin)
    for rung in thin:
        assert any(rung.name in note and "left out" in note for note in result.notes)
    assert min(o["VideoDescription"]["Height"] for o in video_outputs(result.request)) >= 32


def custom_policy(*templates: RungTemplate) -> LadderPolicy:
    return LadderPolicy(
        name="custom",
        description="test ladder",
        rate_control=RateControl.CAPPED_CRF,
        rungs=list(templates),
    )


def test_crfs_map_to_qvbr_levels_and_outside_levels_are_clamped() -> None:
    policy = custom_policy(
        RungTemplate(width=640, height=360, bitrate_kbps=800, crf=40),
        RungTemplate(width=960, height=540, bitrate_kbps=2000, crf=23),
        RungTemplate(width=1280, height=720, bitrate_kbps=4000, crf=16),
    )
    result = job(source(), policy)
    qvbr = [h264(o)["QvbrSettings"] for o in video_outputs(result.request)]
    assert qvbr == [
        {"QvbrQualityLevel": 1},
        {"QvbrQualityLevel": 7, "QvbrQualityLevelFineTune": 0.5},
        {"QvbrQualityLevel": 10},
    ]
    assert sum("clamped" in note for note in result.notes) == 2


def test_a_level_above_5_2_becomes_auto_with_a_note() -> None:
    policy = custom_policy(RungTemplate(width=7680, height=4320, bitrate_kbps=80_000, quality=8))
    result = job(source(7680, 4320, 60.0), policy)
    (output,) = video_outputs(result.request)
    assert h264(output)["CodecLevel"] == "AUTO"
    assert any("5.2" in note for note in result.notes)
    lower = job(source(), "default").request
    assert h264(video_outputs(lower)[-1])["CodecLevel"] == "LEVEL_4"  # 1080p25, 7 Mb/s


# --- properties over arbitrary sources ---------------------------------------------------

sources = st.builds(
    source,
    width=st.integers(16, 8192),
    height=st.integers(16, 8192),
    fps=st.one_of(st.sampled_from([FILM, 24.0, 25.0, NTSC, 50.0, 60.0]), st.floats(1.0, 240.0)),
    audio=st.booleans(),
    channels=st.sampled_from([1, 2, 6]),
    scan=st.sampled_from(["progressive", "interlaced"]),
    rotation=st.sampled_from([0, 90, 180, 270]),
    duration=st.one_of(st.none(), st.floats(0.1, 36_000.0)),
)


@settings(max_examples=250, deadline=None)
@given(probe=sources, policy=st.sampled_from(FIXED))
def test_any_source_gives_the_local_rungs_that_fit_or_a_clear_rejection(
    probe: ProbeResult, policy: str
) -> None:
    rungs = plan_ladder(probe, get_policy(policy)).rungs
    fitting = [r for r in rungs if min(r.width, r.height) >= 32 and max(r.width, r.height) <= 8192]
    if not fitting:
        with pytest.raises(MediaError) as raised:
            job(probe, policy)
        assert raised.value.code == "request.invalid"
        return
    request = job(probe, policy).request
    outputs = video_outputs(request)
    assert [(o["VideoDescription"]["Width"], o["VideoDescription"]["Height"]) for o in outputs] == [
        (r.width, r.height) for r in fitting
    ]
    assert len({h264(o)["GopSize"] for o in outputs}) == 1
    assert all(h264(o)["GopClosedCadence"] == 1 for o in outputs)
    assert all(
        1 <= h264(o).get("QvbrSettings", {"QvbrQualityLevel": 5})["QvbrQualityLevel"] <= 10
        for o in outputs
    )


def test_the_core_modules_import_no_aws_sdk() -> None:
    for module in (mediaconvert, mediaconvert_outputs):
        tree = ast.parse(Path(module.__file__ or "").read_text())
        imported = {
            name.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for name in (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
            )
        }
        assert imported, "the walk found the imports"
        assert not imported & {"boto3", "botocore", "aiobotocore"}
        assert imported <= {"__future__", "math", "fractions", "typing", "pydantic", "primevod"}


def test_an_h264_profile_mediaconvert_lacks_is_rejected() -> None:
    policy = custom_policy(
        RungTemplate(width=1280, height=720, bitrate_kbps=4000, quality=8, profile="high10")
    )
    with pytest.raises(MediaError) as raised:
        job(source(), policy)
    assert raised.value.code == "request.invalid"
    assert "high10" in raised.value.message
