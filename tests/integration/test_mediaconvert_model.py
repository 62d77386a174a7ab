"""Every CreateJob request the ladders make, checked offline against botocore's MediaConvert
service model; and deliberately broken requests, each reported at its path."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.media_probes import DESTINATION, FILM, INPUT, NTSC, ROLE, source
from support.media_probes import PROBES as FIXED_PROBES

from primevod.adapters.aws.mediaconvert_model import (
    create_job_shape,
    limits,
    validate_create_job,
)
from primevod.core.errors import MediaError
from primevod.core.mediaconvert import create_job_request
from primevod.core.policies import POLICIES, get_policy
from primevod.core.probe import ProbeResult

Request = dict[str, Any]


PROBES: dict[str, ProbeResult] = {**FIXED_PROBES, "audio-only": source(video=False)}


def request_for(probe: ProbeResult, policy: str, **kwargs: Any) -> Request:
    return create_job_request(
        probe,
        get_policy(policy),
        role_arn=ROLE,
        input_url=INPUT,
        destination=DESTINATION,
        queue_arn="arn:aws:mediaconvert:eu-west-1:123456789012:queues/Default",
        **kwargs,
    ).request


@pytest.mark.parametrize("probe_name", sorted(PROBES))
@pytest.mark.parametrize("policy", sorted(POLICIES))
def test_every_policy_and_source_makes_a_valid_request(policy: str, probe_name: str) -> None:
    assert validate_create_job(request_for(PROBES[probe_name], policy)) == []


@pytest.mark.parametrize("segment", [1, 2, 6, 10])
@pytest.mark.parametrize("policy", sorted(POLICIES))
def test_segment_overrides_make_valid_requests(policy: str, segment: int) -> None:
    assert validate_create_job(request_for(source(fps=NTSC), policy, segment_seconds=segment)) == []


sources = st.builds(
    source,
    width=st.integers(16, 8192),
    height=st.integers(16, 8192),
    fps=st.one_of(st.sampled_from([FILM, 25.0, NTSC, 50.0, 60.0]), st.floats(1.0, 240.0)),
    audio=st.booleans(),
    channels=st.sampled_from([1, 2, 6]),
    scan=st.sampled_from(["progressive", "interlaced"]),
    rotation=st.sampled_from([0, 90, 180, 270]),
    duration=st.one_of(st.none(), st.floats(0.1, 36_000.0)),
)


@settings(max_examples=150, deadline=None)
@given(probe=sources, policy=st.sampled_from(sorted(POLICIES)))
def test_any_source_makes_a_valid_request_or_a_clear_rejection(
    probe: ProbeResult, policy: str
) -> None:
    try:
        request = request_for(probe, policy)
    except MediaError as error:
        assert error.code == "request.invalid"
        return
    assert validate_create_job(request) == []


# --- deliberately broken requests ----------------------------------------------------------

FIXED = request_for(PROBES["1080p25"], "aws-vod")
AUTO = request_for(PROBES["1080p25"], "auto")
VIDEO0 = "Settings.OutputGroups[0].Outputs[0].VideoDescription"
H264 = f"{VIDEO0}.CodecSettings.H264Settings"


def video0(request: Request) -> dict[str, Any]:
    return request["Settings"]["OutputGroups"][0]["Outputs"][0]["VideoDescription"]


def h264(request: Request) -> dict[str, Any]:
    return video0(request)["CodecSettings"]["H264Settings"]


def _set(target: Callable[[Request], dict[str, Any]], key: str, value: Any) -> Callable:
    def mutate(request: Request) -> None:
        target(request)[key] = value

    return mutate


def _drop(target: Callable[[Request], dict[str, Any]], key: str) -> Callable:
    def mutate(request: Request) -> None:
        del target(request)[key]

    return mutate


def _root(request: Request) -> dict[str, Any]:
    return request


def _cmaf(request: Request) -> dict[str, Any]:
    return request["Settings"]["OutputGroups"][0]["OutputGroupSettings"]["CmafGroupSettings"]


def _group(request: Request) -> dict[str, Any]:
    return request["Settings"]["OutputGroups"][0]


def _abr(request: Request) -> dict[str, Any]:
    return request["Settings"]["OutputGroups"][0]["AutomatedEncodingSettings"]["AbrSettings"]


def _aac(request: Request) -> dict[str, Any]:
    outputs = request["Settings"]["OutputGroups"][0]["Outputs"]
    audio = next(o for o in outputs if "AudioDescriptions" in o)
    return audio["AudioDescriptions"][0]["CodecSettings"]["AacSettings"]


def _codec(request: Request) -> dict[str, Any]:
    return video0(request)["CodecSettings"]


def _second_video_output(request: Request) -> None:
    outputs = request["Settings"]["OutputGroups"][0]["Outputs"]
    outputs.append(copy.deepcopy(outputs[0]) | {"NameModifier": "_again"})


def _hls_group_beside(request: Request) -> None:
    request["Settings"]["OutputGroups"].append(
        {
            "Name": "hls",
            "OutputGroupSettings": {
                "Type": "HLS_GROUP_SETTINGS",
                "HlsGroupSettings": {"Destination": DESTINATION + "hls/", "SegmentLength": 4},
            },
            "Outputs": [],
        }
    )


# (name, base request, mutation, fragments every one of which one error line must contain)
BROKEN: list[tuple[str, Request, Callable[[Request], None], tuple[str, ...]]] = [
    ("unknown key", FIXED, _set(video0, "Bogus", 1), (VIDEO0, '"Bogus"')),
    ("unknown top key", FIXED, _set(_root, "Sttings", {}), ("input", '"Sttings"')),
    (
        "wrong enum",
        FIXED,
        _set(h264, "RateControlMode", "QVBRX"),
        (f"{H264}.RateControlMode", "QVBRX"),
    ),
    (
        "wrong codec enum",
        FIXED,
        _set(_aac, "CodingMode", "STEREO"),
        ("AacSettings.CodingMode", "STEREO"),
    ),
    (
        "width above max",
        FIXED,
        _set(video0, "Width", 90000),
        (f"{VIDEO0}.Width: 90000", "above max 8192"),
    ),
    (
        "bitrate above max",
        FIXED,
        _set(h264, "MaxBitrate", 2_000_000_000),
        (f"{H264}.MaxBitrate", "above max"),
    ),
    ("width below min", FIXED, _set(video0, "Width", 16), (f"{VIDEO0}.Width", "min value: 32")),
    (
        "qvbr above 10",
        FIXED,
        _set(h264, "QvbrSettings", {"QvbrQualityLevel": 11}),
        ("QvbrSettings.QvbrQualityLevel: 11", "above max 10"),
    ),
    (
        "fine tune above 1 (a double: limits from the shape name)",
        FIXED,
        _set(h264, "QvbrSettings", {"QvbrQualityLevel": 7, "QvbrQualityLevelFineTune": 1.5}),
        ("QvbrQualityLevelFineTune: 1.5", "above max 1"),
    ),
    (
        "negative gop (a double)",
        FIXED,
        _set(h264, "GopSize", -2.0),
        (f"{H264}.GopSize: -2.0", "below min 0"),
    ),
    ("wrong type", FIXED, _set(video0, "Height", "1080"), (f"{VIDEO0}.Height", "type")),
    ("missing role", FIXED, _drop(_root, "Role"), ("input", '"Role"')),
    ("missing settings", FIXED, _drop(_root, "Settings"), ("input", '"Settings"')),
    (
        "missing acceleration mode",
        AUTO,
        _set(_root, "AccelerationSettings", {}),
        ("AccelerationSettings", '"Mode"'),
    ),
    (
        "destination not s3",
        FIXED,
        _set(_cmaf, "Destination", "https://bucket/out/"),
        ("CmafGroupSettings.Destination", "does not match"),
    ),
    (
        "name too long",
        FIXED,
        _set(_group, "Name", "x" * 3000),
        ("Settings.OutputGroups[0].Name: 3000", "above max 2048"),
    ),
    (
        "segment length zero",
        FIXED,
        _set(_cmaf, "SegmentLength", 0),
        ("CmafGroupSettings.SegmentLength", "min value: 1"),
    ),
    (
        "auto without MULTI_PASS_HQ",
        AUTO,
        _set(h264, "QualityTuningLevel", "SINGLE_PASS_HQ"),
        (f"{H264}.QualityTuningLevel", "MULTI_PASS_HQ"),
    ),
    (
        "auto without quality tuning",
        AUTO,
        _drop(h264, "QualityTuningLevel"),
        (f"{H264}.QualityTuningLevel", "MULTI_PASS_HQ"),
    ),
    (
        "auto with VBR",
        AUTO,
        _set(h264, "RateControlMode", "VBR"),
        (f"{H264}.RateControlMode", "QVBR"),
    ),
    (
        "auto with a fixed bitrate",
        AUTO,
        _set(h264, "MaxBitrate", 5_000_000),
        (f"{H264}.MaxBitrate", "Automated ABR"),
    ),
    (
        "auto with a quality level",
        AUTO,
        _set(h264, "QvbrSettings", {"QvbrQualityLevel": 8}),
        (f"{H264}.QvbrSettings", "Automated ABR"),
    ),
    ("auto with a width alone", AUTO, _set(video0, "Width", 1280), (VIDEO0, "Width and Height")),
    (
        "auto with FIT_NO_UPSCALE",
        AUTO,
        _set(video0, "ScalingBehavior", "FIT_NO_UPSCALE"),
        (f"{VIDEO0}.ScalingBehavior", "FIT_NO_UPSCALE"),
    ),
    (
        "auto with MPEG-2",
        AUTO,
        _set(_codec, "Codec", "MPEG2"),
        (f"{VIDEO0}.CodecSettings.Codec", "H_264"),
    ),
    (
        "auto with two video outputs",
        AUTO,
        _second_video_output,
        ("Settings.OutputGroups[0].Outputs", "2 video outputs"),
    ),
    (
        "auto group not CMAF",
        AUTO,
        lambda r: _group(r)["OutputGroupSettings"].update(Type="HLS_GROUP_SETTINGS"),
        ("OutputGroupSettings.Type", "CMAF"),
    ),
    (
        "auto beside a plain ABR group",
        AUTO,
        _hls_group_beside,
        ("Settings.OutputGroups[2]", "AutomatedEncodingSettings"),
    ),
    (
        "auto min above max",
        AUTO,
        _set(_abr, "MinAbrBitrate", 9_000_000),
        ("AbrSettings.MinAbrBitrate: 9000000", "MaxAbrBitrate"),
    ),
    (
        "auto renditions above 15",
        AUTO,
        _set(_abr, "MaxRenditions", 16),
        ("AbrSettings.MaxRenditions: 16", "above max 15"),
    ),
    (
        "auto renditions under 3",
        AUTO,
        _set(_abr, "MaxRenditions", 2),
        ("AbrSettings.MaxRenditions", "min value: 3"),
    ),
    (
        "auto bitrate under 100k",
        AUTO,
        _set(_abr, "MinAbrBitrate", 16_000),
        ("AbrSettings.MinAbrBitrate", "min value: 100000"),
    ),
]


@pytest.mark.parametrize(
    ("base", "mutate", "fragments"),
    [pytest.param(base, mutate, fragments, id=name) for name, base, mutate, fragments in BROKEN],
)
def test_a_broken_request_is_reported_at_its_path(
    base: Request, mutate: Callable[[Request], None], fragments: tuple[str, ...]
) -> None:
    assert validate_create_job(base) == [], "the unbroken request is valid"
    request = copy.deepcopy(base)
    mutate(request)
    errors = validate_create_job(request)
    assert any(all(fragment in error for fragment in fragments) for error in errors), errors


# --- every leaf of a real request, broken in turn -------------------------------------------


def leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(item, (*path, index))
    else:
        yield path, value


def dotted(path: tuple[Any, ...]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def replaced(request: Request, path: tuple[Any, ...], value: Any) -> Request:
    copied = copy.deepcopy(request)
    target = copied
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return copied


FULL = {"default": request_for(PROBES["sd-640x480i-29.97"], "default"), "auto": AUTO}


def leaf_params(keep: Callable[[Any], bool]) -> list[Any]:
    """One case per leaf of the full requests that `keep` picks, named by policy and path."""
    return [
        pytest.param(request, path, id=f"{name}:{dotted(path)}")
        for name, request in FULL.items()
        for path, value in leaves(request)
        if keep(value)
    ]


def _enum_like(value: Any) -> bool:
    return isinstance(value, str) and value.isupper() and value.replace("_", "").isalnum()


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


ENUM_LEAVES = leaf_params(_enum_like)
INT_LEAVES = leaf_params(_integer)
FLOAT_LEAVES = leaf_params(lambda value: isinstance(value, float))


def test_the_leaf_sets_cover_the_request() -> None:
    assert len(ENUM_LEAVES) > 40
    assert len(INT_LEAVES) > 20
    assert FLOAT_LEAVES


@pytest.mark.parametrize(("request_", "path"), ENUM_LEAVES)
def test_every_enum_member_rejects_a_value_outside_its_enum(request_: Request, path: tuple) -> None:
    errors = validate_create_job(replaced(request_, path, "NOT_A_MEMBER"))
    assert any(
        error.startswith(f"{dotted(path)}: 'NOT_A_MEMBER' is not one of") for error in errors
    ), errors


@pytest.mark.parametrize(("request_", "path"), INT_LEAVES)
def test_every_integer_member_has_a_max_that_is_checked(request_: Request, path: tuple) -> None:
    errors = validate_create_job(replaced(request_, path, 10**12))
    assert any(error.startswith(f"{dotted(path)}: {10**12} above max") for error in errors), errors


@pytest.mark.parametrize(("request_", "path"), FLOAT_LEAVES)
def test_every_double_member_has_a_min_that_is_checked(request_: Request, path: tuple) -> None:
    errors = validate_create_job(replaced(request_, path, -1e12))
    expected = f"{dotted(path)}: -1000000000000.0 below min"
    assert any(error.startswith(expected) for error in errors), errors


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
ALL_LEAVES = [(request, path) for request in FULL.values() for path, _ in leaves(request)]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(leaf=st.sampled_from(ALL_LEAVES), value=json_values)
def test_any_value_anywhere_yields_a_list_of_errors_never_a_crash(
    leaf: tuple[Request, tuple[Any, ...]], value: Any
) -> None:
    request, path = leaf
    original = dict(leaves(request))[path]
    errors = validate_create_job(replaced(request, path, value))
    assert all(isinstance(error, str) and error for error in errors)
    if value == original and type(value) is type(original):
        assert errors == []


def test_double_limits_come_from_the_shape_names() -> None:
    model = create_job_shape()
    h264_shape = model.members["Settings"].members["OutputGroups"].member.members["Outputs"]
    codec = h264_shape.member.members["VideoDescription"].members["CodecSettings"]
    qvbr = codec.members["H264Settings"].members["QvbrSettings"]
    assert limits(qvbr.members["QvbrQualityLevelFineTune"]) == (0, 1)
    assert limits(qvbr.members["QvbrQualityLevel"]) == (1, 10)
    assert limits(codec.members["H264Settings"].members["GopSize"]) == (0, None)
