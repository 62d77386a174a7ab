"""After FFmpeg: measure every rendition, rewrite the HLS playlists and the MPD bandwidths
from measured figures, write the master playlist and the WebVTT storyboard."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from primevod.adapters.media.ffmpeg_command import (
    MANIFEST,
    MASTER,
    POSTER,
    THUMB_DIR,
)
from primevod.core.dash import fold_last_segment as fold_timeline_tail
from primevod.core.errors import MediaError
from primevod.core.fmp4 import join_segments
from primevod.core.hls import (
    AudioMedia,
    Segment,
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
from primevod.core.outputs import RenditionOutput, VariantOutput
from primevod.core.probe import ProbeResult
from primevod.core.thumbnails import ThumbnailPlan, storyboard_vtt

STORYBOARD = "storyboard.vtt"


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
    workdir: Path, ladder: Ladder, probe: ProbeResult, thumbs: ThumbnailPlan | None
) -> tuple[list[RenditionOutput], list[VariantOutput]]:
    mpd_path = workdir / MANIFEST
    if not mpd_path.is_file():
        raise MediaError("encode.failed", "FFmpeg wrote no DASH manifest")
    mpd_text = mpd_path.read_text()
    reps = _representations(mpd_text)
    expected = len(ladder.rungs) + len(ladder.audio)
    if len(reps) != expected:
        raise MediaError(
            "encode.failed", f"expected {expected} representations, the MPD has {len(reps)}"
        )

    renditions: list[RenditionOutput] = []
    longest = 0.0
    for index in range(expected):
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
        longest = max(longest, max(seg.duration for seg in segments))
        (workdir / playlist).write_text(rewrite_media_playlist(text))
        measured = _Measured(
            *measure_bitrates(segments),
            segments=len(segments),
            size=sum(s.size or 0 for s in segments)
            + ((workdir / info.map_uri).stat().st_size if info.map_uri else 0),
        )
        renditions.append(_rendition(ladder, index, reps[rep_id], playlist, info.map_uri, measured))

    variants = _write_master(workdir, renditions, probe)
    _rewrite_mpd_bandwidth(
        mpd_path, mpd_text, {r.representation_id: r for r in renditions}, longest
    )
    if thumbs is not None:
        count = len(list((workdir / THUMB_DIR).glob("thumb_*.jpg")))
        duration = probe.duration or 0.0
        (workdir / THUMB_DIR / STORYBOARD).write_text(storyboard_vtt(thumbs, count, duration))
        if not (workdir / THUMB_DIR / POSTER).is_file():
            raise MediaError("encode.failed", "FFmpeg wrote no poster image")
    return renditions, variants


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
) -> RenditionOutput:
    """The rendition record of representation `index`: a video rung, then the audio."""
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
            codecs=rep.get("codecs", "avc1"),
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
        target_bitrate=audio.bitrate_kbps * 1000,
        **common,
    )


def _write_master(
    workdir: Path, renditions: list[RenditionOutput], probe: ProbeResult
) -> list[VariantOutput]:
    audio = {r.audio_group: r for r in renditions if r.kind == "audio"}
    language = bcp47(probe.primary_audio.language) if probe.primary_audio else None
    media = [
        AudioMedia(
            group_id=r.audio_group or r.name,
            name=f"Audio {r.channels}ch",
            uri=r.playlist,
            channels=r.channels or 2,
            language=language,
        )
        for r in audio.values()
    ]
    variants: list[Variant] = []
    video = [r for r in renditions if r.kind == "video"]
    if video:
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
                )
            )
        text = render_master(variants, media)
    else:  # audio-only title: each audio rendition is a variant of its own
        for r in audio.values():
            variants.append(
                Variant(
                    uri=r.playlist,
                    bandwidth=r.peak_bitrate,
                    average_bandwidth=r.average_bitrate,
                    codecs=r.codecs,
                )
            )
        text = render_master(variants, [])
    (workdir / MASTER).write_text(text)
    return [
        VariantOutput(
            playlist=v.uri,
            bandwidth=v.bandwidth,
            average_bandwidth=v.average_bandwidth,
            codecs=v.codecs,
            resolution=f"{v.resolution[0]}x{v.resolution[1]}" if v.resolution else None,
            audio_group=v.audio_group,
        )
        for v in sorted(variants, key=lambda v: v.bandwidth)
    ]


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
        return re.sub(r'\bbandwidth="\d+"', f'bandwidth="{rendition.peak_bitrate}"', tag)

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
    mpd_path.write_text(text)
