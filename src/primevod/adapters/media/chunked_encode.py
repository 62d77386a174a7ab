"""Split-and-stitch, the chunk encode: one FFmpeg run decodes one chunk of the title and
encodes it to every rung of the ladder, video only, one fragmented MP4 per rung.

Frame accuracy. The full encode (ffmpeg_command.build_command) turns the source into the
output frame grid with the `fps` filter, whose choice of source frame for a grid point
depends on the frames around it (a 120 fps source halved, a variable frame rate). So a
chunk is not cut from the source but from that grid: the input is seeked half a second
before the chunk (`-ss` before `-i`: to the keyframe before, then decoded up to that
point), with the title's own timestamps kept (`-copyts -start_at_zero`, the offset the
full encode applies), run through the same deinterlacer and `fps` filter, and only then
trimmed to its output frames [first, end) (`trim` on the frame grid, `setpts` to start
the chunk at 0). The chunks' frames are therefore exactly the full encode's frames.

Each rung, of every codec family, gets the full encode's scale/setsar/format branch and
encoder options (the same phase functions: x264, libx265 or libsvtav1 with the family's
fixed GOP and no scene-cut key frames), keyframes forced at every segment start of the
chunk's own clock on top of the fixed GOP, and closed GOPs (chunk_encoder_args: a forced
frame is an IDR or AV1 key frame). In quality mode the H.264 rungs take two passes, the
others one, as in the full encode. Why fragmented MP4 and not a raw stream: it keeps each
frame's timestamps (B-frame reordering included, with an edit list so the chunk's first
frame is shown at 0) and frame rate, so the concat demuxer joins chunks with exact
continuous timestamps; it carries the decoder configuration (avcC, hvcC, av1C) that
stitching compares across chunks; and it is written as it is encoded (a fragment per GOP),
readable up to where a dead worker stopped. A raw stream would need timestamps regenerated
from a frame rate given again, and puts each chunk's parameter sets in band."""

from __future__ import annotations

import threading
import time
from fractions import Fraction
from pathlib import Path

import av
import av.error

from primevod.adapters.media.chunked_thumbs import (
    chunk_share,
    chunk_thumbnail_graph,
    chunk_thumbnail_outputs,
)
from primevod.adapters.media.ffmpeg_binary import ffmpeg_exe
from primevod.adapters.media.ffmpeg_command import (
    EncodeOptions,
    input_args,
    rung_scale,
    source_filters,
    video_args,
)
from primevod.adapters.media.ffmpeg_runner import run_ffmpeg
from primevod.core.chunks import Chunk, ChunkEncode, frame_span, plan_chunks, segment_frames
from primevod.core.codec_families import CodecFamily
from primevod.core.errors import MediaError
from primevod.core.ladder import Ladder, RateControl, Rung
from primevod.core.probe import ProbeResult, VideoStreamInfo
from primevod.core.progress import ProgressCallback
from primevod.core.thumbnails import ThumbnailPlan

# decoded before a chunk (and after it): what the fps filter and the deinterlacer look at
# around the chunk's first and last frames
MARGIN_SECONDS = 0.5
# each chunk's rung files: fragmented MP4, a fragment per GOP, the moov written with the
# first fragment (so it holds the edit list that starts presentation at 0)
CHUNK_MOVFLAGS = "+frag_keyframe+empty_moov+default_base_moof+delay_moov"


def output_frame_rate(ladder: Ladder) -> Fraction:
    if not ladder.rungs or not ladder.frame_rate:
        raise MediaError("request.invalid", "a chunked encode needs a ladder with video rungs")
    return Fraction(ladder.frame_rate)


def exact_segment_seconds(ladder: Ladder) -> float:
    """The length of a packaged segment in seconds: whole GOPs of whole frames (2.002 s of
    30000/1001 fps for a 2 s segment)."""
    fps = output_frame_rate(ladder)
    return float(segment_frames(fps, ladder.segment_seconds, ladder.rungs[0].gop_frames) / fps)


def plan_title_chunks(
    source: Path, probe: ProbeResult, ladder: Ladder, chunk_seconds: float
) -> list[Chunk]:
    """The chunks of a title on its exact segment grid, over the video's duration. Refuses
    a source whose video starts later than the file (an audio/video offset): the chunks'
    frame grid counts from the file's start, the single encode's from the first frame."""
    video = _chunkable_video(probe)
    fps = output_frame_rate(ladder)
    offset = video_start_offset(source, video.index)
    if abs(offset) * fps >= Fraction(1, 2):
        raise MediaError(
            "request.invalid",
            f"the video starts {offset:.3f}s after the file: encode this title in one pass",
        )
    duration = video.duration or probe.duration or 0.0
    return plan_chunks(duration, exact_segment_seconds(ladder), chunk_seconds)


def video_start_offset(source: Path, index: int) -> float:
    """Seconds from the file's start (its earliest stream) to the video stream's start."""
    try:
        with av.open(
            f"file:{Path(source).absolute()}", options={"protocol_whitelist": "file"}
        ) as c:
            stream = c.streams[index]
            if c.start_time is None or stream.start_time is None:
                return 0.0
            return float(stream.start_time * stream.time_base) - c.start_time / 1_000_000
    except (av.error.FFmpegError, IndexError) as exc:
        raise MediaError("source.unreadable", f"cannot read {source}: {exc}") from None


def chunk_decode_args(
    ffmpeg: str,
    source: Path,
    probe: ProbeResult,
    ladder: Ladder,
    chunk: Chunk,
    options: EncodeOptions,
    thumbs: ThumbnailPlan | None = None,
) -> list[str]:
    """The input (seeked, limited) and the filter graph of one chunk: `[v0]`, `[v1]`, ... are
    its frames at each rung's size, timestamps from 0; with `thumbs` also the chunk's
    thumbnails (chunked_thumbs)."""
    video = _chunkable_video(probe)
    fps = output_frame_rate(ladder)
    first, end = frame_span(chunk, fps)
    seek = max(Fraction(0), first / fps - Fraction(MARGIN_SECONDS))
    seek = Fraction(int(seek * fps), 1) / fps  # on the grid: exactly where fps may start
    window: list[str] = ["-copyts", "-start_at_zero"]
    if seek > 0:
        window += ["-ss", f"{float(seek):.6f}"]
    if end is not None:
        window += ["-t", f"{float(end / fps - seek) + MARGIN_SECONDS:.6f}"]
    cmd = input_args(ffmpeg, source, options)
    at = cmd.index("-i")
    cmd[at:at] = window

    # start_time: a grid point; frames missing right after the seek point (a variable
    # frame rate gap) are padded there, so the chunk's frame count still holds
    start = f":start_time={float(seek):.6f}" if seek else ""
    steps = [source_filters(ladder.deinterlace, ladder.tone_map, ladder.frame_rate, start)]
    steps.append(f"trim=start_pts={first}" + (f":end_pts={end}" if end is not None else ""))
    steps.append(f"setpts=PTS-{first}")
    n = len(ladder.rungs)
    extra: list[str] = []
    branches = n
    if thumbs is not None:  # a branch for the thumbnails and one for the poster, if here
        start, picks, poster = chunk_share(chunk, thumbs, fps, first)
        extra = chunk_thumbnail_graph(thumbs, n, start, fps, picks=picks, poster=poster)
        branches += int(picks) + int(poster)
    graph = [
        f"[0:{video.index}]{','.join(steps)},split={branches}"
        + "".join(f"[s{i}]" for i in range(branches)),
        *(rung_scale(i, rung) for i, rung in enumerate(ladder.rungs)),
        *extra,
    ]
    return [*cmd, "-filter_complex", ";".join(graph)]


def chunk_file(out_dir: Path, chunk: Chunk, rung_index: int) -> Path:
    return out_dir / f"chunk-{chunk.index:05d}-v{rung_index}.mp4"


def force_keyframes_expr(ladder: Ladder) -> str:
    """A keyframe at every segment start of the chunk's clock (half a frame early, so float
    rounding of a frame's time cannot push it to the next frame)."""
    fps = output_frame_rate(ladder)
    segment = exact_segment_seconds(ladder)
    return f"expr:gte(t,n_forced*{segment:.9g}-{float(1 / fps) / 2:.9g})"


def chunk_encoder_args(rung: Rung, keyframes: str) -> list[str]:
    """What a chunk's output stream 0 adds to the single encode's encoder options (by
    family) so that its chunks join: keyframes forced at `keyframes` (force_keyframes_expr),
    as key frames that start a closed GOP (x264 makes a forced frame an IDR, libx265 only
    with `forced-idr`, else a plain I frame that no segment can start with; SVT-AV1 makes
    it a key frame); and for x264 `stitchable`, headers that do not depend on the content
    (without it a second pass writes each chunk's PPS with the initial QP its own
    statistics suggest, and the chunks' avcC differ)."""
    args = ["-force_key_frames:v:0", keyframes]
    if rung.codec is CodecFamily.HEVC:
        args += ["-forced-idr:v:0", "1"]
    if rung.codec is CodecFamily.H264:
        args += ["-x264-params:v:0", "stitchable=1"]
    return args


def needs_two_passes(ladder: Ladder, options: EncodeOptions) -> bool:
    """Quality mode with VBR H.264 rungs: x264's two passes (the other families' encoders
    take one)."""
    return options.mode == "quality" and any(
        r.rate_control is RateControl.VBR for r in ladder.family_rungs(CodecFamily.H264)
    )


def chunk_command(
    ffmpeg: str,
    source: Path,
    probe: ProbeResult,
    ladder: Ladder,
    chunk: Chunk,
    out_dir: Path,
    options: EncodeOptions,
    *,
    pass_number: int | None = None,
    thumbs: ThumbnailPlan | None = None,
) -> list[str]:
    """The chunk's one FFmpeg run: an output per rung of every family (with `pass_number`
    1, x264's first pass of the H.264 rungs alone, to the null muxer; the statistics go
    beside `out_dir`), and with `thumbs` the chunk's thumbnails into
    `thumbnail_dir(out_dir, chunk)`."""
    if pass_number == 1:
        # x264 alone takes two passes (FFmpeg's libx265 and libsvtav1 take no -pass): the
        # first pass encodes the H.264 rungs, which come first, so their indexes hold
        ladder = ladder.model_copy(update={"rungs": ladder.family_rungs(CodecFamily.H264)})
        thumbs = None
    cmd = chunk_decode_args(ffmpeg, source, probe, ladder, chunk, options, thumbs)
    keyframes = force_keyframes_expr(ladder)
    for i, rung in enumerate(ladder.rungs):
        path = chunk_file(out_dir, chunk, i)
        cmd += ["-map", f"[v{i}]", "-map_metadata", "-1", "-map_chapters", "-1"]
        # stream index 0 of this output; the pass log is named after the output file
        cmd += video_args(
            0, rung, options, path.with_suffix(""), pass_number, encoders=len(ladder.rungs)
        )
        cmd += chunk_encoder_args(rung, keyframes)
        if pass_number == 1:
            cmd += ["-f", "null", "-"]
        else:
            cmd += ["-f", "mp4", "-movflags", CHUNK_MOVFLAGS, str(path)]
    if thumbs is not None:
        fps = output_frame_rate(ladder)
        first, _ = frame_span(chunk, fps)
        folder = thumbnail_dir(out_dir, chunk)
        folder.mkdir(parents=True, exist_ok=True)
        start, picks, poster = chunk_share(chunk, thumbs, fps, first)
        cmd += chunk_thumbnail_outputs(folder, thumbs, start, fps, picks=picks, poster=poster)
    return cmd


def thumbnail_dir(out_dir: Path, chunk: Chunk) -> Path:
    return out_dir / f"thumbs-{chunk.index:05d}"


def encode_chunk(
    source: Path,
    probe: ProbeResult,
    ladder: Ladder,
    chunk: Chunk,
    out_dir: Path,
    options: EncodeOptions,
    *,
    thumbs: ThumbnailPlan | None = None,
    on_progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> ChunkEncode:
    """Encode one chunk to every rung (two FFmpeg runs in quality mode with VBR H.264
    rungs: the first pass, then the second), with `thumbs` its thumbnails too, and check
    the frames: a chunk other than the last holds exactly its span of the frame grid."""
    started = time.monotonic()
    source, out_dir = Path(source), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    fps = output_frame_rate(ladder)
    first, end = frame_span(chunk, fps)
    length = float((end - first) / fps) if end is not None else chunk.duration
    two_pass = needs_two_passes(ladder, options)
    cpu = 0.0
    try:
        if two_pass:
            first_pass = chunk_command(
                ffmpeg_exe(), source, probe, ladder, chunk, out_dir, options, pass_number=1
            )
            cpu += run_ffmpeg(first_pass, duration=length, frame_rate=float(fps), cancel=cancel)
        cmd = chunk_command(
            ffmpeg_exe(),
            source,
            probe,
            ladder,
            chunk,
            out_dir,
            options,
            pass_number=2 if two_pass else None,
            thumbs=thumbs,
        )
        cpu += run_ffmpeg(
            cmd, duration=length, frame_rate=float(fps), on_progress=on_progress, cancel=cancel
        )
    finally:
        for i in range(len(ladder.rungs)):
            stem = chunk_file(out_dir, chunk, i).with_suffix("")
            for log in out_dir.glob(f"{stem.name}.pass-*"):
                log.unlink(missing_ok=True)
    files = [chunk_file(out_dir, chunk, i) for i in range(len(ladder.rungs))]
    frames = [count_frames(f) for f in files]
    _check_frames(chunk, frames, None if end is None else end - first)
    seconds = round(time.monotonic() - started, 3)
    folder = thumbnail_dir(out_dir, chunk) if thumbs is not None else None
    return ChunkEncode(
        chunk=chunk,
        files=[str(f) for f in files],
        frames=frames,
        seconds=seconds,
        cpu_seconds=round(cpu, 3),
        thumb_dir=str(folder) if folder is not None else None,
    )


def count_frames(path: Path) -> int:
    """Video frames in a file, from its packets (no decoding)."""
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            return sum(1 for packet in container.demux(stream) if packet.size)
    except (av.error.FFmpegError, IndexError) as exc:
        raise MediaError("encode.failed", f"unreadable chunk {Path(path).name}: {exc}") from None


def _check_frames(chunk: Chunk, frames: list[int], expected: int | None) -> None:
    """Fewer frames than the chunk spans: the source cannot be decoded there (a permanent
    source error, as the single encode's `source.truncated`); any other count: the encode
    went wrong."""
    span = f"chunk {chunk.index} ({chunk.start:.3f}-{chunk.end:.3f}s)"
    short = [n for n in frames if (n < expected if expected is not None else n <= 0)]
    if short:
        want = f"{expected}" if expected is not None else "any"
        raise MediaError(
            "source.truncated",
            f"{span} decoded to {min(short)} of {want} frames: the source is truncated or "
            "undecodable there",
        )
    if expected is not None and any(n != expected for n in frames):
        raise MediaError(
            "encode.failed", f"{span} encoded {frames} frames per rung, expected {expected}"
        )


def _chunkable_video(probe: ProbeResult) -> VideoStreamInfo:
    """The video stream a chunked encode splits; a title without one has nothing to cut
    (its audio is encoded once, never in chunks). Every codec family chunks alike."""
    video = probe.primary_video
    if video is None:
        raise MediaError(
            "request.invalid",
            "a chunked encode cuts the video: this title has no video stream, encode it "
            "in one pass",
        )
    return video
