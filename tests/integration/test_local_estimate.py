"""The local estimate against the recorded actual on real encodes: a machine that has run
one title estimates its next one (the same kind of picture) from a sample of
it, close to the CPU-seconds its encode then takes. Titles unlike each other are the
benchmark's part (benchmarks/cost_local.py: 8-9 % in the median, 16-17 % at worst).

The tolerance is 40 %, not the 10 % the benchmark's median holds to (benchmarks/
cost_local.py, docs/cost.md). On a shared 2-vCPU machine, one and the same encode's CPU time
varies by up to a quarter between runs (measured: 30.9 to 38.5 CPU-seconds for a 16 s 720p
title). A 20 s title's sample is three 1 s excerpts, each measured as a difference of two
runs, so it is noisier still: this test measured -34 % once on the same picture. The test
catches a broken projection or calibration (a factor of two), not the model's precision.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from support.cli import run_cli

from primevod.adapters.media.ffmpeg_binary import ffmpeg_exe

TOLERANCE = 0.40
# the estimate from a sample of the title (the suite's conftest turns sampling off); no VMAF
# check, which is neither estimated nor counted in the encode's CPU-seconds
SAMPLED = {"preset": "veryfast", "PRIMEVOD_COST_SAMPLE": "true", "PRIMEVOD_QUALITY_CHECK": "off"}
TITLES = {
    # a moving test card, then the same card in other colours: the same kind of picture and
    # length, so what is tested is the sample and the calibration, not how alike titles are
    # (or how a job's fixed costs weigh on a shorter one)
    "card.mp4": "testsrc2=size=1280x720:rate=25:duration=20",
    "card-hue.mp4": "testsrc2=size=1280x720:rate=25:duration=20,hue=h=120",
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
    for name in ("card.mp4", "card-hue.mp4"):  # the first calibrates the machine
        done = run_cli(home, "process", str(make(tmp_path, name)), "--json", **SAMPLED)
        assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(run_cli(home, "cost", "report", "--json", **SAMPLED).stdout)
    second, first = report["jobs"]  # newest first
    assert first["cpu_seconds"] > 0 and second["cpu_seconds"] > 0
    assert abs(second["cpu_error"]) <= TOLERANCE, second
    assert report["totals"]["jobs"] == 2 and report["spent_usd"] > 0
