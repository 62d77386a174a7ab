"""A title's cost sample: short excerpts encoded to every rung, and the audio renditions of
the middle one, their CPU time measured in the steady state (from FFmpeg's first progress
report with output to its last, read from the kernel's accounting of the child), so neither
a run's start-up nor the decode from the keyframe before an excerpt counts, and projected
to the whole title. The audio is measured apart because its cost does not follow the
picture (three AAC renditions cost as much as a small video ladder)."""

from __future__ import annotations

import tempfile
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
from primevod.core.progress import Progress

STATS_PERIOD = 0.1  # progress reports often enough to see the steady state of a short excerpt
AUDIO_MIN_SECONDS = 3.0  # of audio sampled (an audio-only encode is cheap)


class _Steady:
    """The CPU of the excerpt's steady state: from the first progress report with output
    written to the last (a short excerpt may show too little of it: then from the first
    report of all, which comes after the start-up and the decode before the excerpt)."""

    MIN_MEDIA_SECONDS = 0.25  # of output between the reports, to trust the steady state

    def __init__(self) -> None:
        self.start: float | None = None  # CPU at the first report
        self.first: tuple[float, float] | None = None
        self.last: tuple[float, float] | None = None

    def __call__(self, p: Progress) -> None:
        if p.cpu_seconds is None:
            return
        if self.start is None:
            self.start = p.cpu_seconds
        if p.out_time > 0:
            self.first = self.first or (p.out_time, p.cpu_seconds)
            self.last = (p.out_time, p.cpu_seconds)

    def span(self, excerpt_seconds: float, cpu_total: float) -> tuple[float, float]:
        """(seconds of media, CPU-seconds) of the steady part, or (0, 0) when unknown."""
        if self.first is not None and self.last is not None:
            media = self.last[0] - self.first[0]
            if media >= self.MIN_MEDIA_SECONDS:
                return media, self.last[1] - self.first[1]
        if self.start is None or cpu_total <= self.start:
            return 0.0, 0.0
        return excerpt_seconds, cpu_total - self.start


def measure_sample(
    source: Path,
    probe: ProbeResult,
    plan: EncodePlan,
    spans: list[tuple[float, float]],
    work: Path,
    options: EncodeOptions,
) -> Sample | None:
    """Encode each span [start, end) of the title to every rung (no thumbnails, no audio);
    None when the reports never showed a steady state (too short an excerpt)."""
    fast = options.model_copy(update={"stats_period": STATS_PERIOD})
    media_seconds = cpu_seconds = sampled = 0.0
    size = 0
    work.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sample-", dir=work) as tmp:
        for index, (start, end) in enumerate(spans):
            steady = _Steady()
            chunk = Chunk(index=index, start=start, end=end, last=end >= plan.duration)
            encoded = encode_chunk(
                source,
                probe,
                plan.ladder,
                chunk,
                Path(tmp) / str(index),
                fast,
                on_progress=steady,
            )
            seconds, cpu = steady.span(chunk.duration, encoded.cpu_seconds)
            media_seconds += seconds
            cpu_seconds += cpu
            sampled += chunk.duration
            size += sum(Path(f).stat().st_size for f in encoded.files)
    if media_seconds <= 0 or sampled <= 0:
        return None
    middle = spans[len(spans) // 2]
    audio_rate = audio_cpu_rate(source, probe, plan.ladder, middle, fast)
    return Sample(
        cpu_seconds=(cpu_seconds / media_seconds + audio_rate) * plan.duration,
        video_bytes=int(size / sampled * plan.duration),
        seconds=sampled,
    )


def audio_cpu_rate(
    source: Path,
    probe: ProbeResult,
    ladder: Ladder,
    span: tuple[float, float],
    options: EncodeOptions,
) -> float:
    """CPU-seconds per second of the title for its AAC renditions; 0 without audio. Audio
    encodes too fast for progress reports to show a steady state, so two runs from the same
    point, the span and a sixth of it, are compared: their start-up and seek cancel out."""
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
