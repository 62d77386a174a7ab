"""Assets on a test server (support/server.py), as several test modules need them: the id of
the asset a dropped file becomes, and a corrupt source run through `primevod process`."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from support.server import Server


def new_asset(server: Server, timeout: float = 60) -> str:
    """The id of the asset the next file dropped in the inbox becomes, as soon as it exists
    (the newest asset of an empty library)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page = httpx.get(f"{server.base}/api/v1/assets", headers=server.auth("viewer")).json()
        if page["items"]:
            return str(page["items"][0]["id"])
        time.sleep(0.1)
    raise AssertionError(f"the dropped file never became an asset\n{server.output()}")


def process_corrupt(server: Server, source: Path) -> dict[str, Any]:
    """`primevod process SOURCE --json` against the server's home for a source that is no
    video: it exits 2 (a permanent failure) and says why; its JSON document."""
    done = subprocess.run(
        [sys.executable, "-m", "primevod.cli.main", "process", str(source), "--json"],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    return dict(json.loads(done.stdout))
