"""`primevod ...` in a subprocess against a data folder, as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_cli(
    home: Path, *args: str, preset: str = "ultrafast", timeout: float = 600, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run the CLI with PRIMEVOD_HOME=home and PRIMEVOD_PRESET=preset (plus `env`)."""
    return subprocess.run(
        [sys.executable, "-m", "primevod.cli.main", *args],
        env={**os.environ, "PRIMEVOD_HOME": str(home), "PRIMEVOD_PRESET": preset, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
