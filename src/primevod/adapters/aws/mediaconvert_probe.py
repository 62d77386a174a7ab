"""MediaConvert's `Probe` answer as the project's ProbeResult, so the AWS shape applies the
same source rules (core/source_rules.py) and error codes as the local ingest.

What Probe cannot say, and what follows: it reports no rotation, no interlacing flag outside
the codec metadata's scan type, and no variable frame rate, so those keep their defaults; a
file MediaConvert cannot parse comes back without a container (or raises), which becomes
`source.unreadable` as a file PyAV cannot open does locally."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from primevod.core.errors import MediaError
from primevod.core.probe import AudioStreamInfo, ProbeResult, VideoStreamInfo

# MediaConvert's codec names -> FFmpeg's (what the local probe reports)
CODECS = {
    "AVC": "h264",
    "HEVC": "hevc",
    "AV1": "av1",
    "VP8": "vp8",
    "VP9": "vp9",
    "MPEG1": "mpeg1video",
    "MPEG2": "mpeg2video",
    "MP4V": "mpeg4",
    "PRORES": "prores",
    "JPEG2000": "jpeg2000",
    "MJPEG": "mjpeg",
    "QTRLE": "qtrle",
    "THEORA": "theora",
    "UNCOMPRESSED": "rawvideo",
    "AAC": "aac",
    "AC3": "ac3",
    "EAC3": "eac3",
    "FLAC": "flac",
    "MP3": "mp3",
    "OPUS": "opus",
    "PCM": "pcm_s16le",
    "VORBIS": "vorbis",
}
CHROMA = {"YUV_420": "4:2:0", "YUV_422": "4:2:2", "YUV_444": "4:4:4"}


def probe_result(response: dict[str, Any], url: str) -> ProbeResult:
    """The first probe result of a `Probe` response for the file at `url`."""
    results = response.get("ProbeResults") or []
    if not results or not results[0].get("Container"):
        raise MediaError("source.unreadable", f"MediaConvert cannot read {url}")
    result = results[0]
    container = result["Container"]
    tracks = container.get("Tracks") or []
    size = int((result.get("Metadata") or {}).get("FileSize") or 0)
    duration = container.get("Duration")
    video = [_video(t) for t in tracks if t.get("TrackType") == "video"]
    if video and all(v.codec == "unknown" for v in video):
        raise MediaError("source.unsupported_codec", f"no decoder for the video of {url}")
    return ProbeResult(
        path=url,
        format_name=str(container.get("Format") or "unknown"),
        size=size,
        duration=float(duration) if duration else None,
        bit_rate=round(size * 8 / duration) if size and duration else None,
        video=video,
        audio=[_audio(t) for t in tracks if t.get("TrackType") == "audio"],
    )


def _codec(track: dict[str, Any]) -> str:
    return CODECS.get(str(track.get("Codec") or "UNKNOWN"), "unknown")


def _rate(rate: dict[str, Any] | None) -> float | None:
    if not rate or not rate.get("Numerator") or not rate.get("Denominator"):
        return None
    return float(Fraction(int(rate["Numerator"]), int(rate["Denominator"])))


def _video(track: dict[str, Any]) -> VideoStreamInfo:
    props = track.get("VideoProperties") or {}
    meta = props.get("CodecMetadata") or {}
    duration = track.get("Duration")
    return VideoStreamInfo(
        index=int(track.get("Index") or 0),
        codec=_codec(track),
        profile=meta.get("Profile"),
        width=int(props.get("Width") or meta.get("Width") or 0),
        height=int(props.get("Height") or meta.get("Height") or 0),
        frame_rate=_rate(props.get("FrameRate")) or _rate(meta.get("CodedFrameRate")),
        bit_depth=props.get("BitDepth") or meta.get("BitDepth"),
        chroma_subsampling=CHROMA.get(str(meta.get("ChromaSubsampling") or "")),
        scan_type="interlaced" if _interlaced(meta.get("ScanType")) else "progressive",
        bit_rate=props.get("BitRate"),
        duration=float(duration) if duration else None,
    )


def _interlaced(scan_type: object) -> bool:
    return str(scan_type or "").upper().startswith("INTERLACE")


def _audio(track: dict[str, Any]) -> AudioStreamInfo:
    props = track.get("AudioProperties") or {}
    duration = track.get("Duration")
    return AudioStreamInfo(
        index=int(track.get("Index") or 0),
        codec=_codec(track),
        channels=int(props.get("Channels") or 0),
        sample_rate=int(props.get("SampleRate") or 0),
        bit_rate=props.get("BitRate"),
        language=props.get("LanguageCode"),
        duration=float(duration) if duration else None,
    )
