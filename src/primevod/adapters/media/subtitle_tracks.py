"""Subtitles into the package: the source's text subtitle streams and the sidecar files are
converted to WebVTT by FFmpeg (mov_text, SubRip, ASS, WebVTT in; WebVTT out), read back as
cues, and written as HLS WebVTT segments on the video's segment grid plus one whole file
for DASH (packager.finalize places them in the manifests).

Sidecars are checked (`check_sidecars`) before any encode: a bad one is the user's error
(`source.subtitles_invalid`), never a crash. An embedded stream FFmpeg cannot convert, or a
bitmap one (DVD, PGS), is skipped with a note: the title still plays."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from primevod.adapters.media.ffmpeg_binary import ffmpeg_exe
from primevod.core.errors import MediaError
from primevod.core.hls import parse_media_playlist
from primevod.core.labels import clean_label
from primevod.core.language import bcp47
from primevod.core.outputs import SubtitleOutput
from primevod.core.probe import ProbeResult
from primevod.core.subtitles import (
    MAX_SUBTITLE_TRACKS,
    SUBTITLE_DIR,
    TEXT_SUBTITLE_CODECS,
    Cue,
    SidecarSubtitle,
    SubtitleError,
    SubtitleTrack,
    check_name,
    check_sidecar,
    check_total,
    language_tag,
    parse_cues,
    render_vtt,
    segment_bounds,
    segment_vtt,
    subtitle_playlist,
    track_folder,
)

CONVERT_TIMEOUT = 300  # seconds for one FFmpeg subtitle conversion
WHOLE_FILE = "full.vtt"
PLAYLIST = "index.m3u8"


@dataclass
class SubtitleSet:
    """The WebVTT tracks of a title, ready to be segmented, and what was left out."""

    tracks: list[tuple[SubtitleTrack, list[Cue]]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def check_sidecars(sidecars: Sequence[SidecarSubtitle]) -> None:
    """Every sidecar readable, within the limits and parseable; MediaError
    `source.subtitles_invalid` naming the file and line otherwise."""
    if len(sidecars) > MAX_SUBTITLE_TRACKS:
        raise MediaError(
            "source.subtitles_invalid", f"at most {MAX_SUBTITLE_TRACKS} subtitle files per title"
        )
    sizes = []
    for sidecar in sidecars:
        path = Path(sidecar.path)
        try:
            language_tag(sidecar.language)
            check_name(sidecar.name, language_tag(sidecar.language))
            data = path.read_bytes()
            check_sidecar(data)
        except OSError as exc:
            raise MediaError(
                "source.subtitles_invalid", f"{path.name}: cannot read ({exc.strerror})"
            ) from None
        except ValueError as exc:  # SubtitleError is one
            raise MediaError("source.subtitles_invalid", f"{path.name}: {exc}") from None
        sizes.append(len(data))
    try:
        check_total(sizes)
    except ValueError as exc:
        raise MediaError("source.subtitles_invalid", str(exc)) from None


def collect(
    source: Path | None,
    probe: ProbeResult,
    sidecars: Sequence[SidecarSubtitle],
    scratch: Path,
    cancel: threading.Event | None = None,
) -> SubtitleSet:
    """The embedded text streams of `source` (in stream order; none without a source),
    then the sidecars, as WebVTT cues."""
    found = SubtitleSet()
    scratch.mkdir(parents=True, exist_ok=True)
    for n, stream in enumerate(probe.subtitles if source is not None else []):
        label = f"subtitle stream {stream.index} ({stream.codec})"
        if stream.codec not in TEXT_SUBTITLE_CODECS:
            found.skipped.append(f"{label}: bitmap subtitles are not converted to WebVTT")
            continue
        target = scratch / f"embedded-{n}.vtt"
        try:
            _to_webvtt(["-i", f"file:{source.absolute()}", "-map", f"0:{stream.index}"], target)
            cues = parse_cues(target.read_text(encoding="utf-8"))
        except (MediaError, SubtitleError, UnicodeDecodeError) as exc:
            found.skipped.append(f"{label}: {exc}")
            continue
        if not cues:
            found.skipped.append(f"{label}: no cue")
            continue
        # the source's metadata is untrusted: a whole tag or `und`, a title of one clean line
        language = bcp47(stream.language) or "und"
        name = clean_label(stream.title) or language
        found.tracks.append((SubtitleTrack(language=language, name=name, origin="embedded"), cues))
        _check_cancel(cancel)
    for n, sidecar in enumerate(sidecars):
        language = language_tag(sidecar.language)
        target = scratch / f"sidecar-{n}.vtt"
        path = Path(sidecar.path)
        try:
            check_sidecar(path.read_bytes())
            _to_webvtt(_sidecar_input(path), target)
            cues = parse_cues(target.read_text(encoding="utf-8"))
        except (OSError, SubtitleError, UnicodeDecodeError) as exc:
            raise MediaError("source.subtitles_invalid", f"{path.name}: {exc}") from None
        except MediaError as exc:
            raise MediaError("source.subtitles_invalid", f"{path.name}: {exc.message}") from None
        track = SubtitleTrack(
            language=language, name=check_name(sidecar.name, language), origin="sidecar"
        )
        found.tracks.append((track, cues))
        _check_cancel(cancel)
    return found


def _sidecar_input(path: Path) -> list[str]:
    """A sidecar as FFmpeg input: its format named (WebVTT by its header, else SubRip), so
    FFmpeg never guesses a demuxer for untrusted text."""
    head = path.read_bytes()[:16].lstrip(b"\xef\xbb\xbf")
    fmt = "webvtt" if head.startswith(b"WEBVTT") else "srt"
    return ["-f", fmt, "-i", f"file:{path.absolute()}"]


def _to_webvtt(input_args: list[str], target: Path) -> None:
    cmd = [
        ffmpeg_exe(),
        "-hide_banner",
        "-nostdin",
        "-y",
        "-loglevel",
        "error",
        "-protocol_whitelist",
        "file",
        *input_args,
        "-c:s",
        "webvtt",
        "-f",
        "webvtt",
        str(target),
    ]
    try:
        run = subprocess.run(cmd, capture_output=True, timeout=CONVERT_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise MediaError("encode.failed", "the subtitle conversion took too long") from None
    if run.returncode != 0 or not target.is_file():
        reason = run.stderr.decode("utf-8", "replace").strip().splitlines()
        raise MediaError(
            "encode.failed", f"FFmpeg could not convert to WebVTT ({reason[-1] if reason else ''})"
        )


def _check_cancel(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise MediaError("encode.cancelled", "cancelled on request")


def write_renditions(
    workdir: Path, grid_playlist: str | None, duration: float, found: SubtitleSet
) -> list[SubtitleOutput]:
    """Each track as `subs/track-<n>/index.m3u8` with one WebVTT segment per video segment
    (the grid of `grid_playlist`; one segment for the title without video) and
    `subs/track-<n>/full.vtt` (folders by number only: core/subtitles.track_folder)."""
    if not found.tracks:
        return []
    durations = [duration or 1.0]
    if grid_playlist is not None:
        segments = parse_media_playlist((workdir / grid_playlist).read_text()).segments
        durations = [s.duration for s in segments] or durations
    bounds = segment_bounds(durations)
    outputs = []
    for number, (track, cues) in enumerate(found.tracks, start=1):
        folder = track_folder(number)
        base = workdir / SUBTITLE_DIR / folder
        base.mkdir(parents=True, exist_ok=True)
        uris = []
        for n, (start, end) in enumerate(bounds, start=1):
            uri = f"seg_{n:05d}.vtt"
            (base / uri).write_text(segment_vtt(cues, start, end), encoding="utf-8")
            uris.append(uri)
        (base / PLAYLIST).write_text(subtitle_playlist(uris, durations))
        (base / WHOLE_FILE).write_text(render_vtt(cues), encoding="utf-8")
        outputs.append(
            SubtitleOutput(
                language=track.language,
                name=track.name,
                origin=track.origin,
                playlist=f"{SUBTITLE_DIR}/{folder}/{PLAYLIST}",
                vtt=f"{SUBTITLE_DIR}/{folder}/{WHOLE_FILE}",
                cues=len(cues),
            )
        )
    return outputs
