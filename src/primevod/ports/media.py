"""The media port: probing a source and turning it into a packaged ABR ladder, as the
pipeline calls it (FFmpeg + PyAV implement it in adapters/media/transcoder.py)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Protocol

from primevod.core.ladder import LadderPolicy
from primevod.core.outputs import PackageResult
from primevod.core.probe import ProbeResult
from primevod.core.progress import ProgressCallback


class MediaEngine(Protocol):
    def probe(self, source: Path) -> ProbeResult: ...

    def inspect(self, source: Path) -> ProbeResult:
        """Probe and apply the source rules (raises MediaError with a source.* code)."""
        ...

    def transcode(
        self,
        source: Path,
        output_dir: Path,
        policy: LadderPolicy,
        *,
        segment_seconds: float | None = None,
        on_progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        overwrite: bool = False,
        probe: ProbeResult | None = None,
        checksum: str | None = None,
        analysis_cache: Path | None = None,
    ) -> PackageResult:
        """The whole package in `output_dir` (written aside, moved into place only when it
        validates); raises MediaError."""
        ...
