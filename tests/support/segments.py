"""A rendition's first media segment behind its init segment: one file FFmpeg and PyAV
can open, to look at what a package really holds."""

from __future__ import annotations

from pathlib import Path

from primevod.core.hls import parse_media_playlist


def first_segment_file(root: Path, playlist: str, out: Path) -> Path:
    """`out`: the init segment (`EXT-X-MAP`) of `playlist` under `root`, then its first
    media segment."""
    info = parse_media_playlist((root / playlist).read_text())
    out.write_bytes(
        (root / str(info.map_uri)).read_bytes() + (root / info.segments[0].uri).read_bytes()
    )
    return out
