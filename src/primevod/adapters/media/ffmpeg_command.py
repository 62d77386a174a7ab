"""The one FFmpeg command: decode once, split to every rung, thumbnails and poster, CMAF
segments with both an HLS and a DASH manifest."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from primevod.core.codec_families import AV1_PRESET, CodecFamily, av1_preset_for
from primevod.core.ladder import AudioRendition, Ladder, RateControl, Rung
from primevod.core.probe import AudioStreamInfo, ProbeResult
from primevod.core.thumbnails import ThumbnailPlan


class EncodeOptions(BaseModel):
    preset: str = "veryfast"
    threads: int = 0  # 0: FFmpeg decides
    thumbnails: bool = True
    mode: Literal["fast", "quality"] = Field(
        "fast",
        description="quality: x264 preset at least `quality_preset`, and two passes for VBR "
        "rungs (capped-CRF rungs are single-pass by nature)",
    )
    quality_preset: str = "slow"
    av1_preset: int = Field(
        AV1_PRESET,
        ge=1,
        le=13,
        description="SVT-AV1 preset of the av1 family's rungs of 720p's pixels and more "
        "(higher: faster); smaller rungs encode one preset slower (core/codec_families.py "
        "says why)",
    )

    def av1_preset_for(self, rung: Rung) -> int:
        """The rung's SVT-AV1 preset: `av1_preset`, one slower under 720p's pixels."""
        return av1_preset_for(rung.pixels, self.av1_preset)

    @property
    def effective_preset(self) -> str:
        if self.mode != "quality" or self.preset not in PRESETS:
            return self.preset
        slower = max(PRESETS.index(self.preset), PRESETS.index(self.quality_preset))
        return PRESETS[slower]


PRESETS = [
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
]


# the slowest preset a small rung is moved to: `slower` measured worse than `slow` on the
# noisy benchmark title (432p rungs lost 0.6-1.3 VMAF for 1-4 % more bits, docs/quality.md)
SMALL_RUNG_PRESET_LIMIT = "slow"


def slower_preset(preset: str, steps: int) -> str:
    """The x264 preset `steps` slower than `preset`, but not past `slow` (a preset already
    slower than that, or an unknown name, is kept)."""
    if steps <= 0 or preset not in PRESETS:
        return preset
    limit = PRESETS.index(SMALL_RUNG_PRESET_LIMIT)
    here = PRESETS.index(preset)
    return PRESETS[max(here, min(limit, here + steps))]


MANIFEST = "manifest.mpd"
MASTER = "master.m3u8"
THUMB_DIR = "thumbs"
THUMB_PATTERN = "thumb_%05d.jpg"
SPRITE_PATTERN = "sprite_%03d.jpg"
POSTER = "poster.jpg"


def audio_trim_seconds(
    probe: ProbeResult, segment_seconds: float, audio: AudioStreamInfo | None = None
) -> float | None:
    """The video's duration when the audio stream (the primary one by default) outlasts it
    by less than half a segment (encoder padding, a muxer's rounding): the audio is cut there
    so both end together. A longer audio tail is content (credits over a held frame) and is
    kept."""
    video, audio = probe.primary_video, audio or probe.primary_audio
    if video is None or audio is None or not audio.duration:
        return None
    length = video.duration
    if not length and video.frame_count and video.frame_rate:
        length = video.frame_count / video.frame_rate
    if not length or not 0 < audio.duration - length < segment_seconds / 2:
        return None
    return length


def build_command(
    ffmpeg: str,
    source: Path,
    probe: ProbeResult,
    ladder: Ladder,
    workdir: Path,
    options: EncodeOptions,
    thumbs: ThumbnailPlan | None,
    *,
    pass_number: int | None = None,
) -> list[str]:
    """The whole encode; with `pass_number` 1 or 2, VBR rungs run that pass of a two-pass
    encode (pass 1 writes only the rate statistics, to the null muxer, beside `workdir`)."""
    if pass_number == 1:
        # x264 alone takes two passes: libx265 and libsvtav1 take no -pass in FFmpeg, so the
        # other families run once, in pass 2 (H.264 rungs come first: same output indexes)
        rungs = ladder.family_rungs(CodecFamily.H264)
        ladder = ladder.model_copy(update={"audio": [], "rungs": rungs})
        thumbs = None
    cmd = input_args(ffmpeg, source, options)
    graph: list[str] = []
    maps: list[str] = []
    trailing: list[str] = []
    video = probe.primary_video
    if ladder.rungs and video is not None:
        graph += _video_graph(video.index, ladder, thumbs)
        maps += [arg for i in range(len(ladder.rungs)) for arg in ("-map", f"[v{i}]")]
        if thumbs:
            # after the DASH output: FFmpeg gives each output file the -map options written
            # before its own path
            trailing += thumbnail_outputs(workdir / THUMB_DIR)
    audio_graph, audio_maps = audio_graph_and_maps(probe, ladder)
    graph += audio_graph
    maps += audio_maps
    if graph:
        cmd += ["-filter_complex", ";".join(graph)]

    cmd += maps
    cmd += ["-map_metadata", "-1", "-map_chapters", "-1"]
    for i, rung in enumerate(ladder.rungs):
        cmd += video_args(i, rung, options, workdir, pass_number, encoders=len(ladder.rungs))
    audio = probe.primary_audio
    language = audio.language if audio is not None else None
    for j, rendition in enumerate(ladder.audio):
        cmd += aac_args(j, rendition, language)

    if pass_number == 1:
        return [*cmd, "-f", "null", "-"]
    return cmd + dash_muxer_args(ladder, workdir) + trailing


def input_args(ffmpeg: str, source: Path, options: EncodeOptions) -> list[str]:
    cmd = [
        ffmpeg,
        "-hide_banner",
        "-nostdin",
        "-y",
        "-loglevel",
        "error",
        "-progress",
        "pipe:1",
        "-nostats",
        "-stats_period",
        "0.5",
    ]
    if options.threads:
        cmd += ["-threads", str(options.threads)]
    return [*cmd, "-protocol_whitelist", "file", "-i", f"file:{source.absolute()}"]


def _video_graph(index: int, ladder: Ladder, thumbs: ThumbnailPlan | None) -> list[str]:
    """Decode once, then one branch per rung (`[v0]`, `[v1]`, ...) and, with thumbnails, two
    more for the thumbnails and sprites (`[thumbs]`, `[sprite]`) and the poster (`[poster]`)."""
    branches = len(ladder.rungs) + (2 if thumbs else 0)
    pre = source_filters(ladder.deinterlace, ladder.tone_map, ladder.frame_rate)
    graph = [f"[0:{index}]{pre},split={branches}" + "".join(f"[s{i}]" for i in range(branches))]
    graph += [rung_scale(i, rung) for i, rung in enumerate(ladder.rungs)]
    if thumbs:
        graph += thumbnail_graph(thumbs, len(ladder.rungs))
    return graph


def source_filters(
    deinterlace: bool, tone_map: str | None, frame_rate: str, fps_options: str = ""
) -> str:
    """What every picture of the source goes through before the rungs' scales, in the
    encode, its chunks, the analysis probes and the VMAF reference alike: the deinterlacer,
    an HDR source's tone map to SDR, then the output frame rate (`fps_options`: more of
    the `fps` filter's options, such as a chunk's start time)."""
    steps = ["bwdif=mode=send_frame:parity=auto:deint=all"] if deinterlace else []
    if tone_map:
        steps.append(tone_map_filter(tone_map))
    steps.append(f"fps={frame_rate}{fps_options}")
    return ",".join(steps)


def tone_map_filter(transfer: str) -> str:
    """HDR (PQ or HLG, BT.2020) to SDR BT.709: linear light with SDR's white at 100 nits,
    BT.709 primaries, Mobius's curve (linear up to 0.3, then the highlights compressed),
    then BT.709's transfer and matrix in limited range. Every player shows SDR BT.709 right;
    8-bit HDR would band. Mobius, not the usual Hable: Hable darkened the picture a fifth
    (benchmarks/tone_map_curves.py, docs/media.md)."""
    return (
        f"zscale=tin={transfer}:pin=bt2020:min=bt2020nc:t=linear:npl=100,format=gbrpf32le,"
        "zscale=p=bt709,tonemap=tonemap=mobius:desat=0,"
        "zscale=t=bt709:m=bt709:r=tv,format=yuv420p"
    )


def rung_scale(i: int, rung: Rung) -> str:
    return (
        f"[s{i}]scale={rung.width}:{rung.height}:flags=bicubic,"
        f"setsar=r={rung.sample_aspect_ratio.replace(':', '/')}:max=100000,"
        f"format=yuv420p[v{i}]"
    )


def thumbnail_graph(thumbs: ThumbnailPlan, first_branch: int) -> list[str]:
    t, p = first_branch, first_branch + 1
    return [
        f"[s{t}]select='gte(t\\,selected_n*{thumbs.interval:g})',split=2[ta][tb];"
        f"[ta]scale={thumbs.thumb_width}:{thumbs.thumb_height},setsar=1,"
        f"format=yuvj420p[thumbs];"
        # tiles in limited-range 4:2:0, converted once the sprite is whole: the steps the
        # sprites of a chunked encode take (chunked_thumbs), so both give the same pictures
        f"[tb]scale={thumbs.tile_width}:{thumbs.tile_height},setsar=1,format=yuv420p,"
        f"tile={thumbs.columns}x{thumbs.rows},format=yuvj420p[sprite]",
        # every half second up to the poster time, each overwriting the last: the
        # file ends as the frame at that time, and a title shorter than it (or a
        # single still picture) still gets its first frame
        f"[s{p}]select='lte(t\\,{thumbs.poster_time:.3f})"
        f"*gte(t\\,selected_n*0.5)',"
        f"scale={thumbs.poster_width}:{thumbs.poster_height},setsar=1,"
        f"format=yuvj420p[poster]",
    ]


def thumbnail_outputs(tdir: Path) -> list[str]:
    return [
        *_jpeg_output("[thumbs]", "4", tdir / THUMB_PATTERN),
        *_jpeg_output("[sprite]", "5", tdir / SPRITE_PATTERN),
        *_jpeg_output("[poster]", "3", tdir / POSTER, single_file=True),
    ]


def _jpeg_output(label: str, quality: str, path: Path, *, single_file: bool = False) -> list[str]:
    args = ["-map", label, "-fps_mode", "passthrough", "-c:v", "mjpeg", "-q:v", quality]
    args += ["-f", "image2"]
    if single_file:
        args += ["-update", "1"]
    return [*args, str(path)]


def audio_graph_and_maps(probe: ProbeResult, ladder: Ladder) -> tuple[list[str], list[str]]:
    """The filter graph entries and `-map` arguments for one AAC rendition each (`[a<j>]`
    in ladder order), each from its own source stream (several languages) or the primary."""
    primary = probe.primary_audio
    if primary is None or not ladder.audio:
        return [], []
    streams = {s.index: s for s in probe.audio}
    by_stream: dict[int, list[int]] = {}
    for j, rendition in enumerate(ladder.audio):
        index = rendition.source_index if rendition.source_index in streams else primary.index
        by_stream.setdefault(index, []).append(j)
    graph: list[str] = []
    maps: list[str] = []
    trimmed: set[int] = set()
    for index, renditions in by_stream.items():
        trim = (
            audio_trim_seconds(probe, ladder.segment_seconds, streams[index])
            if ladder.rungs
            else None
        )
        if trim is not None:
            # the audio ends with the video (a few ms of tail would make a runt last segment)
            outputs = "".join(f"[a{j}]" for j in renditions)
            graph.append(f"[0:{index}]atrim=duration={trim:.6f},asplit={len(renditions)}{outputs}")
            trimmed.update(renditions)
    for j, rendition in enumerate(ladder.audio):
        index = rendition.source_index if rendition.source_index in streams else primary.index
        maps += ["-map", f"[a{j}]" if j in trimmed else f"0:{index}"]
    return graph, maps


def video_args(
    i: int,
    rung: Rung,
    options: EncodeOptions,
    workdir: Path,
    pass_number: int | None,
    *,
    encoders: int = 1,
) -> list[str]:
    """Output stream `i`'s encoder options, by the rung's codec family; `encoders`: how many
    video encoders the FFmpeg run holds (they share the machine's cores)."""
    if rung.codec is CodecFamily.AV1:
        return svtav1_args(i, rung, options, encoders=encoders)
    if rung.codec is CodecFamily.HEVC:
        return x265_args(i, rung, options)
    return x264_args(i, rung, options, workdir, pass_number)


def x265_args(i: int, rung: Rung, options: EncodeOptions) -> list[str]:
    """libx265 with `hvc1` sample entries (parameter sets in the init segment only: what
    Apple players require), a closed GOP of exactly one segment's frames and no scene-cut
    keyframes, so every segment starts with an IDR on the grid the other families share."""
    params = (
        f"keyint={rung.gop_frames}:min-keyint={rung.gop_frames}:scenecut=0:open-gop=0"
        ":repeat-headers=0:log-level=error"
    )
    args = [
        f"-c:v:{i}",
        "libx265",
        f"-preset:v:{i}",
        options.effective_preset,  # x265 names its presets as x264 does
        f"-tag:v:{i}",
        "hvc1",
        f"-x265-params:v:{i}",
        params,
        f"-maxrate:v:{i}",
        f"{rung.max_bitrate_kbps}k",
        f"-bufsize:v:{i}",
        f"{rung.buffer_kbits}k",
    ]
    if rung.rate_control is RateControl.CAPPED_CRF:
        return [*args, f"-crf:v:{i}", str(rung.crf)]
    return [*args, f"-b:v:{i}", f"{rung.bitrate_kbps}k"]


def svtav1_args(i: int, rung: Rung, options: EncodeOptions, *, encoders: int = 1) -> list[str]:
    """libsvtav1: a key frame every segment (`-g`, SVT-AV1's intra period; its default
    intra refresh is a closed-GOP key frame), no scene-change key frames (scd=0) between.
    SVT-AV1 takes a maximum bitrate only with CRF: capped-CRF rungs are capped, VBR rungs
    are a target average alone."""
    args = [
        f"-c:v:{i}",
        "libsvtav1",
        f"-preset:v:{i}",
        str(options.av1_preset_for(rung)),
        f"-g:v:{i}",
        str(rung.gop_frames),
        f"-svtav1-params:v:{i}",
        "scd=0" + svt_parallelism(encoders),
    ]
    if rung.rate_control is RateControl.CAPPED_CRF:
        return [
            *args,
            f"-crf:v:{i}",
            str(rung.crf),
            f"-maxrate:v:{i}",
            f"{rung.max_bitrate_kbps}k",
            f"-bufsize:v:{i}",
            f"{rung.buffer_kbits}k",
        ]
    return [*args, f"-b:v:{i}", f"{rung.bitrate_kbps}k"]


def svt_parallelism(encoders: int, cores: int | None = None) -> str:
    """SVT-AV1's `lp` (the cores one encoder targets) for an FFmpeg run of `encoders` video
    encoders: each its share of the cores. By default every SVT-AV1 instance sizes its
    threads for the whole machine; with a dozen encoders in one run on 2 cores that cost 10 %
    more CPU on the noisy benchmark title (docs/quality.md). The bitstream is the same
    whatever `lp` is."""
    if encoders <= 1:
        return ""
    return f":lp={max(1, (cores or os.cpu_count() or 1) // encoders)}"


def x264_args(
    i: int, rung: Rung, options: EncodeOptions, workdir: Path, pass_number: int | None
) -> list[str]:
    args = [
        f"-c:v:{i}",
        "libx264",
        f"-preset:v:{i}",
        slower_preset(options.effective_preset, rung.preset_steps),
        f"-profile:v:{i}",
        rung.profile,
        f"-level:v:{i}",
        rung.level,
        f"-g:v:{i}",
        str(rung.gop_frames),
        f"-keyint_min:v:{i}",
        str(rung.gop_frames),
        f"-sc_threshold:v:{i}",
        "0",
        f"-maxrate:v:{i}",
        f"{rung.max_bitrate_kbps}k",
        f"-bufsize:v:{i}",
        f"{rung.buffer_kbits}k",
    ]
    if rung.rate_control is RateControl.CAPPED_CRF:
        return [*args, f"-crf:v:{i}", str(rung.crf)]
    args += [f"-b:v:{i}", f"{rung.bitrate_kbps}k"]
    if pass_number:
        log = workdir.parent / f"{workdir.name}.pass-{i}"
        args += [f"-pass:v:{i}", str(pass_number), f"-passlogfile:v:{i}", str(log)]
    return args


def aac_args(j: int, rendition: AudioRendition, language: str | None) -> list[str]:
    args = []
    language = rendition.language or language  # a source of several languages: each its own
    if language:  # the MPD's @lang comes from the stream's language tag
        args += [f"-metadata:s:a:{j}", f"language={language}"]
    args += [
        f"-c:a:{j}",
        "aac",
        f"-b:a:{j}",
        f"{rendition.bitrate_kbps}k",
        f"-ac:a:{j}",
        str(rendition.channels),
        f"-ar:a:{j}",
        str(rendition.sample_rate),
    ]
    return args


def dash_muxer_args(ladder: Ladder, workdir: Path) -> list[str]:
    sets = []
    # one video AdaptationSet per codec family: a DASH player switches rungs within a set,
    # never codecs mid-play (the rungs are mapped family by family, H.264 first)
    first = 0
    for family in ladder.families:
        count = len(ladder.family_rungs(family))
        streams = ",".join(str(n) for n in range(first, first + count))
        sets.append(f"id={len(sets)},streams={streams}")
        first += count
    if ladder.audio and any(a.language for a in ladder.audio):
        # one AdaptationSet per language (DASH players switch languages between sets)
        first = len(ladder.rungs)
        per_stream: dict[int | None, list[int]] = {}
        for j, rendition in enumerate(ladder.audio):
            per_stream.setdefault(rendition.source_index, []).append(first + j)
        for outputs in per_stream.values():
            sets.append(f"id={len(sets)},streams={','.join(map(str, outputs))}")
    elif ladder.audio:
        sets.append(f"id={len(sets)},streams=a")
    return [
        "-f",
        "dash",
        "-seg_duration",
        f"{ladder.segment_seconds:g}",
        "-use_template",
        "1",
        "-use_timeline",
        "1",
        "-dash_segment_type",
        "mp4",
        "-hls_playlist",
        "1",
        "-hls_master_name",
        MASTER,
        "-adaptation_sets",
        " ".join(sets),
        "-init_seg_name",
        "init-$RepresentationID$.m4s",
        "-media_seg_name",
        "chunk-$RepresentationID$-$Number%05d$.m4s",
        "-write_prft",
        "0",
        str(workdir / MANIFEST),
    ]
