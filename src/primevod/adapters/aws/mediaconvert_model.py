"""Offline validation of a MediaConvert `CreateJob` request against botocore's service model.

Three passes, each error a readable line that names the member's path
(`Settings.OutputGroups[0].Outputs[1].VideoDescription.Width: 90000 above max 8192`):

1. botocore's own `ParamValidator`: missing required members, unknown keys, wrong types,
   values under a `min` (its report lines, which name the path too);
2. a walker over the same model for what botocore leaves to the service: enum membership,
   `max` of numbers and of string/list lengths, string `pattern`s, and the limits of
   `double` members, which the model spells only in the shape's name (`__doubleMin0Max1`);
3. the Automated ABR rules the model cannot express (MediaConvert user guide, "Job settings
   limitations for automated ABR" and "How automated ABR works"): in a group with
   `AutomatedEncodingSettings`, one video output, H.264 or H.265, `QVBR` with
   `MULTI_PASS_HQ`, no bitrate, QVBR level or buffer (MediaConvert sets them per rendition),
   `Width` and `Height` together or not at all (there they are the top rendition's maximum
   size, not a fixed one), a scaling behaviour other than FIT_NO_UPSCALE or SMART_CROP,
   `MinAbrBitrate` not above `MaxAbrBitrate`; every other ABR group of the job automated too;
   and, prime-vod's own rule, the automated group is CMAF.

No network: the model ships inside botocore.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Any

import botocore.session
from botocore.model import ListShape, MapShape, Shape, StructureShape
from botocore.validate import ParamValidator

ABR_GROUP_TYPES = frozenset(
    {
        "HLS_GROUP_SETTINGS",
        "DASH_ISO_GROUP_SETTINGS",
        "MS_SMOOTH_GROUP_SETTINGS",
        "CMAF_GROUP_SETTINGS",
    }
)
_NAMED_LIMITS = re.compile(r"Min(Negative)?(\d+)(?:Max(Negative)?(\d+))?$")
_ENUM_SHOWN = 8
_BOTOCORE_ERROR_START = re.compile(r"\n(?=Missing required|Unknown parameter|Invalid |Must set)")


@cache
def create_job_shape() -> StructureShape:
    """The `CreateJob` input shape of the `mediaconvert` model botocore ships."""
    model = botocore.session.get_session().get_service_model("mediaconvert")
    shape = model.operation_model("CreateJob").input_shape
    assert isinstance(shape, StructureShape)
    return shape


def validate_create_job(request: Mapping[str, Any]) -> list[str]:
    """Every problem found offline in a CreateJob request; empty when it is valid."""
    shape = create_job_shape()
    return [
        *botocore_errors(request, shape),
        *constraint_errors(request, shape),
        *automated_abr_errors(request),
    ]


def botocore_errors(request: Mapping[str, Any], shape: Shape) -> list[str]:
    """botocore's report, one line per error (a value with a newline stays in its error)."""
    report = ParamValidator().validate(request, shape)
    return _BOTOCORE_ERROR_START.split(report.generate_report()) if report.has_errors() else []


def constraint_errors(value: Any, shape: Shape, path: str = "") -> list[str]:
    """Enum, max, length, pattern and named-limit errors of `value` and all it holds; members
    of the wrong type or unknown to the model are skipped (botocore reports those)."""
    if isinstance(shape, StructureShape):
        if not isinstance(value, Mapping):
            return []
        return [
            error
            for key, item in value.items()
            if key in shape.members
            for error in constraint_errors(item, shape.members[key], _member(path, key))
        ]
    if isinstance(shape, ListShape):
        if not isinstance(value, list | tuple):
            return []
        errors = _size_errors(len(value), shape, path, "items")
        for index, item in enumerate(value):
            errors += constraint_errors(item, shape.member, f"{path}[{index}]")
        return errors
    if isinstance(shape, MapShape):
        if not isinstance(value, Mapping):
            return []
        errors = []
        for key, item in value.items():
            errors += constraint_errors(key, shape.key, f"{path} (key: {key})")
            errors += constraint_errors(item, shape.value, _member(path, str(key)))
        return errors
    return _scalar_errors(value, shape, path)


def _member(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _scalar_errors(value: Any, shape: Shape, path: str) -> list[str]:
    if isinstance(value, str) and shape.type_name == "string":
        return _string_errors(value, shape, path)
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    if numeric and shape.type_name in ("integer", "long", "double", "float"):
        return _number_errors(value, shape, path)
    return []


def _string_errors(value: str, shape: Shape, path: str) -> list[str]:
    enum = list(getattr(shape, "enum", None) or [])
    if enum and value not in enum:
        shown = ", ".join(enum[:_ENUM_SHOWN]) + (", ..." if len(enum) > _ENUM_SHOWN else "")
        return [f"{path}: {value!r} is not one of {shape.name} ({shown})"]
    errors = _size_errors(len(value), shape, path, "characters")
    pattern = shape.metadata.get("pattern")
    if pattern and not re.search(pattern, value):
        errors.append(f"{path}: {value!r} does not match {pattern}")
    return errors


def _size_errors(size: int, shape: Shape, path: str, unit: str) -> list[str]:
    high = shape.metadata.get("max")
    return [f"{path}: {size} {unit}, above max {high}"] if high is not None and size > high else []


def _number_errors(value: float, shape: Shape, path: str) -> list[str]:
    low, high = limits(shape)
    errors = []
    if low is not None and value < low and "min" not in shape.metadata:  # botocore checks min
        errors.append(f"{path}: {value} below min {low}")
    if high is not None and value > high:
        errors.append(f"{path}: {value} above max {high}")
    return errors


def limits(shape: Shape) -> tuple[float | None, float | None]:
    """A number shape's (min, max): from the model, else from its name (the model gives its
    `double` shapes no min/max, but names them `__doubleMin0Max1`, `__doubleMinNegative60Max3`)."""
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    named = _NAMED_LIMITS.search(shape.name) if shape.name.startswith("__") else None
    if named is not None:
        neg_low, low_digits, neg_high, high_digits = named.groups()
        if low is None:
            low = -int(low_digits) if neg_low else int(low_digits)
        if high is None and high_digits is not None:
            high = -int(high_digits) if neg_high else int(high_digits)
    return low, high


def automated_abr_errors(request: Mapping[str, Any]) -> list[str]:
    """The Automated ABR rules of the service that its model does not encode."""
    groups = _items(_get(request, "Settings", "OutputGroups"))
    automated = [i for i, g in enumerate(groups) if _get(g, "AutomatedEncodingSettings")]
    if not automated:
        return []
    errors = []
    for index, group in enumerate(groups):
        path = f"Settings.OutputGroups[{index}]"
        kind = _text(_get(group, "OutputGroupSettings", "Type"))
        if index in automated:
            errors += _automated_group_errors(group, path, kind)
        elif kind in ABR_GROUP_TYPES:
            errors.append(
                f"{path}: {kind} without AutomatedEncodingSettings in a job with Automated ABR "
                "(every ABR group of the job must use it)"
            )
    return errors


def _automated_group_errors(group: Any, path: str, kind: str | None) -> list[str]:
    errors = []
    if kind != "CMAF_GROUP_SETTINGS":
        errors.append(
            f"{path}.OutputGroupSettings.Type: {kind!r}, prime-vod's Automated ABR is CMAF"
        )
    abr = _get(group, "AutomatedEncodingSettings", "AbrSettings") or {}
    low, high = _get(abr, "MinAbrBitrate"), _get(abr, "MaxAbrBitrate")
    if isinstance(low, int) and isinstance(high, int) and low > high:
        errors.append(
            f"{path}.AutomatedEncodingSettings.AbrSettings.MinAbrBitrate: {low} above "
            f"MaxAbrBitrate {high}"
        )
    outputs = _items(_get(group, "Outputs"))
    video = [i for i, o in enumerate(outputs) if _get(o, "VideoDescription") is not None]
    if not video:
        errors.append(f"{path}.Outputs: no video output to base the Automated ABR renditions on")
    if len(video) > 1:
        errors.append(f"{path}.Outputs: {len(video)} video outputs, Automated ABR takes one")
    for i in video:
        description = _get(outputs[i], "VideoDescription")
        errors += _automated_video_errors(description, f"{path}.Outputs[{i}].VideoDescription")
    return errors


_AUTOMATIC = ("Bitrate", "MaxBitrate", "QvbrSettings", "HrdBufferSize")


def _automated_video_errors(description: Any, path: str) -> list[str]:
    errors = []
    codec = _text(_get(description, "CodecSettings", "Codec"))
    settings_key = {"H_264": "H264Settings", "H_265": "H265Settings"}.get(codec)
    if settings_key is None:
        return [f"{path}.CodecSettings.Codec: {codec!r}, Automated ABR needs H_264 or H_265"]
    settings = _get(description, "CodecSettings", settings_key) or {}
    at = f"{path}.CodecSettings.{settings_key}"
    if _get(settings, "RateControlMode") != "QVBR":
        errors.append(f"{at}.RateControlMode: {_get(settings, 'RateControlMode')!r}, must be QVBR")
    if _get(settings, "QualityTuningLevel") != "MULTI_PASS_HQ":
        tuning = _get(settings, "QualityTuningLevel")
        errors.append(f"{at}.QualityTuningLevel: {tuning!r}, must be MULTI_PASS_HQ")
    errors += [
        f"{at}.{key}: set, but Automated ABR chooses it per rendition"
        for key in _AUTOMATIC
        if _get(settings, key) is not None
    ]
    if (_get(description, "Width") is None) != (_get(description, "Height") is None):
        errors.append(f"{path}: Width and Height (the maximum size) go together in Automated ABR")
    scaling = _get(description, "ScalingBehavior")
    if scaling in ("FIT_NO_UPSCALE", "SMART_CROP"):
        errors.append(f"{path}.ScalingBehavior: {scaling}, not allowed with Automated ABR")
    return errors


def _get(value: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _text(value: Any) -> str | None:
    """A string member's value; anything else (botocore reports its type) as None."""
    return value if isinstance(value, str) else None


def _items(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []
