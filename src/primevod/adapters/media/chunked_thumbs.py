"""Split-and-stitch, the thumbnails: each chunk encode writes the thumbnails, sprite tiles
and poster that fall in its stretch of the title, from the frames it decodes anyway, and
the stitch joins them. A separate pass over the whole title would decode the video once
more on one worker: with many workers on a long title that pass, not the chunks, would set
the wall time.

The single encode (ffmpeg_command.thumbnail_graph) picks, on the output frame grid, the
first frame at or after every multiple of the interval (`gte(t, selected_n*I)`), tiles them
into sprites, and keeps as poster the last frame picked on a 0.5 s grid up to the poster
time. A chunk sees the title clock as `t + S` (S: its first frame's time) and picks the
same frames by counting the picks of the chunks before it (`k0` thumbnails, `m0` poster
candidates: the grid points at or before the previous chunk's last frame). Thumbnails are
numbered from `k0 + 1`, so the joined set has the single encode's names. Sprite tiles leave
the chunk as raw pictures (NUT), and the stitch tiles them in title order into the same
sprites. Only the chunk that holds the poster frame writes the poster; a chunk with no
thumbnail writes none (FFmpeg fails an output that receives no frame)."""

from __future__ import annotations

import math
import shutil
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

from primevod.adapters.media.ffmpeg_binary import ffmpeg_exe
from primevod.adapters.media.ffmpeg_command import POSTER, SPRITE_PATTERN, THUMB_PATTERN
from primevod.adapters.media.ffmpeg_runner import run_ffmpeg
from primevod.core.chunks import Chunk
from primevod.core.thumbnails import ThumbnailPlan

TILES = "tiles.nut"
POSTER_STEP = 0.5  # the single encode's poster candidates: every half second
LAST_CHUNK_MARGIN = Fraction(1)  # seconds before the last chunk's probed end
_EPSILON = 1e-9


def picks_before(start: Fraction, fps: Fraction, interval: float) -> int:
    """Grid points k*interval (k >= 0) at or before the frame just before `start`: how many
    picks the chunks before this one made."""
    if start <= 0:
        return 0
    return math.floor(float(start - 1 / fps) / interval + _EPSILON) + 1


def poster_frame(thumbs: ThumbnailPlan, fps: Fraction) -> Fraction:
    """The time of the single encode's poster frame on a title that lasts past the poster
    time: the first frame at or after the last half-second point whose first frame is
    still at or before the poster time."""
    m = math.floor(thumbs.poster_time / POSTER_STEP + _EPSILON)
    while m > 0:
        frame = Fraction(math.ceil(Fraction(m * POSTER_STEP) * fps - Fraction(_EPSILON)), 1) / fps
        if frame <= Fraction(thumbs.poster_time):
            return frame
        m -= 1
    return Fraction(0)


def holds_poster(chunk: Chunk, thumbs: ThumbnailPlan, fps: Fraction, first: int) -> bool:
    """Whether this chunk writes the poster: it holds the poster frame, or it is the last
    chunk and the frame lies beyond its start (a title shorter than the poster time)."""
    at = poster_frame(thumbs, fps)
    start = Fraction(first) / fps
    end = None if chunk.last else Fraction(round(chunk.end * fps)) / fps
    return start <= at and (end is None or at < end)


def holds_thumbnails(chunk: Chunk, thumbs: ThumbnailPlan, fps: Fraction, first: int) -> bool:
    """Whether a thumbnail falls in this chunk. The last chunk's end is the probed one, not
    a decoded one: a pick in its last second is given up (an output that receives no frame
    fails the FFmpeg run)."""
    start = Fraction(first) / fps
    end = Fraction(round(chunk.end * fps)) / fps
    if chunk.last:
        end -= LAST_CHUNK_MARGIN
    return picks_before(end, fps, thumbs.interval) > picks_before(start, fps, thumbs.interval)


def chunk_share(
    chunk: Chunk, thumbs: ThumbnailPlan, fps: Fraction, first: int
) -> tuple[Fraction, bool, bool]:
    """What of the title's thumbnails a chunk writes: its start on the title clock, whether
    any thumbnail falls in it, and whether it holds the poster."""
    start = Fraction(first) / fps
    return (
        start,
        holds_thumbnails(chunk, thumbs, fps, first),
        holds_poster(chunk, thumbs, fps, first),
    )


def chunk_thumbnail_graph(
    thumbs: ThumbnailPlan,
    first_branch: int,
    start: Fraction,
    fps: Fraction,
    *,
    picks: bool,
    poster: bool,
) -> list[str]:
    """The filter graph of a chunk's thumbnails (with `picks`: `[thumbs]` and `[tiles]`) and
    its poster (with `poster`: `[poster]`), from split branches `first_branch` on."""
    clock = f"t+{float(start):.9f}"
    graph, branch = [], first_branch
    if picks:
        k0 = picks_before(start, fps, thumbs.interval)
        graph.append(
            f"[s{branch}]select='gte({clock}\\,(selected_n+{k0})*{thumbs.interval:g})',"
            "split=2[ta][tb];"
            f"[ta]scale={thumbs.thumb_width}:{thumbs.thumb_height},setsar=1,"
            f"format=yuvj420p[thumbs];"
            f"[tb]scale={thumbs.tile_width}:{thumbs.tile_height},setsar=1,format=yuv420p[tiles]"
        )
        branch += 1
    if poster:
        m0 = picks_before(start, fps, POSTER_STEP)
        graph.append(
            f"[s{branch}]select='lte({clock}\\,{thumbs.poster_time:.3f})"
            f"*gte({clock}\\,(selected_n+{m0})*{POSTER_STEP:g})',"
            f"scale={thumbs.poster_width}:{thumbs.poster_height},setsar=1,"
            f"format=yuvj420p[poster]"
        )
    return graph


def chunk_thumbnail_outputs(
    thumb_dir: Path,
    thumbs: ThumbnailPlan,
    start: Fraction,
    fps: Fraction,
    *,
    picks: bool,
    poster: bool,
) -> list[str]:
    """The outputs for `chunk_thumbnail_graph`'s labels, into `thumb_dir`."""
    args: list[str] = []
    if picks:
        k0 = picks_before(start, fps, thumbs.interval)
        args += ["-map", "[thumbs]", "-fps_mode", "passthrough", "-c:v", "mjpeg", "-q:v", "4"]
        args += ["-f", "image2", "-start_number", str(k0 + 1), str(thumb_dir / THUMB_PATTERN)]
        # lossless and in the picture's own format: the sprites are tiled from these
        args += ["-map", "[tiles]", "-fps_mode", "passthrough", "-c:v", "rawvideo"]
        args += ["-f", "nut", str(thumb_dir / TILES)]
    if poster:
        args += ["-map", "[poster]", "-fps_mode", "passthrough", "-c:v", "mjpeg", "-q:v", "3"]
        args += ["-f", "image2", "-update", "1", str(thumb_dir / POSTER)]
    return args


def join_thumbnails(
    chunk_dirs: Sequence[Path], thumbs: ThumbnailPlan, target: Path, workdir: Path
) -> None:
    """The chunks' thumbnails and poster into `target`, and their tiles as the sprites."""
    target.mkdir(parents=True, exist_ok=True)
    tiles = [folder / TILES for folder in chunk_dirs if (folder / TILES).is_file()]
    for folder in chunk_dirs:
        for path in [*sorted(folder.glob("thumb_*.jpg")), folder / POSTER]:
            if path.is_file():
                shutil.copyfile(path, target / path.name)
    if tiles:
        _sprites(tiles, thumbs, target, workdir)


def _sprites(tiles: Sequence[Path], thumbs: ThumbnailPlan, target: Path, workdir: Path) -> None:
    listing = workdir / "tiles.ffconcat"
    lines = ["ffconcat version 1.0"]
    for path in tiles:
        quoted = str(path.absolute()).replace("'", "'\\''")
        lines.append(f"file 'file:{quoted}'")
    listing.write_text("\n".join(lines) + "\n")
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", "-loglevel", "error"]
    cmd += ["-f", "concat", "-safe", "0", "-protocol_whitelist", "file", "-i", str(listing)]
    cmd += ["-vf", f"tile={thumbs.columns}x{thumbs.rows},format=yuvj420p"]
    cmd += ["-fps_mode", "passthrough", "-c:v", "mjpeg", "-q:v", "5", "-f", "image2"]
    run_ffmpeg([*cmd, str(target / SPRITE_PATTERN)], duration=None)
