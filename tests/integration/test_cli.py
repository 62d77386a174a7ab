"""The `primevod` console script, run as a user would: exit codes, JSON, no tracebacks."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXE = shutil.which("primevod")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = [EXE, *args] if EXE else [sys.executable, "-m", "primevod.cli.main", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)


def test_probe_json(bbb) -> None:
    proc = run("probe", str(bbb), "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["video"][0]["width"] == 1280 and data["audio"][0]["channels"] == 6


def test_probe_human(bbb) -> None:
    proc = run("probe", str(bbb))
    assert proc.returncode == 0 and "1280x720" in proc.stdout and "aac" in proc.stdout


def test_transcode_json(clip, tmp_path: Path) -> None:
    proc = run(
        "transcode",
        str(clip("small.mp4")),
        str(tmp_path / "out"),
        "--ladder",
        "aws-vod",
        "--segment-seconds",
        "1",
        "--preset",
        "ultrafast",
        "--json",
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["ok"] and data["validation"]["passed"] and data["validation"]["failed"] == 0
    assert Path(data["master"]).is_file() and Path(data["manifest"]).is_file()
    assert data["master"].endswith("master.m3u8") and data["manifest"].endswith("manifest.mpd")
    assert data["segment_seconds"] == 1 and data["policy"] == "aws-vod"
    video = [r for r in data["rungs"] if r["kind"] == "video"]
    assert video and all(r["average_bitrate"] > 0 and r["peak_bitrate"] > 0 for r in video)
    assert data["realtime_factor"] > 0


def test_transcode_human_output(clip, tmp_path: Path) -> None:
    proc = run("transcode", str(clip("small.mp4")), str(tmp_path / "out"), "--preset", "ultrafast")
    assert proc.returncode == 0, proc.stderr
    assert "validation passed" in proc.stdout and "master.m3u8" in proc.stdout


@pytest.mark.parametrize(
    ("key", "code"),
    [
        ("empty", "source.empty"),
        ("text", "source.unreadable"),
        ("cut_faststart", "source.truncated"),
        ("unknown_codec", "source.unsupported_codec"),
    ],
)
def test_bad_input_one_line_error(corrupt, tmp_path: Path, key: str, code: str) -> None:
    proc = run("transcode", str(corrupt[key]), str(tmp_path / "out"))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"error {code}: ")
    assert not (tmp_path / "out").exists()


def test_bad_input_json_error(corrupt, tmp_path: Path) -> None:
    proc = run("probe", str(corrupt["text"]), "--json")
    assert proc.returncode == 2
    assert json.loads(proc.stdout)["error"]["code"] == "source.unreadable"


def test_unknown_ladder_and_bad_segment(clip, tmp_path: Path) -> None:
    proc = run("transcode", str(clip("small.mp4")), str(tmp_path / "o"), "--ladder", "nope")
    assert proc.returncode == 2 and "ladder.unknown_policy" in proc.stderr
    proc = run("transcode", str(clip("small.mp4")), str(tmp_path / "o"), "--segment-seconds", "0")
    assert proc.returncode == 2 and "request.invalid" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_version() -> None:
    proc = run("version")
    assert proc.returncode == 0 and "FFmpeg" in proc.stdout
