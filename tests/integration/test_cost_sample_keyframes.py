"""The cost sample (adapters/media/cost_sample.py) on a real source: its excerpts start at
the source's keyframes, and measured single-threaded they still give a sample of the whole
title."""

from __future__ import annotations

import subprocess
from pathlib import Path

from primevod.adapters.media.cost_sample import aligned_spans, measure_sample
from primevod.adapters.media.ffmpeg_binary import ffmpeg_exe
from primevod.adapters.media.ffmpeg_command import EncodeOptions
from primevod.adapters.media.pyav_probe import probe_file
from primevod.adapters.media.transcoder import MediaEngine
from primevod.core.local_cost import sample_spans
from primevod.core.policies import get_policy


def card(folder: Path) -> Path:
    """12 s at 25 fps with a keyframe every 2 s (0, 2, ..., 10) and nowhere else."""
    out = folder / "card.mp4"
    video = ["-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=12"]
    audio = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-shortest"]
    gop = ["-g", "50", "-keyint_min", "50", "-sc_threshold", "0"]
    encode = ["-c:v", "libx264", "-preset", "ultrafast", *gop, "-c:a", "aac", str(out)]
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", *video, *audio, *encode], check=True)
    return out


def test_the_sample_starts_its_excerpts_at_the_source_keyframes(tmp_path: Path) -> None:
    source = card(tmp_path)
    probe = probe_file(source)
    engine = MediaEngine(EncodeOptions(preset="ultrafast", thumbnails=False))
    plan = engine.plan(source, probe, get_policy("default"))
    spans = sample_spans(plan.duration)
    moved = aligned_spans(source, plan, spans)
    assert moved != spans and len(moved) == len(spans)
    for start, end in moved:  # the margin and two frames after a keyframe, as long as before
        assert round(start - 0.5 - 2 / 25, 3) in (0.0, 2.0, 4.0, 6.0, 8.0, 10.0)
        assert abs((end - start) - (spans[0][1] - spans[0][0])) < 0.01

    sample = measure_sample(source, probe, plan, spans, tmp_path / "work", engine.options)
    assert sample is not None and sample.cpu_seconds > 0 and sample.video_bytes > 0
    assert abs(sample.seconds - sum(end - start for start, end in moved)) < 0.01
