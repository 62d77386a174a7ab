"""ABR ladder planning: from a probe result and a policy to the rungs to encode. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from pydantic import BaseModel, Field

from primevod.core.codec_families import (
    CRF_MAX,
    CRF_SCALE,
    DEFAULT_CODECS,
    EFFICIENCY,
    CodecFamily,
    family_crf,
    parse_codecs,
)
from primevod.core.errors import MediaError
from primevod.core.frame_rate import (
    MAX_FRAME_RATE,
    fraction_str,
    gop_seconds_for,
    output_frame_rate,
)
from primevod.core.h264 import h264_level
from primevod.core.probe import ProbeResult, VideoStreamInfo

DEFAULT_SEGMENT_SECONDS = 4.0
MIN_RUNG_SIDE = 16


class RateControl(StrEnum):
    VBR = "vbr"  # target average bitrate, capped by maxrate/bufsize (VBV)
    CAPPED_CRF = "capped_crf"  # constant quality, capped by maxrate/bufsize (QVBR analog)


def quality_to_crf(quality: int) -> int:
    """Map a QVBR-style quality level (1-10, 10 best) to an x264 CRF (10 -> 18, 1 -> 36)."""
    if not 1 <= quality <= 10:
        raise MediaError("request.invalid", f"quality level {quality} is not in 1..10")
    return 38 - 2 * quality


class RungTemplate(BaseModel):
    """One rung of a policy, given for a 16:9 landscape source (the box it must fit in)."""

    width: int
    height: int
    bitrate_kbps: int = Field(description="target average (vbr) or cap (capped_crf)")
    max_bitrate_kbps: int | None = None
    quality: int | None = Field(None, ge=1, le=10, description="capped_crf quality level")
    crf: int | None = Field(
        None,
        ge=0,
        le=63,
        description="capped_crf: an exact CRF in the rung's encoder scale (the auto ladder's "
        "pick; x264 and x265 take 0-51, SVT-AV1 0-63)",
    )
    profile: str = "high"
    audio_bitrate_kbps: int = 128


class AutoLadderConfig(BaseModel):
    """The knobs of the content-adaptive ladder (MediaConvert Automated ABR's, plus a quality
    target): the rungs come from probe encodes of the title, see core/auto_ladder.py."""

    min_bitrate_kbps: int = Field(150, ge=16, description="lowest rung's average bitrate")
    max_bitrate_kbps: int = Field(8000, ge=32, description="top rung's average bitrate")
    max_renditions: int = Field(6, ge=1, le=12)
    target_vmaf: float = Field(95.0, ge=50, le=100, description="min top-rung quality")
    heights: list[int] = Field(
        default_factory=lambda: [234, 360, 432, 540, 720, 1080, 1440, 2160],
        description="rung heights allowed (16:9 boxes; portrait sources turn them)",
    )
    easy_top_kbps: int = Field(
        500, ge=0, description="a top rung this cheap climbs to the best quality under it"
    )
    resolution_tie_vmaf: float = Field(
        1.0, ge=0, description="at a bitrate, a larger picture this close in VMAF wins"
    )
    min_vmaf_step: float = Field(
        6.0, gt=0, description="a rung must add at least this much VMAF over the one below"
    )
    min_bitrate_ratio: float = Field(1.5, gt=1, description="adjacent rungs at least this apart")
    max_bitrate_ratio: float = Field(
        3.0, gt=1, description="adjacent rungs at most this apart (a wider switch shows)"
    )
    knee_vmaf: float = Field(
        1.0,
        ge=0,
        description="target out of reach: the top rung is the cheapest this close to the best",
    )
    maxrate_factor: float = Field(1.75, ge=1, description="cap = factor x planned average")
    crf_range: tuple[int, int] = Field((16, 40), description="CRFs the ladder may use")
    probe_crfs: list[int] = Field(default_factory=lambda: [19, 25, 31])
    crf_extrapolation: tuple[int, int] = Field(
        (3, 4), description="CRF steps the hull may reach below and above the probed CRFs"
    )
    probe_heights: int = Field(4, ge=1, le=6, description="resolutions probed at most")
    samples: int = Field(0, ge=0, le=20, description="probe samples; 0: from the duration")
    sample_seconds: float = Field(1.0, gt=0, le=10)

    def for_family(self, family: CodecFamily) -> AutoLadderConfig:
        """The knobs in a family's CRF scale: its probe CRFs and CRF range sit where the
        H.264 ones do in quality, so every family's hull spans the same quality range."""
        if family is CodecFamily.H264:
            return self
        lo, hi = self.crf_range
        below, above = self.crf_extrapolation
        slope = CRF_SCALE[family][0]
        return self.model_copy(
            update={
                "probe_crfs": [family_crf(family, c) for c in self.probe_crfs],
                "crf_range": (family_crf(family, lo), family_crf(family, hi)),
                "crf_extrapolation": (below * slope, above * slope),
            }
        )


class LadderPolicy(BaseModel):
    name: str
    description: str
    rate_control: RateControl
    rungs: list[RungTemplate]
    segment_seconds: float = DEFAULT_SEGMENT_SECONDS
    gop_seconds: float | None = None
    maxrate_factor: float = Field(1.25, description="vbr: maxrate = factor x target")
    buffer_factor: float = Field(2.0, description="bufsize = factor x maxrate")
    max_frame_rate: float = MAX_FRAME_RATE
    upscale_tolerance: float = Field(1.1, description="a box this much above the source fits")
    source_rung_share: float = Field(
        0.75,
        ge=0.0,
        le=1.0,
        description="the top rung keeps at least this share of the source's pixels: when "
        "the boxes that fit leave more out (a 480p source between the 360p and 540p boxes), "
        "the next box up gives a rung at the source's own size",
    )
    dedup_ratio: float = Field(1.2, description="same size rungs closer than this are one")
    auto: AutoLadderConfig | None = Field(
        None, description="content-adaptive: rungs are picked from probe encodes of the title"
    )
    codecs: list[CodecFamily] = Field(
        default_factory=lambda: list(DEFAULT_CODECS),
        description="codec families encoded, H.264 first (always there, every device plays "
        "it); a family without its own rungs gets the H.264 rungs' sizes at rates scaled by "
        "its efficiency",
    )
    family_rungs: dict[CodecFamily, list[RungTemplate]] = Field(
        default_factory=dict,
        description="a family's own rungs (the auto ladder's pick from that codec's hull), "
        "CRFs in its encoder's scale; `rungs` are the H.264 ones",
    )
    left_out: dict[str, str] = Field(
        default_factory=dict,
        description="codec families asked for but not encoded for this title, and why (set "
        "by the auto ladder)",
    )
    small_rung_slower_presets: int = Field(
        0,
        ge=0,
        le=3,
        description="rungs of at most half the top rung's pixels encode this many x264 "
        "presets slower than the encode's (they are cheap; a slower preset saves bits)",
    )


class Rung(BaseModel):
    name: str
    width: int
    height: int
    codec: CodecFamily = CodecFamily.H264
    profile: str
    level: str = Field(description="H.264 level; `auto` for HEVC and AV1 (the encoder picks)")
    rate_control: RateControl
    bitrate_kbps: int | None = Field(None, description="target average; None for capped_crf")
    max_bitrate_kbps: int
    buffer_kbits: int
    crf: int | None = None
    frame_rate: str
    gop_frames: int
    audio_bitrate_kbps: int | None = None
    audio_group: str | None = None
    sample_aspect_ratio: str = Field(
        "1:1", description="pixel shape that makes every rung show the source's exact aspect"
    )
    preset_steps: int = Field(0, ge=0, description="x264 presets slower than the encode's")

    @property
    def pixels(self) -> int:
        return self.width * self.height


class AudioRendition(BaseModel):
    group_id: str
    codec: str = "aac"
    bitrate_kbps: int
    channels: int
    sample_rate: int
    source_index: int | None = Field(
        None, description="the source's audio stream (None: the primary one)"
    )
    language: str | None = Field(None, description="the stream's language tag as the source has it")


class Ladder(BaseModel):
    policy: str
    rungs: list[Rung]
    audio: list[AudioRendition]
    segment_seconds: float
    gop_seconds: float
    frame_rate: str | None
    deinterlace: bool = False
    tone_map: str | None = Field(
        None,
        description="the source's HDR transfer (smpte2084: PQ, arib-std-b67: HLG): every rung "
        "is tone-mapped to SDR BT.709, which every device shows right",
    )
    source_display: tuple[int, int] | None = None
    left_out: dict[str, str] = Field(
        default_factory=dict, description="codec families asked for but not encoded, and why"
    )

    @property
    def audio_only(self) -> bool:
        return not self.rungs

    @property
    def families(self) -> list[CodecFamily]:
        """The codec families of the video rungs, in ladder order (H.264 first)."""
        return list(dict.fromkeys(r.codec for r in self.rungs))

    def family_rungs(self, family: CodecFamily) -> list[Rung]:
        return [r for r in self.rungs if r.codec == family]


def with_codecs(policy: LadderPolicy, codecs: str | list[str] | None) -> LadderPolicy:
    """The policy encoding these codec families (validated; None keeps the policy's own)."""
    if codecs is None:
        return policy
    return policy.model_copy(update={"codecs": list(parse_codecs(codecs))})


def audio_group_id(kbps: int) -> str:
    return f"aac-{kbps}k"


def _even(value: float) -> int:
    return max(2, round(value / 2.0) * 2)


def plan_ladder(
    probe: ProbeResult,
    policy: LadderPolicy,
    *,
    segment_seconds: float | None = None,
) -> Ladder:
    """Plan the rungs for one source: never upscale, keep the display aspect ratio, even sizes,
    source frame rate up to the policy's maximum, no duplicate rungs, at least one rung."""
    seg, gop_s = _segment_timing(policy, segment_seconds)
    video = probe.primary_video
    if video is None:
        return _audio_only_ladder(probe, policy, seg, gop_s)

    source = _source_facts(probe, video, policy, gop_s)
    rungs = [
        _rung(width, height, template, policy, source)
        for width, height, template in _fit_sizes(source, policy)
    ]
    rungs = _drop_duplicates(rungs, policy.dedup_ratio)
    rungs = _slow_small_rungs(rungs, policy.small_rung_slower_presets)
    rungs += [
        rung
        for family in parse_codecs(policy.codecs)
        if family is not CodecFamily.H264
        for rung in _family_ladder(rungs, family, policy, source)
    ]
    audio_rates = sorted({r.audio_bitrate_kbps for r in rungs if r.audio_bitrate_kbps})
    audio = _audio_renditions(audio_rates, probe)
    return Ladder(
        policy=policy.name,
        rungs=rungs,
        audio=audio,
        segment_seconds=seg,
        gop_seconds=gop_s,
        frame_rate=fraction_str(source.fps),
        deinterlace=video.scan_type == "interlaced",
        tone_map=video.hdr_transfer,
        source_display=(source.width, source.height),
        left_out=policy.left_out,
    )


def _segment_timing(policy: LadderPolicy, segment_seconds: float | None) -> tuple[float, float]:
    """(segment, GOP) seconds: a policy's own GOP holds only with its own segment duration."""
    seg = float(segment_seconds if segment_seconds is not None else policy.segment_seconds)
    if not 0.5 <= seg <= 30:
        raise MediaError("request.invalid", f"segment duration {seg}s is not in 0.5..30 s")
    gop_s = policy.gop_seconds if policy.gop_seconds and segment_seconds is None else None
    return seg, gop_s or gop_seconds_for(seg)


def _audio_only_ladder(
    probe: ProbeResult, policy: LadderPolicy, seg: float, gop_s: float
) -> Ladder:
    audio = _audio_renditions(sorted({t.audio_bitrate_kbps for t in policy.rungs}), probe)
    if not audio:
        raise MediaError("ladder.empty", "the source has neither video nor audio to encode")
    return Ladder(
        policy=policy.name,
        rungs=[],
        audio=audio,
        segment_seconds=seg,
        gop_seconds=gop_s,
        frame_rate=None,
    )


@dataclass(frozen=True)
class _SourceFacts:
    """What every rung takes from the source: its display size rounded to even, its exact
    aspect (each rung's sample aspect ratio restores what the rounding lost), the output frame
    rate, the GOP in frames, and whether there is sound to pair with the rung."""

    width: int
    height: int
    aspect: Fraction
    fps: Fraction
    gop_frames: int
    with_audio: bool

    @property
    def portrait(self) -> bool:
        return self.height > self.width


def _source_facts(
    probe: ProbeResult, video: VideoStreamInfo, policy: LadderPolicy, gop_s: float
) -> _SourceFacts:
    fps = output_frame_rate(video, policy.max_frame_rate)
    disp_w, disp_h = video.display_size
    return _SourceFacts(
        width=_even(disp_w),
        height=_even(disp_h),
        aspect=Fraction(max(1, disp_w), max(1, disp_h)),
        fps=fps,
        gop_frames=max(1, round(float(fps) * gop_s)),
        with_audio=bool(probe.primary_audio),
    )


def _fit_sizes(source: _SourceFacts, policy: LadderPolicy) -> list[tuple[int, int, RungTemplate]]:
    """Each template's box turned to the source's orientation and filled at its aspect ratio,
    smallest box first; boxes well above the source are left out, but the first of them
    gives a rung at the source's size when the boxes that fit would lose much of it."""
    src_long, src_short = max(source.width, source.height), min(source.width, source.height)
    planned: list[tuple[int, int, RungTemplate]] = []
    above: RungTemplate | None = None
    for template in sorted(policy.rungs, key=lambda t: (t.width * t.height, t.bitrate_kbps)):
        box_long, box_short = (
            max(template.width, template.height),
            min(template.width, template.height),
        )
        scale = min(box_long / src_long, box_short / src_short)
        if scale > policy.upscale_tolerance:
            above = above or template  # the box is well above the source: it would upscale
            continue
        scale = min(scale, 1.0)
        long_side, short_side = _even(src_long * scale), _even(src_short * scale)
        width, height = (short_side, long_side) if source.portrait else (long_side, short_side)
        planned.append((width, height, template))
    # a sliver of a picture (a 4000x16 banner shrunk into a 416x234 box) is no rung
    planned = [p for p in planned if min(p[0], p[1]) >= MIN_RUNG_SIDE] or planned[-1:]
    if not planned:
        # Smaller than every box (a 176x144 phone clip): one rung at source size.
        smallest = min(policy.rungs, key=lambda t: t.width * t.height)
        planned.append((source.width, source.height, smallest))
    elif above is not None and _loses_source(planned[-1], source, policy.source_rung_share):
        planned.append((source.width, source.height, above))
    return planned


def _loses_source(top: tuple[int, int, RungTemplate], source: _SourceFacts, share: float) -> bool:
    """The top rung shows less than `share` of the source's pixels."""
    return top[0] * top[1] < share * source.width * source.height


def _rates(
    width: int, height: int, template: RungTemplate, policy: LadderPolicy
) -> tuple[int | None, int, int | None]:
    """(target, maxrate, crf) of a rung: a picture smaller than its template's box gets its
    bitrates scaled down with its pixels, to no less than half."""
    ratio = (width * height) / float(template.width * template.height)
    factor = min(1.0, max(0.5, ratio))
    if policy.rate_control is RateControl.VBR:
        target = max(32, round(template.bitrate_kbps * factor))
        maxrate = round(
            (template.max_bitrate_kbps or template.bitrate_kbps * policy.maxrate_factor) * factor
        )
        crf = None
    else:
        target = None
        maxrate = max(32, round((template.max_bitrate_kbps or template.bitrate_kbps) * factor))
        crf = template.crf if template.crf is not None else quality_to_crf(template.quality or 7)
    return target, max(maxrate, target or 0), crf


def _rung(
    width: int,
    height: int,
    template: RungTemplate,
    policy: LadderPolicy,
    source: _SourceFacts,
    family: CodecFamily = CodecFamily.H264,
) -> Rung:
    target, maxrate, crf = _rates(width, height, template, policy)
    crf = min(crf, CRF_MAX[family]) if crf is not None else None
    buffer = round(maxrate * policy.buffer_factor)
    level = h264_level(width, height, float(source.fps), maxrate, template.profile, buffer)
    with_audio = source.with_audio
    return Rung(
        name=f"{height if not source.portrait else width}p-{target or maxrate}k",
        width=width,
        height=height,
        profile=template.profile,
        level=level,
        rate_control=policy.rate_control,
        bitrate_kbps=target,
        max_bitrate_kbps=maxrate,
        buffer_kbits=buffer,
        crf=crf,
        sample_aspect_ratio=_sar(source.aspect, width, height),
        frame_rate=fraction_str(source.fps),
        gop_frames=source.gop_frames,
        audio_bitrate_kbps=template.audio_bitrate_kbps if with_audio else None,
        audio_group=audio_group_id(template.audio_bitrate_kbps) if with_audio else None,
    )


def _slow_small_rungs(rungs: list[Rung], steps: int) -> list[Rung]:
    """Rungs of at most half the top rung's pixels get `steps` slower presets."""
    if not steps or not rungs:
        return rungs
    top = max(r.pixels for r in rungs)
    return [
        r.model_copy(update={"preset_steps": steps}) if r.pixels * 2 <= top else r for r in rungs
    ]


def _family_ladder(
    h264: list[Rung], family: CodecFamily, policy: LadderPolicy, source: _SourceFacts
) -> list[Rung]:
    """A codec family's rungs: its own templates when the policy has them (the auto ladder
    picked them from that codec's hull), else the H.264 rungs scaled by its efficiency."""
    templates = policy.family_rungs.get(family)
    if not templates:
        return _family_rungs(h264, family)
    own = policy.model_copy(update={"rungs": templates})
    rungs = [
        _as_family(_rung(w, h, t, own, source, family), family)
        for w, h, t in _fit_sizes(source, own)
    ]
    return _drop_duplicates(rungs, policy.dedup_ratio)


def _as_family(rung: Rung, family: CodecFamily) -> Rung:
    """An H.264-shaped rung as one of `family`: its name, sample entry and the encoder's own
    level choice (the H.264 level table does not apply)."""
    return rung.model_copy(
        update={
            "name": f"{family}-{rung.name}",
            "codec": family,
            "profile": "main",
            "level": "auto",
            "preset_steps": 0,
        }
    )


def _family_rungs(h264: list[Rung], family: CodecFamily) -> list[Rung]:
    """A codec family's rungs without its own analysis: the H.264 rungs' sizes, frame rate,
    GOP and audio, at rates scaled by the family's efficiency (its CRF mapped to its
    encoder's scale)."""
    factor = EFFICIENCY[family]
    out: list[Rung] = []
    for rung in h264:
        target = max(32, round(rung.bitrate_kbps * factor)) if rung.bitrate_kbps else None
        maxrate = max(target or 32, round(rung.max_bitrate_kbps * factor))
        scaled = _as_family(rung, family).model_copy(
            update={
                "name": f"{family}-{rung.name.rsplit('-', 1)[0]}-{target or maxrate}k",
                "bitrate_kbps": target,
                "max_bitrate_kbps": maxrate,
                "buffer_kbits": max(1, round(rung.buffer_kbits * factor)),
                "crf": family_crf(family, rung.crf) if rung.crf is not None else None,
            }
        )
        # the 32 kb/s floor can make two small rungs equal: keep the ladder rising
        if out and _nominal(scaled) <= _nominal(out[-1]):
            continue
        out.append(scaled)
    return out


def _sar(aspect: Fraction, width: int, height: int) -> str:
    """The sample aspect ratio that makes width x height display at exactly `aspect`: even
    rounding leaves each rung a hair off the source, and DASH players (and FFmpeg's DASH
    muxer) need one aspect ratio across an adaptation set."""
    sar = aspect * Fraction(height, width)
    sar = sar.limit_denominator(10000) if sar.denominator > 10000 else sar
    return f"{sar.numerator}:{sar.denominator}"


def _nominal(rung: Rung) -> int:
    return rung.bitrate_kbps or rung.max_bitrate_kbps


def _drop_duplicates(rungs: list[Rung], dedup_ratio: float) -> list[Rung]:
    """Keep a ladder that rises in both size and bitrate; a rung of the same size as the one
    below it and within `dedup_ratio` of its bitrate (or the same CRF) adds nothing."""
    ordered = sorted(rungs, key=lambda r: (r.pixels, _nominal(r)))
    kept: list[Rung] = []
    for rung in ordered:
        if kept:
            below = kept[-1]
            same_size = (rung.width, rung.height) == (below.width, below.height)
            if same_size and (
                _nominal(rung) < _nominal(below) * dedup_ratio
                or (rung.crf is not None and rung.crf == below.crf)
            ):
                kept[-1] = rung if _nominal(rung) > _nominal(below) else below
                continue
            if _nominal(rung) <= _nominal(below):
                continue  # bigger picture for fewer bits: worse than the rung below
        kept.append(rung)
    return kept


def _audio_renditions(bitrates: list[int], probe: ProbeResult) -> list[AudioRendition]:
    """One AAC rendition per bitrate (an HLS audio group each) for the primary audio; a
    source with several audio streams gets them all, each stream at every bitrate, the
    primary stream first (the default track)."""
    source = probe.primary_audio
    if source is None:
        return []
    streams = [source] + [s for s in probe.audio if s.index != source.index]
    several = len(streams) > 1
    out = []
    for stream in streams:
        channels = max(1, min(stream.channels or 2, 2))
        sample_rate = stream.sample_rate if stream.sample_rate in (44100, 48000) else 48000
        for kbps in bitrates:
            # Mono needs about half the bits of stereo for the same quality.
            effective = kbps if channels == 2 else max(32, kbps // 2)
            out.append(
                AudioRendition(
                    group_id=audio_group_id(kbps),
                    bitrate_kbps=effective,
                    channels=channels,
                    sample_rate=sample_rate,
                    source_index=stream.index if several else None,
                    language=(stream.language or "und") if several else None,
                )
            )
    return out
