"""Synthetic sample clips from FFmpeg's lavfi sources: for trying the pipeline, tests and
benchmarks on a machine with no media of its own."""

from __future__ import annotations

import subprocess
from pathlib import Path

from primevod.adapters.media.ffmpeg_binary import ffmpeg_exe
from primevod.core.errors import MediaError

PATTERNS = {
    "testsrc2": "testsrc2=size={w}x{h}:rate={fps}",  # moving test card: moderate complexity
    "mandelbrot": "mandelbrot=size={w}x{h}:rate={fps}",  # zooming fractal: high detail
    "slides": "color=c=0x2050a0:size={w}x{h}:rate={fps},drawgrid=w=iw/8:h=ih/8:t=4:c=white",
}


def make_sample(
    output: Path,
    *,
    seconds: float = 10.0,
    width: int = 1280,
    height: int = 720,
    fps: int = 30,
    pattern: str = "testsrc2",
    audio: bool = True,
) -> Path:
    if pattern not in PATTERNS:
        raise MediaError("request.invalid", f"unknown pattern {pattern!r}")
    if not (0 < seconds <= 3600 and 16 <= width <= 7680 and 16 <= height <= 4320):
        raise MediaError("request.invalid", "sample length or size out of range")
    source = PATTERNS[pattern].format(w=width, h=height, fps=fps)
    cmd = [ffmpeg_exe(), "-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i", source]
    if audio:
        cmd += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-ac", "2"]
    cmd += [
        "-t",
        f"{seconds:g}",
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-crf",
        "18",
        "-pix_fmt",
        "yuv420p",
    ]
    if audio:
        cmd += ["-c:a", "aac", "-b:a", "128k"]
    cmd += ["-movflags", "+faststart", str(output)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise MediaError("encode.failed", f"sample failed: {proc.stderr.strip()[-200:]}")
    return output
