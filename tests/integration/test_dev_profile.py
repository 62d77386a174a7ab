"""`PRIMEVOD_PROFILE=dev`: sources longer than 30 s are refused with `source.too_long` (the
limit in the message) and leave a failed asset; a 30 s source is processed. Real encodes
through `primevod process`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def _process(home: Path, source: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PRIMEVOD_HOME": str(home),
        "PRIMEVOD_PRESET": "ultrafast",
        "PRIMEVOD_PROFILE": "dev",
    }
    return subprocess.run(
        [sys.executable, "-m", "primevod.cli.main", "process", str(source), "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def dev_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("devhome")


def test_a_31_second_source_is_refused_as_too_long(dev_home: Path, clip) -> None:
    done = _process(dev_home, clip("thirtyone.mp4"))
    assert done.returncode == 2, done.stdout + done.stderr
    body = json.loads(done.stdout)
    assert body["status"] == "failed" and body["asset_id"]  # a failed asset, with its reason
    error = body["error"]
    assert error["code"] == "source.too_long"
    assert "30 s" in error["message"] and "dev profile" in error["message"]


def test_a_30_second_source_is_processed(dev_home: Path, clip) -> None:
    done = _process(dev_home, clip("thirty.mp4"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["status"] == "ready"
