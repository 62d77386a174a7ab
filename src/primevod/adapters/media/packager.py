"""After FFmpeg: measure every rendition, rewrite the HLS playlists and the MPD bandwidths
from measured figures, write the subtitle renditions, the I-frame playlists, the master
playlist and the WebVTT storyboard."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from primevod.adapters.media.ffmpeg_command import (
    MANIFEST,
    MASTER,
    POSTER,
    THUMB_DIR,
)
from primevod.adapters.media.iframe_playlists import write_iframe_playlist
from primevod.adapters.media.subtitle_tracks import SubtitleSet, write_renditions
from primevod.core.codec_strings import video_codec_string
from primevod.core.dash import TextSet, add_text_sets, prefer_first_audio
from primevod.core.dash import fold_last_segment as fold_timeline_tail
from primevod.core.errors import MediaError
from primevod.core.fmp4 import join_segments
from primevod.core.hls import (
    AudioMedia,
    IFrameVariant,
    Segment,
    SubtitleMedia,
    Variant,
    has_runt_tail,
    measure_bitrates,
    parse_media_playlist,
    render_master,
    rewrite_media_playlist,
)
from primevod.core.hls import (
    fold_last_segment as fold_playlist_tail,
)
from primevod.core.ladder import Ladder
from primevod.core.language import bcp47
from primevod.core.outputs import RenditionOutput, SubtitleOutput, VariantOutput
from primevod.core.probe import ProbeResult
from primevod.core.subtitles import SUBTITLE_GROUP
from primevod.core.thumbnails import ThumbnailPlan, storyboard_vtt

STORYBOARD = "storyboard.vtt"


@dataclass
class Tracks:
    """What the package holds beside its video and audio renditions."""

    subtitles: list[SubtitleOutput] = field(default_factory=list)
    iframe_playlists: list[str] = field(default_factory=list)


def _representations(mpd_text: str) -> dict[str, dict[str, str]]:
    root = ET.fromstring(mpd_text)
    reps: dict[str, dict[str, str]] = {}
    for aset in root.iter("{urn:mpeg:dash:schema:mpd:2011}AdaptationSet"):
        for rep in aset.iter("{urn:mpeg:dash:schema:mpd:2011}Representation"):
            info = dict(aset.attrib)
            info.update(rep.attrib)
            reps[rep.attrib["id"]] = info
    return reps


def _rate(text: str | None) -> float | None:
    if not text:
        return None
    num, _, den = text.partition("/")
    try:
        return float(num) / float(den or 1)
    except (ValueError, ZeroDivisionError):
        return None


def finalize(
    workdir: Path,
    ladder: Ladder,
    probe: ProbeResult,
    thumbs: ThumbnailPlan | None,
    subtitles: SubtitleSet | None = None,
) -> tuple[list[RenditionOutput], list[VariantOutput], Tracks]:
    mpd_path = workdir / MANIFEST
    mpd_text = _manifest_text(mpd_path)
    reps = _representations(mpd_text)
    expected = len(ladder.rungs) + len(ladder.audio)
    if len(reps) != expected:
        raise MediaError(
            "encode.failed", f"expected {expected} representations, the MPD has {len(reps)}"
        )
    renditions: list[RenditionOutput] = []
    longest = 0.0
    for index in range(expected):
        rendition, mpd_text, rendition_longest = _measured_rendition(
            workdir, ladder, index, reps, mpd_text
        )
        renditions.append(rendition)
        longest = max(longest, rendition_longest)
    tracks, iframes = _write_tracks(workdir, renditions, probe, subtitles)
    variants = _write_master(workdir, renditions, probe, tracks.subtitles, iframes)
    _rewrite_mpd_bandwidth(
        mpd_path, mpd_text, {r.representation_id: r for r in renditions}, longest
    )
    if tracks.subtitles:
        _add_text_sets(mpd_path, tracks.subtitles, probe.duration or 0.0)
    if thumbs is not None:
        _write_storyboard(workdir, thumbs, probe.duration or 0.0)
    return renditions, variants, tracks


def _manifest_text(mpd_path: Path) -> str:
    if not mpd_path.is_file():
        raise MediaError("encode.failed", "FFmpeg wrote no DASH manifest")
    return mpd_path.read_text()


def _measured_rendition(
    workdir: Path, ladder: Ladder, index: int, reps: dict[str, dict[str, str]], mpd_text: str
) -> tuple[RenditionOutput, str, float]:
    """Representation `index` with a runt tail folded, its media playlist rewritten and its
    rates measured; the record, the MPD text after the fold, and its longest segment."""
    rep_id = str(index)
    playlist = f"media_{rep_id}.m3u8"
    text, mpd_text = _fold_runt_tail(
        workdir, rep_id, (workdir / playlist).read_text(), mpd_text, ladder.segment_seconds
    )
    info = parse_media_playlist(text)
    segments = [
        Segment(uri=s.uri, duration=s.duration, size=(workdir / s.uri).stat().st_size)
        for s in info.segments
    ]
    if not segments:
        raise MediaError("encode.failed", f"rendition {rep_id} has no segments")
    longest = max(seg.duration for seg in segments)
    (workdir / playlist).write_text(rewrite_media_playlist(text))
    measured = _Measured(
        *measure_bitrates(segments),
        segments=len(segments),
        size=sum(s.size or 0 for s in segments)
        + ((workdir / info.map_uri).stat().st_size if info.map_uri else 0),
    )
    init = (workdir / info.map_uri).read_bytes() if info.map_uri else b""
    init_codec = video_codec_string(init) if init else None
    rendition = _rendition(
        ladder, index, reps[rep_id], playlist, info.map_uri, measured, init_codec
    )
    return rendition, mpd_text, longest


def _write_tracks(
    workdir: Path,
    renditions: list[RenditionOutput],
    probe: ProbeResult,
    subtitles: SubtitleSet | None,
) -> tuple[Tracks, list[IFrameVariant]]:
    """The subtitle renditions (timed against the first video rendition) and an I-frame
    playlist per video rendition."""
    video = [r for r in renditions if r.kind == "video"]
    tracks = Tracks(
        subtitles=write_renditions(
            workdir,
            video[0].playlist if video else None,
            probe.duration or 0.0,
            subtitles or SubtitleSet(),
        )
    )
    iframes = [v for v in (write_iframe_playlist(workdir, r) for r in video) if v is not None]
    tracks.iframe_playlists = [v.uri for v in iframes]
    return tracks, iframes


def _write_storyboard(workdir: Path, thumbs: ThumbnailPlan, duration: float) -> None:
    """The WebVTT storyboard over the thumbnails FFmpeg wrote, which must include a poster."""
    count = len(list((workdir / THUMB_DIR).glob("thumb_*.jpg")))
    (workdir / THUMB_DIR / STORYBOARD).write_text(storyboard_vtt(thumbs, count, duration))
    if not (workdir / THUMB_DIR / POSTER).is_file():
        raise MediaError("encode.failed", "FFmpeg wrote no poster image")


def _fold_runt_tail(
    workdir: Path, rep_id: str, playlist_text: str, mpd_text: str, segment_seconds: float
) -> tuple[str, str]:
    """A last segment shorter than half a segment (an audio tail a few ms past the video,
    the last frames of a title) is appended to the segment before it, in the files, the
    media playlist and the MPD timeline, so no player fetches a runt."""
    segments = parse_media_playlist(playlist_text).segments
    if not has_runt_tail(segments, segment_seconds):
        return playlist_text, mpd_text
    previous, last = workdir / segments[-2].uri, workdir / segments[-1].uri
    joined = previous.with_name(previous.name + ".joined")
    joined.write_bytes(join_segments(previous.read_bytes(), last.read_bytes()))
    joined.replace(previous)
    last.unlink()
    return fold_playlist_tail(playlist_text), fold_timeline_tail(mpd_text, rep_id)


@dataclass
class _Measured:
    average: int
    peak: int
    segments: int
    size: int


def _rendition(
    ladder: Ladder,
    index: int,
    rep: dict[str, str],
    playlist: str,
    init_segment: str | None,
    measured: _Measured,
    init_codec: str | None = None,
) -> RenditionOutput:
    """The rendition record of representation `index`: a video rung, then the audio. A
    video rung's codec string is the one its init segment's configuration record gives."""
    common = {
        "representation_id": str(index),
        "playlist": playlist,
        "init_segment": init_segment,
        "average_bitrate": measured.average,
        "peak_bitrate": measured.peak,
        "segments": measured.segments,
        "bytes": measured.size,
    }
    if index < len(ladder.rungs):
        rung = ladder.rungs[index]
        return RenditionOutput(
            kind="video",
            name=rung.name,
            codecs=init_codec or rep.get("codecs", "avc1"),
            family=rung.codec,
            width=int(rep.get("width", rung.width)),
            height=int(rep.get("height", rung.height)),
            frame_rate=_rate(rep.get("frameRate")) or _rate(ladder.frame_rate),
            audio_group=rung.audio_group,
            target_bitrate=(rung.bitrate_kbps or rung.max_bitrate_kbps) * 1000,
            **common,
        )
    audio = ladder.audio[index - len(ladder.rungs)]
    return RenditionOutput(
        kind="audio",
        name=audio.group_id,
        codecs=rep.get("codecs", "mp4a.40.2"),
        channels=audio.channels,
        audio_group=audio.group_id,
        language=(bcp47(audio.language) or "und") if audio.language else None,
        target_bitrate=audio.bitrate_kbps * 1000,
        **common,
    )


def _audio_media(groups: dict[str, list[RenditionOutput]], probe: ProbeResult) -> list[AudioMedia]:
    """An EXT-X-MEDIA per audio rendition: one per language in every group (the first the
    default), or as before one per group when the source has a single audio track."""
    primary = bcp47(probe.primary_audio.language) if probe.primary_audio else None
    media = []
    for group, members in groups.items():
        names: set[str] = set()
        for n, r in enumerate(members):
            if r.language is None:  # a single audio track: today's labels
                name, language = f"Audio {r.channels}ch", primary
            else:
                name = r.language if r.language != "und" else f"Audio {n + 1}"
                name = name if name not in names else f"{name} {n + 1}"
                language = r.language
            names.add(name)
            media.append(
                AudioMedia(
                    group_id=group,
                    name=name,
                    uri=r.playlist,
                    channels=r.channels or 2,
                    language=language,
                    default=n == 0,
                )
            )
    return media


def _subtitle_media(subtitles: Sequence[SubtitleOutput]) -> list[SubtitleMedia]:
    names: set[str] = set()
    media = []
    for n, sub in enumerate(subtitles):
        name = sub.name if sub.name not in names else f"{sub.name} {n + 1}"
        names.add(name)
        media.append(
            SubtitleMedia(
                group_id=SUBTITLE_GROUP, name=name, uri=sub.playlist, language=sub.language
            )
        )
    return media


def _write_master(
    workdir: Path,
    renditions: list[RenditionOutput],
    probe: ProbeResult,
    subtitles: Sequence[SubtitleOutput] = (),
    iframes: Sequence[IFrameVariant] = (),
) -> list[VariantOutput]:
    groups: dict[str, list[RenditionOutput]] = {}
    for r in renditions:
        if r.kind == "audio":
            groups.setdefault(r.audio_group or r.name, []).append(r)
    video = [r for r in renditions if r.kind == "video"]
    if video:
        media = _audio_media(groups, probe)
        subtitle_media = _subtitle_media(subtitles)
        variants = _video_variants(video, groups, bool(subtitle_media))
        text = render_master(variants, media, subtitle_media, iframes)
    else:  # audio-only title: each audio rendition is a variant of its own
        variants = _audio_only_variants(renditions)
        text = render_master(variants, [])
    (workdir / MASTER).write_text(text)
    return [_variant_output(v) for v in sorted(variants, key=lambda v: v.bandwidth)]


def _video_variants(
    video: list[RenditionOutput], groups: dict[str, list[RenditionOutput]], subtitles: bool
) -> list[Variant]:
    """A variant per video rendition, with its audio group's rates and codec added."""
    # a variant's rates count its group's default rendition, the one players start with
    audio = {group: members[0] for group, members in groups.items()}
    variants: list[Variant] = []
    for r in video:
        a = audio.get(r.audio_group) if r.audio_group else None
        variants.append(
            Variant(
                uri=r.playlist,
                bandwidth=r.peak_bitrate + (a.peak_bitrate if a else 0),
                average_bandwidth=r.average_bitrate + (a.average_bitrate if a else 0),
                codecs=r.codecs + (f",{a.codecs}" if a else ""),
                resolution=(r.width or 0, r.height or 0),
                frame_rate=r.frame_rate,
                audio_group=r.audio_group if a else None,
                subtitles_group=SUBTITLE_GROUP if subtitles else None,
            )
        )
    return variants


def _audio_only_variants(renditions: list[RenditionOutput]) -> list[Variant]:
    return [
        Variant(
            uri=r.playlist,
            bandwidth=r.peak_bitrate,
            average_bandwidth=r.average_bitrate,
            codecs=r.codecs,
        )
        for r in renditions
        if r.kind == "audio"
    ]


def _variant_output(v: Variant) -> VariantOutput:
    return VariantOutput(
        playlist=v.uri,
        bandwidth=v.bandwidth,
        average_bandwidth=v.average_bandwidth,
        codecs=v.codecs,
        resolution=f"{v.resolution[0]}x{v.resolution[1]}" if v.resolution else None,
        audio_group=v.audio_group,
    )


_REP_TAG = re.compile(r"<Representation\b[^>]*>")


def _rewrite_mpd_bandwidth(
    mpd_path: Path, mpd_text: str, by_id: dict[str, RenditionOutput], longest_segment: float
) -> None:
    """Declare the measured peak as each Representation's @bandwidth, the measured longest
    segment as @maxSegmentDuration, and no bitstream switching (each representation has its
    own init segment, and rungs may differ in profile). The layout is kept."""

    def fix(match: re.Match[str]) -> str:
        tag = match.group(0)
        rep_id = re.search(r'\bid="([^"]+)"', tag)
        rendition = by_id.get(rep_id.group(1)) if rep_id else None
        if rendition is None:
            return tag
        tag = re.sub(r'\bbandwidth="\d+"', f'bandwidth="{rendition.peak_bitrate}"', tag)
        # the same RFC 6381 string as the HLS CODECS: the one the init segment gives
        return re.sub(r'\bcodecs="[^"]*"', f'codecs="{rendition.codecs}"', tag)

    text = _REP_TAG.sub(fix, mpd_text)
    text = re.sub(
        r'maxSegmentDuration="[^"]*"',
        f'maxSegmentDuration="PT{longest_segment:.3f}S"',
        text,
        count=1,
    )
    text = text.replace('bitstreamSwitching="true"', 'bitstreamSwitching="false"')
    # DASH @lang is RFC 5646 like HLS LANGUAGE ("fr", not the container's "fre")
    text = re.sub(r'\blang="([^"]*)"', lambda m: f'lang="{bcp47(m.group(1)) or "und"}"', text)
    text = prefer_first_audio(text)  # several languages: the source's default first
    mpd_path.write_text(text)


def _add_text_sets(mpd_path: Path, subtitles: Sequence[SubtitleOutput], duration: float) -> None:
    """A DASH text AdaptationSet per subtitle track: its whole WebVTT file, the bandwidth
    that file over the title's duration."""
    sets = [
        TextSet(
            representation_id=f"text_{PurePosixPath(sub.vtt).parent.name}",
            language=sub.language,
            label=sub.name,
            url=sub.vtt,
            bandwidth=max(
                1, round((mpd_path.parent / sub.vtt).stat().st_size * 8 / max(duration, 1.0))
            ),
        )
        for sub in subtitles
    ]
    mpd_path.write_text(add_text_sets(mpd_path.read_text(), sets))
