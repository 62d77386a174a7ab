"""The pieces of a MediaConvert job: the CMAF group's settings, one video output per rung (H.264,
H.265 or AV1, the rung's codec family), the Automated ABR base output, AAC outputs, the
input, and the frame-capture thumbnails. Pure.

Each function turns one planned thing of the local ladder (core/ladder.py) into its
MediaConvert JSON, with MediaConvert's own member names; core/mediaconvert.py assembles them
and owns the limits (clamps, rejections and notes).
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from primevod.core.codec_families import CRF_SCALE, CodecFamily
from primevod.core.ladder import AudioRendition, Ladder, RateControl, Rung
from primevod.core.thumbnails import ThumbnailPlan

JsonDict = dict[str, Any]

AUDIO_SELECTOR = "Audio Selector 1"
MANIFEST_BASENAME = "master"  # -> master.m3u8 and master.mpd under the destination prefix
THUMBS_BASENAME = "thumbs/thumb"  # -> thumbs/thumb.0000000.jpg, ...
THUMB_JPEG_QUALITY = 80
MAX_CAPTURES = 10_000_000  # FrameCaptureSettings.MaxCaptures max in the service model
# H264CodecLevel values of the service model (it stops at 5.2; local levels 6+ become AUTO)
H264_LEVELS = frozenset(
    [
        "1",
        "1.1",
        "1.2",
        "1.3",
        "2",
        "2.1",
        "2.2",
        "3",
        "3.1",
        "3.2",
        "4",
        "4.1",
        "4.2",
        "5",
        "5.1",
        "5.2",
    ]
)
H264_PROFILES = {"baseline": "BASELINE", "main": "MAIN", "high": "HIGH"}
# A rung's profile as each family's settings spell it: HEVC Main (8 bit) at Main tier; AV1's
# Main profile has no member of its own, its 8-bit depth is what the local av01.0.xxM.08 has
FAMILY_PROFILES: dict[CodecFamily, dict[str, str]] = {
    CodecFamily.H264: H264_PROFILES,
    CodecFamily.HEVC: {"main": "MAIN_MAIN"},
    CodecFamily.AV1: {"main": "BIT_8"},
}
# the level of a QVBR output whose rung has no CRF (an AV1 rung of a VBR ladder: MediaConvert's
# AV1 has no VBR); 7 is MediaConvert's advice for most content, and the aws-vod ladder's low end
DEFAULT_QVBR_LEVEL = 7.0


def cmaf_group_settings(prefix: str, segment_seconds: int) -> JsonDict:
    """One set of CMAF segments with an HLS and a DASH manifest, like the local package.

    GOP_MULTIPLE: a segment is a whole number of the (fixed, closed, rung-aligned) GOPs, so
    every segment of every rung starts with the same IDR; one fragment per segment, as the
    local muxer writes."""
    return {
        "Destination": f"{prefix}{MANIFEST_BASENAME}",
        "SegmentControl": "SEGMENTED_FILES",
        "SegmentLength": segment_seconds,
        "SegmentLengthControl": "GOP_MULTIPLE",
        "FragmentLength": segment_seconds,
        "WriteHlsManifest": "ENABLED",
        "WriteDashManifest": "ENABLED",
        "ManifestDurationFormat": "FLOATING_POINT",
        "TargetDurationCompatibilityMode": "SPEC_COMPLIANT",
        "StreamInfResolution": "INCLUDE",
        "CodecSpecification": "RFC_6381",
        "MpdProfile": "MAIN_PROFILE",
        "WriteSegmentTimelineInRepresentation": "ENABLED",
        "ClientCache": "ENABLED",
    }


def input_settings(input_url: str, ladder: Ladder, rotated: bool) -> JsonDict:
    """The source: zero-based timecodes (outputs start at 0 like the local encode), turned by
    its rotation metadata (the rungs are planned in display orientation), default audio."""
    settings: JsonDict = {
        "FileInput": input_url,
        "TimecodeSource": "ZEROBASED",
        "VideoSelector": {"Rotate": "AUTO"} if rotated else {},
    }
    if ladder.audio:
        settings["AudioSelectors"] = {AUDIO_SELECTOR: {"DefaultSelection": "DEFAULT"}}
    return settings


def x264_crf(family: CodecFamily, crf: int) -> float:
    """A family rung's CRF in x264's scale: the inverse of codec_families.family_crf (SVT-AV1's
    CRF 35 is x264's 23, x265's 28 is x264's 23)."""
    slope, offset = CRF_SCALE[family]
    return (crf - offset) / slope


def quality_level(crf: int, family: CodecFamily = CodecFamily.H264) -> float:
    """A capped-CRF rung's QVBR quality level: its CRF back in x264's scale, then the inverse
    of ladder.quality_to_crf (a CRF of an odd value lands half-way between two levels), so
    every family's rungs aim at the quality the H.264 rung of that CRF aims at."""
    return (38 - x264_crf(family, crf)) / 2.0


def qvbr_settings(level: float) -> JsonDict:
    whole = math.floor(level)
    settings: JsonDict = {"QvbrQualityLevel": whole}
    if level > whole:
        settings["QvbrQualityLevelFineTune"] = round(level - whole, 2)
    return settings


def codec_level(level: str) -> str:
    return f"LEVEL_{level.replace('.', '_')}" if level in H264_LEVELS else "AUTO"


def _frame_rate(frame_rate: str | None) -> JsonDict:
    if frame_rate is None:
        return {"FramerateControl": "INITIALIZE_FROM_SOURCE"}
    fps = Fraction(frame_rate)
    return {
        "FramerateControl": "SPECIFIED",
        "FramerateNumerator": fps.numerator,
        "FramerateDenominator": fps.denominator,
        "FramerateConversionAlgorithm": "DUPLICATE_DROP",
    }


def _gop(size: float, units: str) -> JsonDict:
    """Closed GOPs of a fixed size, no scene-cut keyframes (`-sc_threshold 0` locally): every
    rung's keyframes fall on the same frames, and on every segment boundary."""
    return {
        "GopSize": float(size),  # a double in the model
        "GopSizeUnits": units,
        "GopClosedCadence": 1,
        "SceneChangeDetect": "DISABLED",
        "MinIInterval": 0,
        "InterlaceMode": "PROGRESSIVE",
    }


def _rate_control(rung: Rung, level: float | None) -> JsonDict:
    """H.264's and H.265's rate control (the same members): VBR with the rung's target, or
    QVBR at `level`; both under the rung's cap and buffer."""
    caps = {"MaxBitrate": rung.max_bitrate_kbps * 1000, "HrdBufferSize": rung.buffer_kbits * 1000}
    if rung.rate_control is RateControl.VBR:
        return {"RateControlMode": "VBR", "Bitrate": (rung.bitrate_kbps or 0) * 1000, **caps}
    qvbr = qvbr_settings(level or DEFAULT_QVBR_LEVEL)
    return {"RateControlMode": "QVBR", "QvbrSettings": qvbr, **caps}


def _pixel_aspect(rung: Rung) -> JsonDict:
    sar_num, _, sar_den = rung.sample_aspect_ratio.partition(":")
    return {
        "ParControl": "SPECIFIED",
        "ParNumerator": int(sar_num),
        "ParDenominator": int(sar_den or 1),
    }


def h264_rung_settings(rung: Rung, level: float | None) -> JsonDict:
    """One rung's H.264: the local rung's profile, level, caps and GOP; capped CRF as QVBR at
    `level` (already within 1..10), VBR as VBR."""
    return {
        "CodecProfile": H264_PROFILES[rung.profile],
        "CodecLevel": codec_level(rung.level),
        **_rate_control(rung, level),
        "QualityTuningLevel": "SINGLE_PASS_HQ",
        **_gop(rung.gop_frames, "FRAMES"),
        **_frame_rate(rung.frame_rate),
        **_pixel_aspect(rung),
    }


def h265_rung_settings(rung: Rung, level: float | None) -> JsonDict:
    """One HEVC rung, as its H.264 rungs are made: the same GOP (so all families share the
    segment grid), caps, buffer, frame rate and pixel aspect; Main profile, the level left to
    the encoder (the local x265 rung's `auto`); `hvc1` sample entries (parameter sets in the
    init segment), which Apple's players require and the local package writes."""
    return {
        "CodecProfile": FAMILY_PROFILES[CodecFamily.HEVC][rung.profile],
        "CodecLevel": "AUTO",
        **_rate_control(rung, level),
        "QualityTuningLevel": "SINGLE_PASS_HQ",
        **_gop(rung.gop_frames, "FRAMES"),
        **_frame_rate(rung.frame_rate),
        **_pixel_aspect(rung),
        "WriteMp4PackagingType": "HVC1",
    }


def av1_rung_settings(rung: Rung, level: float | None) -> JsonDict:
    """One AV1 rung. MediaConvert's AV1 is QVBR only, under a required MaxBitrate, and takes
    its GOP in frames only: the rung's GOP frames put its keyframes on the H.264 rungs'
    frames. Its model has no closed-GOP, scene-change, buffer or pixel-aspect members (the
    caller notes a non-square pixel aspect); 8-bit, as the local SVT-AV1 rungs."""
    return {
        "RateControlMode": "QVBR",
        "QvbrSettings": qvbr_settings(level or DEFAULT_QVBR_LEVEL),
        "MaxBitrate": rung.max_bitrate_kbps * 1000,
        "GopSize": float(rung.gop_frames),  # a double in the model, frames for AV1
        "BitDepth": FAMILY_PROFILES[CodecFamily.AV1][rung.profile],
        **_frame_rate(rung.frame_rate),
    }


def codec_settings(rung: Rung, level: float | None) -> JsonDict:
    """A rung's `CodecSettings`: the codec of its family and that codec's settings."""
    if rung.codec is CodecFamily.HEVC:
        return {"Codec": "H_265", "H265Settings": h265_rung_settings(rung, level)}
    if rung.codec is CodecFamily.AV1:
        return {"Codec": "AV1", "Av1Settings": av1_rung_settings(rung, level)}
    return {"Codec": "H_264", "H264Settings": h264_rung_settings(rung, level)}


def _deinterlacer() -> JsonDict:
    return {
        "Deinterlacer": {"Algorithm": "INTERPOLATE", "Mode": "DEINTERLACE", "Control": "NORMAL"}
    }


def _tone_mapper() -> JsonDict:
    """An HDR source to SDR BT.709 by MediaConvert's own tone mapper: what the local
    encode's `tonemap` filter does for the same ladder."""
    return {
        "ColorCorrector": {
            "ColorSpaceConversion": "FORCE_709",
            "HdrToSdrToneMapper": "PRESERVE_DETAILS",
        }
    }


def _video_description(codec: JsonDict, ladder: Ladder, size: tuple[int, int] | None) -> JsonDict:
    description: JsonDict = {"CodecSettings": codec, "AntiAlias": "ENABLED"}
    if size is not None:
        description.update(Width=size[0], Height=size[1], ScalingBehavior="STRETCH_TO_OUTPUT")
    preprocessors = {
        **(_deinterlacer() if ladder.deinterlace else {}),
        **(_tone_mapper() if ladder.tone_map else {}),
    }
    if preprocessors:
        description["VideoPreprocessors"] = preprocessors
    return description


def _cmfc(**settings: str | None) -> JsonDict:
    present = {key: value for key, value in settings.items() if value}
    return {"Container": "CMFC", **({"CmfcSettings": present} if present else {})}


def video_output(rung: Rung, ladder: Ladder, level: float | None) -> JsonDict:
    """A rung: its exact size (each rung's pixel aspect restores the source's display aspect,
    so the picture is stretched to the box, never letterboxed), paired with its audio group.
    Named by the rung (`_hevc-1080p-4900k`: family rungs carry their family's prefix), so every
    family's outputs share the CMAF group without two outputs writing the same files."""
    codec = codec_settings(rung, level)
    return {
        "NameModifier": f"_{rung.name}",
        "ContainerSettings": _cmfc(AudioRenditionSets=rung.audio_group),
        "VideoDescription": _video_description(codec, ladder, (rung.width, rung.height)),
    }


def automated_video_output(ladder: Ladder, audio_group: str | None) -> JsonDict:
    """The Automated ABR base output: every rendition MediaConvert picks shares these settings.
    No size, bitrate, quality level or buffer (MediaConvert chooses them per rendition); the
    frame rate is the top rendition's (lower ones may halve it), so the GOP is given in
    seconds to stay on the segment grid at any rendition's frame rate."""
    profile = ladder.rungs[-1].profile if ladder.rungs else "high"
    h264 = {
        "CodecProfile": H264_PROFILES[profile],
        "CodecLevel": "AUTO",
        "RateControlMode": "QVBR",
        "QualityTuningLevel": "MULTI_PASS_HQ",
        **_gop(ladder.gop_seconds, "SECONDS"),
        **_frame_rate(ladder.frame_rate),
    }
    codec = {"Codec": "H_264", "H264Settings": h264}
    return {
        "NameModifier": "_video",
        "ContainerSettings": _cmfc(AudioRenditionSets=audio_group),
        "VideoDescription": _video_description(codec, ladder, None),
    }


def audio_output(rendition: AudioRendition, track_type: str) -> JsonDict:
    """One AAC rendition in its own audio group (the group the rungs name)."""
    aac = {
        "Bitrate": rendition.bitrate_kbps * 1000,
        "CodecProfile": "LC",
        "CodingMode": "CODING_MODE_2_0" if rendition.channels >= 2 else "CODING_MODE_1_0",
        "SampleRate": rendition.sample_rate,
        "RateControlMode": "CBR",
    }
    return {
        "NameModifier": f"_{rendition.group_id}",
        "ContainerSettings": _cmfc(AudioGroupId=rendition.group_id, AudioTrackType=track_type),
        "AudioDescriptions": [
            {
                "AudioSourceName": AUDIO_SELECTOR,
                "CodecSettings": {"Codec": "AAC", "AacSettings": aac},
            }
        ],
    }


def thumbnail_group(
    prefix: str, plan: ThumbnailPlan, duration: float | None, ladder: Ladder
) -> JsonDict:
    """Frame-capture JPEGs every `plan.interval` seconds at the thumbnail size, in a file group
    beside the CMAF package (`thumbs/`)."""
    rate = 1 / Fraction(plan.interval).limit_denominator(1000)  # captures per second
    capture: JsonDict = {
        "FramerateNumerator": rate.numerator,
        "FramerateDenominator": rate.denominator,
        "Quality": THUMB_JPEG_QUALITY,
    }
    if duration:
        capture["MaxCaptures"] = min(MAX_CAPTURES, max(1, math.ceil(duration / plan.interval)))
    codec = {"Codec": "FRAME_CAPTURE", "FrameCaptureSettings": capture}
    size = (plan.thumb_width, plan.thumb_height)
    return {
        "Name": "thumbnails",
        "OutputGroupSettings": {
            "Type": "FILE_GROUP_SETTINGS",
            "FileGroupSettings": {"Destination": f"{prefix}{THUMBS_BASENAME}"},
        },
        "Outputs": [
            {
                "Extension": "jpg",
                "ContainerSettings": {"Container": "RAW"},
                "VideoDescription": _video_description(codec, ladder, size),
            }
        ],
    }
