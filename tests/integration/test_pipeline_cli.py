"""`primevod process`, `assets`, `executions`, `keys`, `subscriptions`, `config`, `demo`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "PRIMEVOD_HOME": str(tmp_path / "home"), "PRIMEVOD_PRESET": "ultrafast"}


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "primevod.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_process_ok_then_inspect(env, clip) -> None:
    proc = run(env, "process", str(clip("small.mp4")), "--title", "Small", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["status"] == "ready" and data["error"] is None
    assert Path(data["hls_path"]).is_file() and Path(data["dash_path"]).is_file()
    assert data["title"] == "Small"
    listed = json.loads(run(env, "assets", "list", "--json").stdout)
    assert [a["asset_id"] for a in listed["items"]] == [data["asset_id"]]
    shown = json.loads(run(env, "assets", "show", data["asset_id"], "--json").stdout)
    assert shown["checksum"] and shown["probe"]["video"][0]["width"] == 320
    execution = json.loads(run(env, "executions", "show", data["execution_id"], "--json").stdout)
    assert [s["name"] for s in execution["steps"]] == [
        "ingest",
        "budget",
        "process",
        "quality",
        "publish",
    ]
    human = run(env, "executions", "show", data["execution_id"])
    assert "publish" in human.stdout and "succeeded" in human.stdout


def test_process_bad_and_good_together(env, clip, corrupt) -> None:
    proc = run(env, "process", str(clip("noaudio.mp4")), str(corrupt["empty"]), "--json")
    assert proc.returncode == 2
    data = json.loads(proc.stdout)
    assert sorted(a["status"] for a in data["assets"]) == ["failed", "ready"]
    assert "error source.empty: " in proc.stderr and "Traceback" not in proc.stderr


def test_process_missing_file_and_unknown_ladder(env, clip, tmp_path) -> None:
    proc = run(env, "process", str(tmp_path / "nope.mp4"))
    assert proc.returncode == 2 and "source.missing" in proc.stderr
    proc = run(env, "process", str(clip("small.mp4")), "--ladder", "nope")
    assert proc.returncode == 2 and "ladder.unknown_policy" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_unknown_ids_and_keys(env) -> None:
    for args in (
        ["assets", "show", "nope"],
        ["executions", "show", "nope"],
        ["assets", "retry", "nope"],
        ["keys", "revoke", "nope"],
    ):
        proc = run(env, *args)
        assert proc.returncode == 2 and "not_found" in proc.stderr, args
        assert "Traceback" not in proc.stderr
    key = run(env, "keys", "create", "--role", "viewer").stdout.strip()
    assert key.startswith("pv_")
    assert run(env, "keys", "create", "--role", "king").returncode == 2
    keys = json.loads(run(env, "keys", "list", "--json").stdout)
    assert keys[0]["role"] == "viewer" and "hash" not in keys[0]


def test_subscriptions_and_config(env) -> None:
    added = run(
        env,
        "subscriptions",
        "add",
        "--url",
        "https://example.invalid/hook",
        "--event",
        "asset.ready",
        "--json",
    )
    assert added.returncode == 0, added.stderr
    sub = json.loads(added.stdout)
    assert sub["secret"].startswith("whsec_")
    assert run(env, "subscriptions", "add").returncode == 2
    listed = json.loads(run(env, "subscriptions", "list", "--json").stdout)
    assert [s["id"] for s in listed] == [sub["id"]]
    assert run(env, "subscriptions", "remove", sub["id"]).returncode == 0
    assert run(env, "subscriptions", "remove", sub["id"]).returncode == 2
    config = json.loads(run(env, "config", "--json").stdout)
    assert config["home"] == env["PRIMEVOD_HOME"] and config["store"] == "local"


def test_config_file_and_environment(tmp_path) -> None:
    (tmp_path / "primevod.toml").write_text('port = 9123\nladder = "apple"\n')
    env = {**os.environ, "PRIMEVOD_HOME": str(tmp_path / "h"), "PRIMEVOD_LADDER": "aws-vod"}
    proc = subprocess.run(
        [sys.executable, "-m", "primevod.cli.main", "config", "--json"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    config = json.loads(proc.stdout)
    assert config["port"] == 9123  # from the file
    assert config["ladder"] == "aws-vod"  # the environment wins over the file


def test_demo_processes_the_bundled_clip(env) -> None:
    proc = run(env, "demo", "--no-serve", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["status"] == "ready" and data["title"] == "Big Buck Bunny (excerpt)"
    assert [r["height"] for r in data["renditions"] if r["kind"] == "video"] == [234, 360, 540, 720]
    assert data["admin_key"].startswith("pv_") and data["docs"].endswith("/docs")
    assert data["watch"].endswith(f"/watch/{data['asset_id']}")
    assert "/signin?token=" in data["signin"]  # the console's one-time sign-in link
