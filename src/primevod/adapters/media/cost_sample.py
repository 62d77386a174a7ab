"""A title's cost sample: short excerpts encoded to every rung, and the audio renditions of
the middle one, each measured as the difference of two runs from the same point (the
excerpt and its first part; CPU time from the kernel's accounting of each FFmpeg child), so
that a run's start-up, the decode from the keyframe before an excerpt and the encoder's
fill and flush cancel out, and projected to the whole title. The audio is measured apart
because its cost does not follow the picture (three AAC renditions cost as much as a small
video ladder)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from primevod.adapters.media.chunked_encode import encode_chunk
from primevod.adapters.media.ffmpeg_binary import ffmpeg_exe
from primevod.adapters.media.ffmpeg_command import (
    EncodeOptions,
    aac_args,
    audio_graph_and_maps,
    input_args,
)
from primevod.adapters.media.ffmpeg_runner import run_ffmpeg
from primevod.core.chunks import Chunk
from primevod.core.ladder import Ladder
from primevod.core.local_cost import Sample
from primevod.core.outputs import EncodePlan
from primevod.core.probe import ProbeResult

AUDIO_MIN_SECONDS = 3.0  # of audio sampled (an audio-only encode is cheap)


def measure_sample(
    source: Path,
    probe: ProbeResult,
    plan: EncodePlan,
    spans: list[tuple[float, float]],
    work: Path,
    options: EncodeOptions,
) -> Sample | None:
    """Encode each span [start, end) of the title to every rung (no thumbnails, no audio),
    twice: whole, and its first third. The difference is the CPU of the other two thirds
    alone: the start-up, the decode from the keyframe before the span and the encoder's
    fill and flush are the same in both runs and cancel out. None when the differences
    show nothing (a title too short to sample)."""
    media_seconds = cpu_seconds = sampled = 0.0
    size = 0
    work.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sample-", dir=work) as tmp:
        for index, (start, end) in enumerate(spans):
            head = (start, start + (end - start) / 3)
            short = _encode_span(source, probe, plan, head, Path(tmp) / f"{index}-head", options)
            whole = _encode_span(source, probe, plan, (start, end), Path(tmp) / str(index), options)
            media_seconds += (end - start) - (head[1] - head[0])
            cpu_seconds += whole.cpu_seconds - short.cpu_seconds
            sampled += end - start
            size += whole.bytes
    if media_seconds <= 0 or sampled <= 0 or cpu_seconds <= 0:
        return None
    middle = spans[len(spans) // 2]
    audio_rate = audio_cpu_rate(source, probe, plan.ladder, middle, options)
    return Sample(
        cpu_seconds=(cpu_seconds / media_seconds + audio_rate) * plan.duration,
        video_bytes=int(size / sampled * plan.duration),
        seconds=sampled,
    )


@dataclass(frozen=True)
class _Encoded:
    cpu_seconds: float
    bytes: int


def _encode_span(
    source: Path,
    probe: ProbeResult,
    plan: EncodePlan,
    span: tuple[float, float],
    out: Path,
    options: EncodeOptions,
) -> _Encoded:
    chunk = Chunk(index=0, start=span[0], end=span[1], last=span[1] >= plan.duration)
    encoded = encode_chunk(source, probe, plan.ladder, chunk, out, options)
    return _Encoded(encoded.cpu_seconds, sum(Path(f).stat().st_size for f in encoded.files))


def audio_cpu_rate(
    source: Path,
    probe: ProbeResult,
    ladder: Ladder,
    span: tuple[float, float],
    options: EncodeOptions,
) -> float:
    """CPU-seconds per second of the title for its AAC renditions; 0 without audio. Two
    runs from the same point, the span and a sixth of it, are compared, as for the video:
    their start-up and seek cancel out."""
    graph, maps = audio_graph_and_maps(probe, ladder)
    if not ladder.audio or not maps:
        return 0.0
    start, end = span
    length = max(end - start, AUDIO_MIN_SECONDS)
    short = _audio_run(source, graph, maps, ladder, options, start, length / 6)
    long = _audio_run(source, graph, maps, ladder, options, start, length)
    return max(0.0, (long - short) / (length * 5 / 6))


def _audio_run(
    source: Path,
    graph: list[str],
    maps: list[str],
    ladder: Ladder,
    options: EncodeOptions,
    start: float,
    seconds: float,
) -> float:
    cmd = input_args(ffmpeg_exe(), source, options)
    at = cmd.index("-i")
    cmd[at:at] = ["-ss", f"{start:.3f}", "-t", f"{seconds:.3f}"]
    if graph:
        cmd += ["-filter_complex", ";".join(graph)]
    cmd += maps
    for j, rendition in enumerate(ladder.audio):
        cmd += aac_args(j, rendition, None)
    return run_ffmpeg([*cmd, "-f", "null", "-"], duration=seconds)
