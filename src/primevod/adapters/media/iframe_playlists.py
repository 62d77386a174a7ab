"""HLS I-frame playlists (trick play, scrubbing previews on Apple players): for a video
rendition, one entry per fragment that starts with a keyframe, pointing (EXT-X-BYTERANGE)
at that fragment's `moof`, its `mdat` header and the keyframe's own bytes in the real
segment files. Every fragment of the CMAF segments starts with an IDR, so the entries are
a keyframe every fragment (one a segment; two where a runt tail was folded in)."""

from __future__ import annotations

from pathlib import Path

from primevod.core.fmp4 import fragments, media_timescale, trex_default_flags
from primevod.core.hls import (
    IFrame,
    IFrameVariant,
    Segment,
    measure_bitrates,
    parse_media_playlist,
    render_iframe_playlist,
)
from primevod.core.outputs import RenditionOutput


def iframe_name(rendition: RenditionOutput) -> str:
    return f"iframes_{rendition.representation_id}.m3u8"


def keyframes(root: Path, playlist: str) -> tuple[str, list[IFrame]] | None:
    """(init segment URI, the I-frames) of a media playlist's segments; None when its
    fragments cannot be read (no I-frame playlist then, rather than a wrong one)."""
    info = parse_media_playlist((root / playlist).read_text())
    if info.map_uri is None:
        return None
    init = (root / info.map_uri).read_bytes()
    timescale = media_timescale(init)
    if not timescale:
        return None
    defaults = trex_default_flags(init)
    frames: list[IFrame] = []
    for segment in info.segments:
        for fragment in fragments((root / segment.uri).read_bytes(), defaults):
            if not fragment.starts_with_sync or fragment.duration <= 0:
                return None
            frames.append(
                IFrame(
                    uri=segment.uri,
                    offset=fragment.offset,
                    length=fragment.first_sample_end - fragment.offset,
                    duration=fragment.duration / timescale,
                )
            )
    return (info.map_uri, frames) if frames else None


def write_iframe_playlist(root: Path, rendition: RenditionOutput) -> IFrameVariant | None:
    """The rendition's I-frame playlist written beside its media playlist, and its master
    entry (measured: the keyframe bytes over the time each one stands for)."""
    found = keyframes(root, rendition.playlist)
    if found is None:
        return None
    map_uri, frames = found
    name = iframe_name(rendition)
    (root / name).write_text(render_iframe_playlist(map_uri, frames))
    average, peak = measure_bitrates(
        [Segment(uri=f.uri, duration=f.duration, size=f.length) for f in frames]
    )
    return IFrameVariant(
        uri=name,
        bandwidth=peak,
        average_bandwidth=average,
        codecs=rendition.codecs,
        resolution=(rendition.width or 0, rendition.height or 0),
    )
