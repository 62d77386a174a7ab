"""The AWS Elemental MediaConvert `CreateJob` request for a title, from the same ladder policy
as the local encode. Pure: no I/O, no boto3 (the dict is `mediaconvert.create_job`'s keyword
arguments; adapters/aws/mediaconvert_model.py validates it against botocore's model).

What the request holds
- One CMAF output group (`CMAF_GROUP_SETTINGS`) writing `master.m3u8` and `master.mpd` over
  one set of segments under the destination prefix, like the local package.
- Fixed policies (`apple`, `aws-vod`, `default`) and the per-title ladders the auto analysis
  makes (capped CRF, `auto` unset): one output per rung of `plan_ladder(probe, policy)`, same
  size, profile, level, pixel aspect, frame rate, caps and buffer. Capped CRF becomes QVBR
  (quality level = the inverse of `quality_to_crf`, so the `aws-vod` rungs get the solution's
  levels 7/7/8/8/9 and its 0.4-8.5 Mb/s max bitrates); the VBR policy (`apple`) stays VBR
  with its target averages (QVBR has no target average outside multi-pass, and Apple's
  rules check the measured average against it).
- Codec families (`policy.codecs`): each rung is an output of its family's codec, all in the
  one CMAF group, on one segment grid (every family's rungs have the H.264 rungs' frame rate
  and GOP frames), sharing the audio renditions. H.264 rungs are H_264; HEVC rungs H_265
  (Main, level AUTO, `hvc1` sample entries, closed fixed GOPs like H.264); AV1 rungs AV1,
  which MediaConvert encodes with QVBR only. A family rung's CRF is in its encoder's scale
  (x265 0-51, SVT-AV1 0-63): it is mapped back to x264's (codec_families.CRF_SCALE) before
  the QVBR mapping, so every family aims at the quality of the H.264 rung of that CRF. An AV1
  rung of a VBR ladder becomes QVBR at level 7 under its cap, noted.
- `auto`: MediaConvert Automated ABR (`AutomatedEncodingSettings.AbrSettings` from
  `LadderPolicy.auto`), one base video output with QVBR and `MULTI_PASS_HQ` and no size,
  bitrate or quality level, accelerated transcoding preferred (AWS's advice for it).
- GOPs: closed (`GopClosedCadence` 1), fixed size, no scene-cut keyframes, aligned across
  rungs: in frames (the local rungs' `gop_frames`) for fixed ladders, in seconds for Automated
  ABR (its lower renditions may halve the frame rate); segments are whole GOPs
  (`SegmentLengthControl` GOP_MULTIPLE), so each one starts with an IDR on every rung.
- AAC renditions from the ladder's audio, each its own audio group, named by the rungs.
- Thumbnails: a FILE group with a FRAME_CAPTURE (JPEG) output at `plan_thumbnails`' size.

Limits: clamp where the intent survives, reject where it cannot
MediaConvert's limits come from its service model (botocore's `mediaconvert` CreateJob):
- Automated ABR `MaxRenditions` is 3..15: a local 1 or 2 is clamped to 3, with a note
  (MediaConvert still drops renditions that add no quality; the cap is a ceiling).
- `MinAbrBitrate` and `MaxAbrBitrate` are 100 kb/s..100 Mb/s: local values outside are
  clamped to the nearest bound, with a note. A minimum above the maximum is rejected.
- `QvbrQualityLevel` is 1..10: a CRF outside 18..36 is clamped to the nearest level, noted.
- `SegmentLength` is whole seconds: a fractional segment length is rejected (rounding would
  move every segment boundary the manifests and players were planned for).
- Output `Width`/`Height` are 32..8192: a rung outside is dropped with a note; no rung left
  (a source under 32 px on a side) is rejected. Thumbnails under 32 px are left out, noted.
- H.264 levels above 5.2 (not in the model) become `AUTO`, noted.
- MediaConvert's AV1 has no pixel aspect, closed-GOP or scene-change members: an AV1 rung of
  non-square pixels is encoded with square ones, noted; its keyframe cadence is its GOP size.
- Automated ABR takes one video output, and every ABR group of the job must be automated:
  with `auto`, the HEVC and AV1 families are left out (and out of the returned ladder), noted.
- Local-only knobs of the auto policy (target VMAF, allowed heights, probe encodes) have no
  MediaConvert equivalent; a note says so. An audio-only source has nothing for Automated ABR
  to do: its request is the fixed audio renditions, noted.
- An H.264 profile other than baseline, main or high is rejected, as is an HEVC or AV1
  profile other than main.
Rejections raise `MediaError("request.invalid", ...)`, as do a role that is not an ARN, an
input that is not an s3:// or https:// URL and a destination that is not an s3:// prefix.
Not checkable here: Automated ABR needs an on-demand queue (a reserved one fails the job).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from primevod.core.codec_families import CodecFamily
from primevod.core.errors import MediaError
from primevod.core.ladder import (
    AutoLadderConfig,
    Ladder,
    LadderPolicy,
    RateControl,
    Rung,
    plan_ladder,
)
from primevod.core.mediaconvert_outputs import (
    DEFAULT_QVBR_LEVEL,
    FAMILY_PROFILES,
    H264_LEVELS,
    JsonDict,
    audio_output,
    automated_video_output,
    cmaf_group_settings,
    input_settings,
    quality_level,
    thumbnail_group,
    video_output,
    x264_crf,
)
from primevod.core.probe import ProbeResult
from primevod.core.thumbnails import plan_thumbnails

ABR_RENDITIONS = (3, 15)  # AutomatedAbrSettings.MaxRenditions
ABR_BITRATE_BPS = (100_000, 100_000_000)  # AutomatedAbrSettings.Min/MaxAbrBitrate
QVBR_LEVELS = (1, 10)  # H264QvbrSettings.QvbrQualityLevel
OUTPUT_SIDE = (32, 8192)  # VideoDescription.Width / Height
CODEC_NAMES = {CodecFamily.H264: "H.264", CodecFamily.HEVC: "HEVC", CodecFamily.AV1: "AV1"}


class MediaConvertJob(BaseModel):
    """A CreateJob request (`mediaconvert.create_job(**request)`), the notes on what was
    adapted to fit MediaConvert, and the local ladder it was built from."""

    request: dict[str, Any]
    notes: list[str] = Field(default_factory=list)
    ladder: Ladder


def create_job_request(
    probe: ProbeResult,
    policy: LadderPolicy,
    *,
    role_arn: str,
    input_url: str,
    destination: str,
    queue_arn: str | None = None,
    segment_seconds: float | None = None,
) -> MediaConvertJob:
    """The CreateJob request that encodes `probe`'s source with `policy` on MediaConvert, e.g.
    `create_job_request(probe_file(path), get_policy("aws-vod"), role_arn=..., input_url=
    "s3://in/uploads/a/clip.mp4", destination="s3://out/assets/a/1/")`."""
    _check_locations(role_arn, input_url, destination, queue_arn)
    ladder = plan_ladder(probe, policy, segment_seconds=segment_seconds)
    notes: list[str] = []
    if policy.auto is not None:
        ladder = _h264_family_only(ladder, notes)
    prefix = destination.rstrip("/") + "/"
    groups = [_cmaf_group(ladder, policy.auto, prefix, notes)]
    thumbs = _thumbnails(probe, ladder, prefix, notes)
    if thumbs is not None:
        groups.append(thumbs)
    video = probe.primary_video
    rotated = bool(video and video.rotation % 360)
    request: JsonDict = {
        "Role": role_arn,
        "Settings": {
            "TimecodeConfig": {"Source": "ZEROBASED"},
            "Inputs": [input_settings(input_url, ladder, rotated)],
            "OutputGroups": groups,
        },
        "UserMetadata": {"primevod-policy": policy.name},
    }
    if queue_arn:
        request["Queue"] = queue_arn
    if any("AutomatedEncodingSettings" in group for group in groups):
        request["AccelerationSettings"] = {"Mode": "PREFERRED"}
    return MediaConvertJob(request=request, notes=notes, ladder=ladder)


def _check_locations(
    role_arn: str, input_url: str, destination: str, queue_arn: str | None
) -> None:
    problems = []
    if not role_arn.startswith("arn:") or ":role/" not in role_arn:
        problems.append(f"role {role_arn!r} is not an IAM role ARN")
    scheme, _, rest = input_url.partition("://")
    if scheme not in ("s3", "https", "http") or "/" not in rest.strip("/"):
        problems.append(f"input {input_url!r} is not an s3:// or http(s):// URL of a file")
    if not destination.startswith("s3://") or len(destination.rstrip("/")) <= len("s3://"):
        problems.append(f"destination {destination!r} is not an s3://bucket/prefix")
    if queue_arn is not None and not queue_arn.startswith("arn:"):
        problems.append(f"queue {queue_arn!r} is not a queue ARN")
    if problems:
        raise MediaError("request.invalid", "; ".join(problems))


def _whole_seconds(segment_seconds: float) -> int:
    if not float(segment_seconds).is_integer():
        raise MediaError(
            "request.invalid",
            f"MediaConvert segments are whole seconds; {segment_seconds:g} s is not",
        )
    return int(segment_seconds)


def _cmaf_group(
    ladder: Ladder, auto: AutoLadderConfig | None, prefix: str, notes: list[str]
) -> JsonDict:
    segment = _whole_seconds(ladder.segment_seconds)
    ladder = _primary_audio_only(ladder, notes)
    if auto is not None and ladder.audio_only:
        notes.append("audio-only source: no Automated ABR, the fixed audio renditions instead")
        auto = None
    if auto is not None:
        for rung in _fitting_rungs(ladder.rungs, []):  # a source no rung fits: rejected too
            _check_profile(rung)
        outputs = _automated_outputs(ladder, notes)
    else:
        outputs = _fixed_outputs(ladder, notes)
    group: JsonDict = {
        "Name": "cmaf",
        "OutputGroupSettings": {
            "Type": "CMAF_GROUP_SETTINGS",
            "CmafGroupSettings": cmaf_group_settings(prefix, segment),
        },
        "Outputs": outputs,
    }
    if auto is not None:
        group["AutomatedEncodingSettings"] = {"AbrSettings": abr_settings(auto, notes)}
    return group


def _h264_family_only(ladder: Ladder, notes: list[str]) -> Ladder:
    """The ladder without its HEVC and AV1 rungs: Automated ABR bases every rendition on one
    video output, and a job with an automated group cannot hold a fixed one beside it."""
    others = [str(f) for f in ladder.families if f is not CodecFamily.H264]
    if not others:
        return ladder
    notes.append(
        f"auto: Automated ABR encodes one codec family; {', '.join(others)} left out "
        "(a fixed or per-title capped-CRF ladder carries every family)"
    )
    return ladder.model_copy(update={"rungs": ladder.family_rungs(CodecFamily.H264)})


def _primary_audio_only(ladder: Ladder, notes: list[str]) -> Ladder:
    """The ladder with the primary audio stream's renditions only: the job does not carry a
    source's other audio languages (nor its subtitles) yet, which the local encode does."""
    if not ladder.audio or ladder.audio[0].source_index is None:
        return ladder
    primary = ladder.audio[0].source_index
    kept = [a for a in ladder.audio if a.source_index == primary]
    others = sorted({a.language or "und" for a in ladder.audio if a.source_index != primary})
    notes.append(
        f"only the primary audio language ({ladder.audio[0].language}) is encoded; "
        f"{', '.join(others)} and any subtitles are not yet in the MediaConvert job"
    )
    return ladder.model_copy(update={"audio": kept})


def _fixed_outputs(ladder: Ladder, notes: list[str]) -> list[JsonDict]:
    """A video output per rung that fits, and the audio renditions those rungs name."""
    rungs = _fitting_rungs(ladder.rungs, notes)
    for rung in rungs:
        _check_profile(rung)
        _note_what_mediaconvert_sets(rung, notes)
    video = [video_output(rung, ladder, _rung_quality(rung, notes)) for rung in rungs]
    if ladder.audio_only:
        return [audio_output(a, "AUDIO_ONLY_VARIANT_STREAM") for a in ladder.audio]
    named = {rung.audio_group for rung in rungs}
    audio = [a for a in ladder.audio if a.group_id in named]
    return video + [audio_output(a, "ALTERNATE_AUDIO_AUTO_SELECT_DEFAULT") for a in audio]


def _automated_outputs(ladder: Ladder, notes: list[str]) -> list[JsonDict]:
    notes.append(
        "auto: MediaConvert picks the renditions' sizes and quality levels; the local "
        "target VMAF, allowed heights and probe encodes do not apply"
    )
    top_audio = max(ladder.audio, key=lambda a: a.bitrate_kbps, default=None)
    outputs = [automated_video_output(ladder, top_audio.group_id if top_audio else None)]
    if top_audio is not None:
        if len(ladder.audio) > 1:
            notes.append(
                f"auto: every rendition shares one AAC rendition ({top_audio.bitrate_kbps} kb/s)"
            )
        outputs.append(audio_output(top_audio, "ALTERNATE_AUDIO_AUTO_SELECT_DEFAULT"))
    return outputs


def _fitting_rungs(rungs: list[Rung], notes: list[str]) -> list[Rung]:
    low, high = OUTPUT_SIDE
    fitting = [r for r in rungs if low <= min(r.width, r.height) and max(r.width, r.height) <= high]
    for rung in rungs:
        if rung not in fitting:
            notes.append(
                f"{rung.name}: {rung.width}x{rung.height} is outside MediaConvert's "
                f"{low}..{high} px sides, left out"
            )
    if rungs and not fitting:
        raise MediaError(
            "request.invalid",
            f"no rung fits MediaConvert's {low}..{high} px output sides "
            f"(the largest is {rungs[-1].width}x{rungs[-1].height})",
        )
    return fitting


def _check_profile(rung: Rung) -> None:
    profiles = FAMILY_PROFILES[rung.codec]
    if rung.profile not in profiles:
        known = ", ".join(profiles)
        raise MediaError(
            "request.invalid",
            f"{rung.name}: {CODEC_NAMES[rung.codec]} profile {rung.profile!r} is not one of "
            f"{known}",
        )


def _note_what_mediaconvert_sets(rung: Rung, notes: list[str]) -> None:
    """Notes on a rung setting MediaConvert's model has no room for."""
    if rung.codec is CodecFamily.H264 and rung.level not in H264_LEVELS:
        notes.append(f"{rung.name}: H.264 level {rung.level} is above 5.2, level AUTO")
    if rung.codec is CodecFamily.AV1 and rung.sample_aspect_ratio != "1:1":
        notes.append(
            f"{rung.name}: MediaConvert's AV1 has no pixel aspect setting, the rung's "
            f"{rung.sample_aspect_ratio} becomes 1:1"
        )


def _rung_quality(rung: Rung, notes: list[str]) -> float | None:
    """The QVBR quality level of a capped-CRF rung (its CRF read in its family's scale),
    clamped to 1..10; an AV1 rung of a VBR ladder gets the default level (AV1 is QVBR only)."""
    if rung.crf is None:
        if rung.codec is CodecFamily.AV1 and rung.rate_control is RateControl.VBR:
            notes.append(
                f"{rung.name}: MediaConvert's AV1 is QVBR only; the VBR target "
                f"{rung.bitrate_kbps} kb/s becomes QVBR level {DEFAULT_QVBR_LEVEL:g} under "
                f"its {rung.max_bitrate_kbps} kb/s cap"
            )
            return DEFAULT_QVBR_LEVEL
        return None
    level = quality_level(rung.crf, rung.codec)
    low, high = QVBR_LEVELS
    clamped = min(float(high), max(float(low), level))
    if clamped != level:
        scale = (
            "" if rung.codec is CodecFamily.H264 else f" (x264 {x264_crf(rung.codec, rung.crf):g})"
        )
        notes.append(
            f"{rung.name}: CRF {rung.crf}{scale} is QVBR level {level:g}, clamped to {clamped:g}"
        )
    return clamped


def abr_settings(auto: AutoLadderConfig, notes: list[str]) -> JsonDict:
    """The auto policy's knobs as AutomatedAbrSettings, clamped into MediaConvert's ranges."""
    renditions = _clamp("MaxRenditions", auto.max_renditions, ABR_RENDITIONS, notes)
    low = _clamp("MinAbrBitrate", auto.min_bitrate_kbps * 1000, ABR_BITRATE_BPS, notes, "b/s")
    high = _clamp("MaxAbrBitrate", auto.max_bitrate_kbps * 1000, ABR_BITRATE_BPS, notes, "b/s")
    if low > high:
        raise MediaError(
            "request.invalid",
            f"the auto ladder's minimum bitrate ({auto.min_bitrate_kbps} kb/s) is above its "
            f"maximum ({auto.max_bitrate_kbps} kb/s)",
        )
    return {"MaxRenditions": renditions, "MinAbrBitrate": low, "MaxAbrBitrate": high}


def _clamp(name: str, value: int, bounds: tuple[int, int], notes: list[str], unit: str = "") -> int:
    low, high = bounds
    clamped = min(high, max(low, value))
    if clamped != value:
        notes.append(
            f"auto: {name} {value}{' ' + unit if unit else ''} is outside MediaConvert's "
            f"{low}..{high}, clamped to {clamped}"
        )
    return clamped


def _thumbnails(
    probe: ProbeResult, ladder: Ladder, prefix: str, notes: list[str]
) -> JsonDict | None:
    if ladder.source_display is None:
        return None  # audio only
    plan = plan_thumbnails(ladder.source_display, probe.duration or 0.0)
    if min(plan.thumb_width, plan.thumb_height) < OUTPUT_SIDE[0]:
        notes.append(
            f"thumbnails of {plan.thumb_width}x{plan.thumb_height} are under MediaConvert's "
            f"{OUTPUT_SIDE[0]} px, left out"
        )
        return None
    return thumbnail_group(prefix, plan, probe.duration, ladder)
