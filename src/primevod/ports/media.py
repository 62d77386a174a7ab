"""The media port: probing a source and turning it into a packaged ABR ladder, as the
pipeline calls it (FFmpeg + PyAV implement it in adapters/media/transcoder.py): in one
`transcode`, or split and stitched (plan, chunk encodes and the title's audio on any
workers, then the packaging of them all)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from primevod.core.chunks import Chunk, ChunkEncode
from primevod.core.ladder import LadderPolicy
from primevod.core.local_cost import Sample
from primevod.core.outputs import EncodePlan, PackageResult
from primevod.core.probe import ProbeResult
from primevod.core.progress import ProgressCallback
from primevod.core.subtitles import SidecarSubtitle


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
        subtitles: Sequence[SidecarSubtitle] = (),
    ) -> PackageResult:
        """The whole package in `output_dir` (written aside, moved into place only when it
        validates), with the source's text subtitles and the `subtitles` sidecars; raises
        MediaError."""
        ...

    def plan(
        self,
        source: Path,
        probe: ProbeResult,
        policy: LadderPolicy,
        *,
        segment_seconds: float | None = None,
        checksum: str | None = None,
        analysis_cache: Path | None = None,
    ) -> EncodePlan:
        """The ladder and thumbnails `transcode` would encode (an `auto` policy analysed)."""
        ...

    def plan_chunks(
        self, source: Path, probe: ProbeResult, plan: EncodePlan, chunk_seconds: float
    ) -> list[Chunk]:
        """The title cut on its segment grid; MediaError request.invalid when it cannot be
        encoded in chunks (then `transcode` it)."""
        ...

    def encode_chunk(
        self,
        source: Path,
        probe: ProbeResult,
        plan: EncodePlan,
        chunk: Chunk,
        out_dir: Path,
        *,
        on_progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> ChunkEncode:
        """One chunk to every rung of the plan (video only), a file per rung in `out_dir`, and
        the plan's thumbnails that fall in the chunk."""
        ...

    def sample_cost(
        self,
        source: Path,
        probe: ProbeResult,
        plan: EncodePlan,
        spans: list[tuple[float, float]],
        work: Path,
    ) -> Sample | None:
        """The title's CPU-seconds and video bytes projected from encoding the `spans` to every
        rung (core/local_cost.py); None when they show no steady state."""
        ...

    def encode_title_audio(
        self,
        source: Path,
        probe: ProbeResult,
        plan: EncodePlan,
        out_dir: Path,
        *,
        cancel: threading.Event | None = None,
    ) -> Path | None:
        """The whole title's audio renditions in one file in `out_dir` (None: no audio)."""
        ...

    def package_chunks(
        self,
        chunks_per_rung: list[list[Path]],
        audio: Path | None,
        thumb_dirs: list[Path],
        probe: ProbeResult,
        plan: EncodePlan,
        out_dir: Path,
        *,
        cancel: threading.Event | None = None,
        source: Path | None = None,
        subtitles: Sequence[SidecarSubtitle] = (),
    ) -> PackageResult:
        """The chunks (rung by rung, in title order), the title's audio and the chunks'
        thumbnails joined into the package `transcode` would have written, validated, in
        `out_dir`; with `source`, its text subtitles and the `subtitles` sidecars too."""
        ...
