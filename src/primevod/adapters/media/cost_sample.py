"""A title's cost sample: short excerpts encoded to every rung, and the audio renditions of
the middle one, each measured as the difference of two runs from the same point (the
excerpt and its first part; CPU time from the kernel's accounting of each FFmpeg child), so
that a run's start-up and the encoder's fill and flush cancel out, and projected to the
whole title. The audio is measured apart because its cost does not follow the picture (three
AAC renditions cost as much as a small video ladder).

Each excerpt starts, where a keyframe is in reach, at one of the source's keyframes (plus
the chunk encode's margin), so a run decodes nothing before it: from anywhere else, FFmpeg
decodes from the keyframe before, which on a source with 10 s between keyframes can be most
of a short run's CPU (the difference cancels it on average, not its noise). The runs are
single-threaded, so that no encoder thread's CPU time depends on waiting for another; the
calibration (core/local_cost.calibrate) carries the ratio to the job's threaded encode.
What these changes, and excerpts of at least 1.5 s, did to the estimate: docs/cost.md."""

from __future__ import annotations

import statistics
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from primevod.adapters.media.chunked_encode import (
    MARGIN_SECONDS,
    chunk_command,
    chunk_file,
    needs_two_passes,
    output_frame_rate,
)
from primevod.adapters.media.ffmpeg_binary import ffmpeg_exe
from primevod.adapters.media.ffmpeg_command import (
    EncodeOptions,
    aac_args,
    audio_graph_and_maps,
    input_args,
)
from primevod.adapters.media.ffmpeg_runner import run_ffmpeg
from primevod.adapters.media.source_keyframes import keyframes_in
from primevod.core.chunks import Chunk
from primevod.core.ladder import Ladder
from primevod.core.local_cost import Sample, keyframe_reach, keyframe_spans, run_start_up
from primevod.core.outputs import EncodePlan
from primevod.core.probe import ProbeResult

AUDIO_MIN_SECONDS = 3.0  # of audio sampled (an audio-only encode is cheap)
SAMPLE_THREADS = 1  # per sample run: decoder, filters and each x264 encoder
HEAD_SHARE = 1 / 3  # of each excerpt, encoded alone: the short run of the two


def measure_sample(
    source: Path,
    probe: ProbeResult,
    plan: EncodePlan,
    spans: list[tuple[float, float]],
    work: Path,
    options: EncodeOptions,
    *,
    at_keyframes: bool = True,
    threads: int | None = SAMPLE_THREADS,
) -> Sample | None:
    """Encode each span [start, end) of the title to every rung (no thumbnails, no audio),
    twice: whole, and its first third. The difference is the CPU of the other two thirds
    alone: the start-up, any decode before the span and the encoder's fill and flush are the
    same in both runs and cancel out. The encode pays that start-up once, so its median over
    the spans (core/local_cost.run_start_up) is added once. With `at_keyframes` the spans
    move to the source's keyframes first; `threads` None lets FFmpeg choose. None when the
    differences show nothing (a title too short to sample)."""
    if at_keyframes:
        spans = aligned_spans(source, plan, spans)
    media_seconds = cpu_seconds = sampled = 0.0
    size = 0
    start_ups: list[float] = []
    work.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sample-", dir=work) as tmp:
        for index, (start, end) in enumerate(spans):
            head = (start, start + (end - start) * HEAD_SHARE)
            run = _SpanRun(source, probe, plan, options, threads)
            short = run.encode(head, Path(tmp) / f"{index}-head")
            whole = run.encode((start, end), Path(tmp) / str(index))
            media_seconds += (end - start) - (head[1] - head[0])
            cpu_seconds += whole.cpu_seconds - short.cpu_seconds
            start_ups.append(run_start_up(short.cpu_seconds, whole.cpu_seconds, HEAD_SHARE))
            sampled += end - start
            size += whole.bytes
    if media_seconds <= 0 or sampled <= 0 or cpu_seconds <= 0:
        return None
    middle = spans[len(spans) // 2]
    audio_rate = audio_cpu_rate(source, probe, plan.ladder, middle, options)
    start_up = max(0.0, statistics.median(start_ups))
    return Sample(
        cpu_seconds=start_up + (cpu_seconds / media_seconds + audio_rate) * plan.duration,
        video_bytes=int(size / sampled * plan.duration),
        seconds=sampled,
        start_up_cpu_seconds=start_up,
    )


def aligned_spans(
    source: Path, plan: EncodePlan, spans: list[tuple[float, float]]
) -> list[tuple[float, float]]:
    """The spans moved to start just after a keyframe of the source: the chunk encode seeks
    MARGIN_SECONDS before a span's first frame, rounded down to the frame grid, so the lead
    is the margin and two frames (the seek then lands on the keyframe or just after it)."""
    if not plan.ladder.rungs or not plan.ladder.frame_rate:
        return spans
    lead = MARGIN_SECONDS + float(2 / output_frame_rate(plan.ladder))
    reach = keyframe_reach(plan.duration) + lead
    stretches = [(_seconds(max(0.0, s - reach)), _seconds(s + reach)) for s, _ in spans]
    keyframes = keyframes_in(source, stretches) or []
    return keyframe_spans(spans, [float(k) for k in keyframes], plan.duration, lead)


def _seconds(value: float) -> Fraction:
    return Fraction(value).limit_denominator(1000)


@dataclass(frozen=True)
class _Encoded:
    cpu_seconds: float
    bytes: int


@dataclass(frozen=True)
class _SpanRun:
    """The chunk encode's commands for a span (both passes in quality mode with VBR rungs),
    with `threads` threads in the decoder, the filter graph and every encoder."""

    source: Path
    probe: ProbeResult
    plan: EncodePlan
    options: EncodeOptions
    threads: int | None

    def encode(self, span: tuple[float, float], out: Path) -> _Encoded:
        ladder = self.plan.ladder
        chunk = Chunk(index=0, start=span[0], end=span[1], last=span[1] >= self.plan.duration)
        out.mkdir(parents=True, exist_ok=True)
        options = self.options
        if self.threads is not None:
            options = options.model_copy(update={"threads": self.threads})
        passes = [1, 2] if needs_two_passes(ladder, options) else [None]
        cpu = 0.0
        for number in passes:
            cmd = chunk_command(
                ffmpeg_exe(),
                self.source,
                self.probe,
                ladder,
                chunk,
                out,
                options,
                pass_number=number,
            )
            cpu += run_ffmpeg(self._threaded(cmd), duration=span[1] - span[0])
        files = [chunk_file(out, chunk, i) for i in range(len(ladder.rungs))]
        return _Encoded(cpu, sum(f.stat().st_size for f in files if f.exists()))

    def _threaded(self, cmd: list[str]) -> list[str]:
        """`cmd` with its filter graph and each output's encoder on `threads` threads (the
        decoder's come from the options)."""
        if self.threads is None:
            return cmd
        count = str(self.threads)
        inputs_end = cmd.index("-i")
        threaded = [cmd[0], "-filter_complex_threads", count]
        for i, token in enumerate(cmd[1:], start=1):
            if token == "-f" and i > inputs_end:
                threaded += ["-threads", count]
            threaded.append(token)
        return threaded


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
