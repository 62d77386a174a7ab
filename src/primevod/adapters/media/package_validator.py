"""Output validation: parse what was written (or what an origin serves) and check the HLS
authoring rules that matter and the DASH MPD's segment references. Used after every encode
and by the canary. Reading goes through a Fetcher so the same checks run on files and URLs.

The rules live in hls_validator (master playlist and variants), media_playlist_checks (one
media playlist and its segments) and dash_validator; this module is the entry point for a
package on disk and keeps the names callers import."""

from __future__ import annotations

import contextlib
import posixpath
import xml.etree.ElementTree as ET
from pathlib import Path

from primevod.adapters.media.dash_validator import MPD_NS, check_mpd, read_mpd, validate_dash
from primevod.adapters.media.fetcher import Fetcher
from primevod.adapters.media.hls_validator import (
    DEFAULT_TOLERANCE,
    PARALLEL_PLAYLISTS,
    validate_hls,
)
from primevod.adapters.media.media_playlist_checks import DECODE_SAMPLES, MediaStats
from primevod.adapters.media.track_checks import check_mpd_tracks
from primevod.core.errors import MediaError
from primevod.core.outputs import ValidationReport

__all__ = [
    "DECODE_SAMPLES",
    "DEFAULT_TOLERANCE",
    "PARALLEL_PLAYLISTS",
    "Fetcher",
    "LocalFetcher",
    "MediaStats",
    "validate_dash",
    "validate_hls",
    "validate_package",
]


class LocalFetcher:
    """Reads URIs relative to a folder; nothing outside it."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _path(self, uri: str) -> Path:
        path = (self.root / posixpath.normpath(uri)).resolve()
        if path != self.root and self.root not in path.parents:
            raise FileNotFoundError(f"{uri} is outside the package")
        return path

    def read(self, uri: str) -> bytes:
        return self._path(uri).read_bytes()

    def size(self, uri: str) -> int:
        return self._path(uri).stat().st_size


def validate_package(
    root: Path, master: str = "master.m3u8", manifest: str | None = "manifest.mpd"
) -> ValidationReport:
    """The HLS checks, then the DASH ones unless `manifest` is None (an HLS-only package:
    an encrypted one has no MPD)."""
    fetcher = LocalFetcher(root)
    report = validate_hls(master, fetcher)
    if manifest is None:
        return report
    mpd = read_mpd(report, manifest, fetcher)
    if mpd is None:
        return report
    check_mpd(report, manifest, mpd, fetcher)
    _check_mpd_matches_hls(report, root, manifest, mpd)
    # an unreadable master is reported by the HLS checks
    with contextlib.suppress(OSError, UnicodeDecodeError):
        check_mpd_tracks(report, manifest, mpd, fetcher.read(master).decode("utf-8"))
    return report


def _check_mpd_matches_hls(
    report: ValidationReport, root: Path, manifest: str, mpd: ET.Element
) -> None:
    """One set of segments behind both manifests: the MPD names each HLS media playlist's
    representation (media_N.m3u8 <-> Representation id N)."""
    rep_ids = {
        r.get("id")
        for aset in mpd.iter(f"{MPD_NS}AdaptationSet")
        if aset.get("contentType") != "text"  # WebVTT subtitles: no media_N.m3u8
        for r in aset.iter(f"{MPD_NS}Representation")
    }
    playlists = {p.name[len("media_") : -len(".m3u8")] for p in root.glob("media_*.m3u8")}
    report.add(
        "mpd.matches_hls",
        manifest,
        rep_ids == playlists,
        f"MPD representations {sorted(rep_ids)}, HLS media playlists {sorted(playlists)}",
    )


def validated_package(workdir: Path) -> ValidationReport:
    """The package's validation report; MediaError package.invalid when it fails."""
    report = validate_package(workdir)
    if not report.passed:
        failed = "; ".join(f"{r.rule} ({r.target}): {r.message}" for r in report.failures[:3])
        raise MediaError(
            "package.invalid",
            f"output failed validation: {failed}",
            detail=report.model_dump_json(),
        )
    return report
