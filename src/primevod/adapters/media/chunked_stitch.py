"""Split-and-stitch, the stitch: the title's audio encoded once (never in chunks: every AAC
encode starts with its own priming samples, so chunked audio would drift and click at each
join), then one copy-only FFmpeg run that joins each rung's chunks in order (the concat
demuxer, each chunk placed at the exact end of the ones before it) and packages them with
the audio renditions in the same `dash` muxer as the single encode (CMAF segments, HLS and
DASH manifests, the same segment duration and names); then the packager and the validator,
as MediaEngine.transcode runs them.

One init segment per rung serves every chunk because the chunks were encoded with the same
encoder settings, which give the same decoder configuration (x264's SPS/PPS in the avcC,
x265's VPS/SPS/PPS in the hvcC, SVT-AV1's sequence header in the av1C): that is checked
here (every chunk's sample entry and record against the first chunk's,
core/decoder_config), and a difference is an error rather than a package that breaks at a
join. The joined rung keeps the first chunk's record, so the CODECS the packager reads
from the stitched init segments describe every chunk.

The thumbnails, sprites and poster come from the chunk encodes (chunked_thumbs) and are
joined here. `encode_title_audio` is a job of its own, which a distributed run queues beside
the chunk encodes; `package_chunks` joins everything; `stitch` runs both on one machine."""

from __future__ import annotations

import shutil
import struct
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.error

from primevod.adapters.media.chunked_encode import output_frame_rate
from primevod.adapters.media.chunked_thumbs import join_thumbnails
from primevod.adapters.media.ffmpeg_binary import ffmpeg_exe
from primevod.adapters.media.ffmpeg_command import (
    MANIFEST,
    MASTER,
    POSTER,
    THUMB_DIR,
    EncodeOptions,
    aac_args,
    audio_graph_and_maps,
    dash_muxer_args,
    input_args,
)
from primevod.adapters.media.ffmpeg_runner import run_ffmpeg
from primevod.adapters.media.package_validator import validated_package
from primevod.adapters.media.packager import STORYBOARD, finalize
from primevod.adapters.media.subtitle_tracks import check_sidecars, collect
from primevod.core.decoder_config import BOX_HOLDS, config_box, decoding_part
from primevod.core.errors import MediaError
from primevod.core.fmp4 import video_sample_entry
from primevod.core.ladder import Ladder
from primevod.core.outputs import PackageResult
from primevod.core.probe import ProbeResult
from primevod.core.subtitles import SidecarSubtitle
from primevod.core.thumbnails import ThumbnailPlan

AUDIO_FILE = "title-audio.mp4"


@dataclass(frozen=True)
class ChunkFacts:
    """One chunk file of one rung as the stitch sees it."""

    path: Path
    frames: int
    entry: str  # the sample entry: avc1, hvc1, av01
    config: bytes  # its decoder configuration record (avcC, hvcC, av1C)


def encode_title_audio(
    source: Path,
    probe: ProbeResult,
    ladder: Ladder,
    audio_path: Path,
    options: EncodeOptions,
    *,
    cancel: threading.Event | None = None,
) -> Path | None:
    """Every AAC rendition of the whole title in one MP4 (a track per rendition, in ladder
    order, cut to the video's end as the single encode cuts it); None without audio. Only
    the audio is decoded."""
    graph, maps = audio_graph_and_maps(probe, ladder)
    if not ladder.audio or not maps:
        return None
    audio_path.parent.mkdir(parents=True, exist_ok=True)
    cmd = input_args(ffmpeg_exe(), Path(source), options)
    if graph:
        cmd += ["-filter_complex", ";".join(graph)]
    cmd += [*maps, "-map_metadata", "-1", "-map_chapters", "-1"]
    language = probe.primary_audio.language if probe.primary_audio else None
    for j, rendition in enumerate(ladder.audio):
        cmd += aac_args(j, rendition, language)
    run_ffmpeg([*cmd, "-f", "mp4", str(audio_path)], duration=probe.duration, cancel=cancel)
    return audio_path


def chunk_facts(path: Path) -> ChunkFacts:
    """A chunk's frame count (from its packets) and its sample entry with the decoder
    configuration record it was coded with (from its moov)."""
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            frames = sum(1 for packet in container.demux(stream) if packet.size)
        found = video_sample_entry(_movie_box(Path(path)))
    except (av.error.FFmpegError, IndexError, OSError) as exc:
        raise MediaError("encode.failed", f"unreadable chunk {Path(path).name}: {exc}") from None
    entry, boxes = found or ("", {})
    box = config_box(entry)
    return ChunkFacts(Path(path), frames, entry, boxes.get(box, b"") if box else b"")


def _movie_box(path: Path) -> bytes:
    """The file's moov box (a chunk file writes it before its first fragment); empty when
    there is none before the end or a box of unknown length."""
    with path.open("rb") as f:
        while len(header := f.read(8)) == 8:
            size, kind = struct.unpack(">I4s", header)
            wide = f.read(8) if size == 1 else b""  # a 64-bit size follows the type
            if wide:
                size = struct.unpack(">Q", wide)[0]
            head = len(header) + len(wide)
            if size < head:  # 0: the box runs to the end of the file
                break
            if kind == b"moov":
                return header + wide + f.read(size - head)
            f.seek(size - head, 1)
    return b""


def check_chunk_frames(rungs: Sequence[Sequence[ChunkFacts]]) -> None:
    """Every rung holds the same chunks: as many, with the same frames each (a chunk encode
    writes all rungs of its stretch of the title)."""
    counts = [[c.frames for c in chunks] for chunks in rungs]
    if any(frames != counts[0] for frames in counts[1:]):
        raise MediaError(
            "encode.failed",
            f"the rungs' chunks do not match: frames per chunk {counts}",
        )


def check_decoder_configs(rungs: Sequence[Sequence[ChunkFacts]]) -> None:
    """Every chunk of a rung was coded as its first chunk: the same sample entry and the
    same decoding part of its avcC, hvcC or av1C (core/decoder_config.decoding_part). The
    rung's one init segment holds the first chunk's record for them all."""
    for i, chunks in enumerate(rungs):
        if not chunks:
            raise MediaError("encode.failed", f"rung {i} has no chunks")
        first = chunks[0]
        box = config_box(first.entry)
        if box is None or not first.config:
            raise MediaError(
                "encode.failed",
                f"{first.path.name} carries no decoder configuration record "
                f"(sample entry {first.entry or 'none'})",
            )
        reference = decoding_part(first.entry, first.config)
        for chunk in chunks[1:]:
            if chunk.entry != first.entry:
                raise MediaError(
                    "encode.failed",
                    f"rung {i}: {chunk.path.name} is coded as {chunk.entry or 'nothing known'}, "
                    f"{first.path.name} as {first.entry}: one init segment cannot serve both",
                )
            mine = decoding_part(chunk.entry, chunk.config)
            if mine != reference:
                raise MediaError(
                    "encode.failed",
                    f"rung {i} ({first.entry}): {chunk.path.name} was coded with another "
                    f"{box} ({BOX_HOLDS[box]}) than {first.path.name} "
                    f"({_difference(mine, reference)}); one init segment cannot serve both",
                )


def _difference(mine: bytes, reference: bytes) -> str:
    """Where two records part: both in hex when short, else the first differing byte."""
    if max(len(mine), len(reference)) <= 48:
        return f"{mine.hex()} != {reference.hex()}"
    at = next(
        (n for n, (a, b) in enumerate(zip(mine, reference, strict=False)) if a != b),
        min(len(mine), len(reference)),
    )
    return f"{len(mine)} and {len(reference)} bytes, first different at byte {at}"


def concat_list(chunks: Sequence[ChunkFacts], fps: Fraction) -> str:
    """An ffconcat list: each chunk with its exact duration (its frames at the output rate),
    rounded to microseconds on the running total, so chunk n starts exactly at the end of
    chunk n-1 however many chunks there are."""
    lines = ["ffconcat version 1.0"]
    frames_before = 0
    for chunk in chunks:
        start_us = round(Fraction(frames_before) / fps * 1_000_000)
        end_us = round(Fraction(frames_before + chunk.frames) / fps * 1_000_000)
        quoted = str(chunk.path.absolute()).replace("'", "'\\''")
        lines += [f"file 'file:{quoted}'", f"duration {(end_us - start_us) / 1_000_000:.6f}"]
        frames_before += chunk.frames
    return "\n".join(lines) + "\n"


def package_command(
    ffmpeg: str,
    lists: Sequence[Path],
    audio: Path | None,
    probe: ProbeResult,
    ladder: Ladder,
    workdir: Path,
    options: EncodeOptions,
) -> list[str]:
    """The copy-only packaging run: the rungs' joined chunks and the title audio into the
    single encode's `dash` muxer."""
    cmd = [ffmpeg, "-hide_banner", "-nostdin", "-y", "-loglevel", "error"]
    cmd += ["-progress", "pipe:1", "-nostats", "-stats_period", "0.5"]
    if options.threads:
        cmd += ["-threads", str(options.threads)]
    for path in lists:
        cmd += ["-f", "concat", "-safe", "0", "-protocol_whitelist", "file", "-i", str(path)]
    if audio is not None:
        cmd += ["-protocol_whitelist", "file", "-i", f"file:{audio.absolute()}"]
    for i in range(len(lists)):
        cmd += ["-map", f"{i}:v:0"]
    for j in range(len(ladder.audio) if audio is not None else 0):
        cmd += ["-map", f"{len(lists)}:a:{j}"]
    # the inputs' own timestamps: the joined video starts at 0, and title audio that
    # starts later than the video keeps its offset (without -copyts FFmpeg would move
    # each input's start to 0, and such audio out of sync)
    cmd += ["-copyts", "-c", "copy", "-map_metadata", "-1", "-map_chapters", "-1"]
    language = probe.primary_audio.language if probe.primary_audio else None
    if audio is not None:  # the MPD's @lang comes from the stream's tag
        for j, rendition in enumerate(ladder.audio):
            if rendition.language or language:
                cmd += [f"-metadata:s:a:{j}", f"language={rendition.language or language}"]
    package_ladder = ladder if audio is not None else ladder.model_copy(update={"audio": []})
    return cmd + dash_muxer_args(package_ladder, workdir)


def stitch(
    chunks_per_rung: Sequence[Sequence[Path]],
    source: Path,
    probe: ProbeResult,
    ladder: Ladder,
    out_dir: Path,
    thumbs: ThumbnailPlan | None = None,
    *,
    thumb_dirs: Sequence[Path] = (),
    options: EncodeOptions | None = None,
    cancel: threading.Event | None = None,
) -> PackageResult:
    """The title's audio, then `package_chunks`: the whole stitch on one machine."""
    options = options or EncodeOptions()
    scratch = _sibling(Path(out_dir), "audio")
    try:
        audio = encode_title_audio(
            source, probe, ladder, scratch / AUDIO_FILE, options, cancel=cancel
        )
        return package_chunks(
            chunks_per_rung,
            audio,
            thumb_dirs,
            probe,
            ladder,
            out_dir,
            thumbs,
            options=options,
            cancel=cancel,
            source=source,
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def package_chunks(
    chunks_per_rung: Sequence[Sequence[Path]],
    audio: Path | None,
    thumb_dirs: Sequence[Path],
    probe: ProbeResult,
    ladder: Ladder,
    out_dir: Path,
    thumbs: ThumbnailPlan | None = None,
    *,
    options: EncodeOptions | None = None,
    cancel: threading.Event | None = None,
    source: Path | None = None,
    subtitles: Sequence[SidecarSubtitle] = (),
) -> PackageResult:
    """The package of a chunked encode in `out_dir` (which must not hold anything yet):
    `chunks_per_rung[i]` are rung i's chunk files in title order, `audio` the title's audio
    renditions, `thumb_dirs` the chunks' thumbnail folders in title order (with `thumbs`),
    and with `source` its text subtitles and the `subtitles` sidecars (as transcode).
    The result's `encode_seconds` are the packaging run's, not the chunk encodes'."""
    started = time.monotonic()
    options = options or EncodeOptions()
    out_dir = Path(out_dir)
    if len(chunks_per_rung) != len(ladder.rungs):
        raise MediaError(
            "request.invalid", f"{len(chunks_per_rung)} rungs of chunks for {len(ladder.rungs)}"
        )
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise MediaError("request.invalid", f"output directory {out_dir} is not empty")
    facts = [[chunk_facts(Path(p)) for p in paths] for paths in chunks_per_rung]
    check_decoder_configs(facts)
    check_chunk_frames(facts)
    workdir = _sibling(out_dir, "partial")
    scratch = _sibling(out_dir, "stitch")
    if not thumb_dirs:
        thumbs = None
    try:
        encode_seconds = _package_run(
            facts, audio, probe, ladder, workdir, scratch, options, cancel
        )
        if thumbs is not None:
            join_thumbnails(thumb_dirs, thumbs, workdir / THUMB_DIR, scratch)
        check_sidecars(subtitles)
        texts = collect(source, probe, subtitles, scratch / "subtitles", cancel)
        renditions, variants, tracks = finalize(workdir, ladder, probe, thumbs, texts)
        report = validated_package(workdir)
        _move_into_place(workdir, out_dir)
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    total_seconds = time.monotonic() - started
    duration = probe.duration or 0.0
    return PackageResult(
        output_dir=str(out_dir),
        master=MASTER,
        manifest=MANIFEST,
        duration=duration,
        ladder=ladder,
        renditions=renditions,
        variants=variants,
        **_thumbnail_files(out_dir, thumbs),
        subtitles=tracks.subtitles,
        iframe_playlists=tracks.iframe_playlists,
        skipped_subtitles=texts.skipped,
        total_bytes=sum(p.stat().st_size for p in out_dir.rglob("*") if p.is_file()),
        encode_seconds=round(encode_seconds, 3),
        total_seconds=round(total_seconds, 3),
        realtime_factor=round(duration / total_seconds, 3) if total_seconds else 0.0,
        validation=report,
    )


def _package_run(
    facts: Sequence[Sequence[ChunkFacts]],
    audio: Path | None,
    probe: ProbeResult,
    ladder: Ladder,
    workdir: Path,
    scratch: Path,
    options: EncodeOptions,
    cancel: threading.Event | None,
) -> float:
    """The copy-only FFmpeg run into `workdir`; its seconds."""
    started = time.monotonic()
    fps = output_frame_rate(ladder)
    lists = []
    for i, chunks in enumerate(facts):
        lists.append(scratch / f"rung-{i}.ffconcat")
        lists[-1].write_text(concat_list(chunks, fps))
    cmd = package_command(ffmpeg_exe(), lists, audio, probe, ladder, workdir, options)
    run_ffmpeg(cmd, duration=probe.duration, frame_rate=float(fps), cancel=cancel)
    return time.monotonic() - started


def _sibling(out_dir: Path, kind: str) -> Path:
    """A hidden folder beside `out_dir` (the same filesystem: the final move is a rename)."""
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        path = out_dir.parent / f".{out_dir.name}.{kind}-{uuid.uuid4().hex[:8]}"
        path.mkdir()
    except OSError as exc:
        raise MediaError(
            "request.invalid", f"cannot write to {out_dir.parent}: {exc.strerror}"
        ) from None
    return path


def _move_into_place(workdir: Path, out_dir: Path) -> None:
    if out_dir.exists():
        out_dir.rmdir()  # checked empty above
    workdir.rename(out_dir)


def _thumbnail_files(out_dir: Path, thumbs: ThumbnailPlan | None) -> dict[str, object]:
    thumb_dir = out_dir / THUMB_DIR
    if thumbs is None or not thumb_dir.is_dir():
        return {}
    return {
        "poster": f"{THUMB_DIR}/{POSTER}",
        "thumbnails": sorted(f"{THUMB_DIR}/{p.name}" for p in thumb_dir.glob("thumb_*.jpg")),
        "sprites": sorted(f"{THUMB_DIR}/{p.name}" for p in thumb_dir.glob("sprite_*.jpg")),
        "storyboard": f"{THUMB_DIR}/{STORYBOARD}",
    }
