"""The local estimate against the recorded actual on real encodes: a machine that has run
one title estimates a different one (other content, other length) from a sample of it, close
to the CPU-seconds its encode then takes.

The tolerance is 25 %, not the 10 % the benchmark holds to (benchmarks/cost_local.py,
docs/cost.md: the median over titles and ladders): on a shared 2-vCPU machine the CPU time
of one and the same encode varies by up to a quarter between runs (measured: 30.9 to 38.5
CPU-seconds for the grain title), so one estimate against one run cannot be held closer
without the test failing on noise."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from support.cli import run_cli

from primevod.adapters.media.ffmpeg_binary import ffmpeg_exe

TOLERANCE = 0.25
TITLES = {
    # a moving test card, then a zooming fractal under grain: unlike each other per pixel
    "card.mp4": "testsrc2=size=1280x720:rate=25:duration=20",
    "grain.mp4": "mandelbrot=size=1280x720:rate=25,noise=alls=12:allf=t,trim=duration=16",
}


def make(folder: Path, name: str) -> Path:
    out = folder / name
    video = ["-f", "lavfi", "-i", TITLES[name]]
    audio = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-shortest"]
    encode = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "14", "-pix_fmt", "yuv420p"]
    cmd = [ffmpeg_exe(), "-v", "error", "-y", *video, *audio, *encode, "-c:a", "aac", str(out)]
    subprocess.run(cmd, check=True)
    return out


def test_a_second_title_is_estimated_close_to_what_its_encode_takes(tmp_path: Path) -> None:
    home = tmp_path / "home"
    for name in ("card.mp4", "grain.mp4"):  # the first calibrates the machine
        done = run_cli(home, "process", str(make(tmp_path, name)), "--json", preset="veryfast")
        assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(run_cli(home, "cost", "report", "--json", preset="veryfast").stdout)
    second, first = report["jobs"]  # newest first
    assert first["cpu_seconds"] > 0 and second["cpu_seconds"] > 0
    assert abs(second["cpu_error"]) <= TOLERANCE, second
    assert report["totals"]["jobs"] == 2 and report["spent_usd"] > 0
