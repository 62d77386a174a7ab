"""kill -9 in the middle of an encode loses nothing: a restarted worker resumes the workflow,
the asset reaches ready, and nothing of the dead attempt is published."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from primevod.adapters.catalog.sql_catalog import SqlCatalog
from primevod.adapters.media.package_validator import validate_package

pytestmark = pytest.mark.slow


def primevod(*args: str) -> list[str]:
    return [sys.executable, "-m", "primevod.cli.main", *args]


def test_sigkill_mid_encode_then_resume(bbb, tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {**os.environ, "PRIMEVOD_HOME": str(home), "PRIMEVOD_PRESET": "medium"}
    proc = subprocess.Popen(
        primevod("process", str(bbb), "--ladder", "apple", "--json"),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    catalog = None
    asset_id = None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if catalog is None and (home / "catalog.db").exists():
            try:
                catalog = SqlCatalog(f"sqlite:///{home / 'catalog.db'}", migrate=False)
            except Exception:
                catalog = None
        if catalog is not None:
            try:
                items = catalog.list_assets().items
            except Exception:
                items = []
            if items and items[0].status.value == "processing" and items[0].progress > 0.05:
                asset_id = items[0].id
                break
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.1)
    assert asset_id, "the encode never got going"
    os.killpg(proc.pid, signal.SIGKILL)  # the process and its FFmpeg, like a power cut
    proc.wait()
    assert catalog.get_asset(asset_id).status.value == "processing"
    work = home / "work"  # one scratch folder per worker: work/<worker id>/<asset>/...
    assert any(work.glob(f"*/{asset_id}/**/.package.partial-*")), "no half-written package"

    resumed = subprocess.run(
        primevod("worker", "--exit-when-idle"), env=env, capture_output=True, text=True, timeout=300
    )
    assert resumed.returncode == 0, resumed.stderr
    asset = catalog.get_asset(asset_id)
    assert asset.status.value == "ready", asset.error
    assert asset.hls_path == f"assets/{asset_id}/1/master.m3u8"
    execution = catalog.get_execution(asset.execution_id)
    assert execution.status == "succeeded"
    steps = [(s.name, s.attempt, s.status) for s in execution.steps]
    assert steps == [
        ("ingest", 1, "succeeded"),
        ("budget", 1, "succeeded"),
        ("process", 1, "interrupted"),
        ("process", 2, "succeeded"),
        ("quality", 1, "succeeded"),
        ("publish", 1, "succeeded"),
    ]
    # what was published is whole and valid, and the dead attempt's files are gone
    published = home / "store" / "buckets" / "destination" / "assets" / asset_id / "1"
    assert validate_package(published).passed
    assert not list(work.glob(f"*/{asset_id}"))  # the dead worker's scratch was removed
    assert [e.type for e in catalog.list_events(asset_id=asset_id)].count("asset.ready") == 1
