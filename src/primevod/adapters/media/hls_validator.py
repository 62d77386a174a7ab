"""The HLS master playlist and its variants: the attributes every variant must declare,
audio groups, and whether the declared codecs, resolution and bandwidths match what the
media playlists' own files say. The media playlists are checked by media_playlist_checks."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urljoin

from primevod.adapters.media.fetcher import Fetcher
from primevod.adapters.media.media_playlist_checks import (
    DECODE_SAMPLES,
    MediaStats,
    check_media_playlist,
    check_version,
)
from primevod.adapters.media.track_checks import check_hls_tracks
from primevod.core.hls import parse_attributes
from primevod.core.outputs import ValidationReport

DEFAULT_TOLERANCE = 0.10
PARALLEL_PLAYLISTS = 8  # media playlists checked at once
_VIDEO_CODECS = ("avc1", "avc3", "hvc1", "hev1", "av01", "vp09")
_AUDIO_CODECS = ("mp4a", "ac-3", "ec-3", "opus", "fLaC")


@dataclass
class _Variant:
    """One EXT-X-STREAM-INF, with what its attributes say about it read once: both the
    choice of checks for its media playlist and the rules on the variant depend on it."""

    attrs: dict[str, str]
    uri: str  # resolved against the master's URI
    codecs: list[str]
    has_video: bool


def _variant(master_uri: str, attrs: dict[str, str], uri: str) -> _Variant:
    codecs = [c.strip() for c in attrs.get("CODECS", "").split(",") if c.strip()]
    has_video = "RESOLUTION" in attrs or any(c.startswith(_VIDEO_CODECS) for c in codecs)
    return _Variant(attrs, urljoin(master_uri, uri), codecs, has_video)


def _master_entries(text: str) -> tuple[list[tuple[dict[str, str], str]], list[dict[str, str]]]:
    variants: list[tuple[dict[str, str], str]] = []
    media: list[dict[str, str]] = []
    pending: dict[str, str] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#EXT-X-STREAM-INF:"):
            pending = parse_attributes(line.split(":", 1)[1])
        elif line.startswith("#EXT-X-MEDIA:"):
            media.append(parse_attributes(line.split(":", 1)[1]))
        elif line and not line.startswith("#") and pending is not None:
            variants.append((pending, line))
            pending = None
    return variants, media


def validate_hls(
    master_uri: str,
    fetcher: Fetcher,
    report: ValidationReport | None = None,
    *,
    sample_segments: int | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    decode_samples: int = DECODE_SAMPLES,
) -> ValidationReport:
    """Check a master playlist, its media playlists and (a sample of) their segments
    (`decode_samples` of each decoded; 0: none, the keyframe rule from the fragment
    headers only, as where no decoder is at hand)."""
    report = report or ValidationReport()
    master_text = _read_master(report, master_uri, fetcher)
    if master_text is None:
        return report
    entries, media = _master_entries(master_text)
    variants = [_variant(master_uri, attrs, uri) for attrs, uri in entries]
    report.add(
        "master.variants",
        master_uri,
        bool(variants),
        f"{len(variants)} variant(s)" if variants else "no EXT-X-STREAM-INF",
    )
    check_version(report, master_uri, master_text)
    groups = _audio_groups(report, master_uri, media)
    kinds = _playlist_kinds(master_uri, media, variants)
    measured = _check_media_playlists(report, kinds, fetcher, sample_segments, decode_samples)
    for variant in variants:
        _check_variant(report, master_uri, variant, groups, measured, tolerance)
    check_hls_tracks(report, master_uri, master_text, fetcher, sample_segments)
    return report


def _read_master(report: ValidationReport, master_uri: str, fetcher: Fetcher) -> str | None:
    try:
        master_text = fetcher.read(master_uri).decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        report.add("master.reachable", master_uri, False, f"cannot read: {exc}")
        return None
    if not master_text.startswith("#EXTM3U"):
        report.add("master.parse", master_uri, False, "does not start with #EXTM3U")
        return None
    return master_text


def _audio_groups(
    report: ValidationReport, master_uri: str, media: list[dict[str, str]]
) -> dict[str, list[dict[str, str]]]:
    """The EXT-X-MEDIA entries by GROUP-ID; each audio rendition must declare CHANNELS."""
    groups: dict[str, list[dict[str, str]]] = {}
    for m in media:
        groups.setdefault(m.get("GROUP-ID", ""), []).append(m)
        if m.get("TYPE") == "AUDIO":
            report.add(
                "audio.channels",
                urljoin(master_uri, m["URI"]) if m.get("URI") else master_uri,
                "CHANNELS" in m,
                "CHANNELS present" if "CHANNELS" in m else "EXT-X-MEDIA without CHANNELS",
            )
    return groups


def _playlist_kinds(
    master_uri: str, media: list[dict[str, str]], variants: list[_Variant]
) -> dict[str, str]:
    """Each media playlist once, in master order, with the kind of stream it is checked as."""
    kinds: dict[str, str] = {}
    for m in media:
        if m.get("URI") and m.get("TYPE") != "SUBTITLES":  # WebVTT: track_checks
            kinds.setdefault(urljoin(master_uri, m["URI"]), m.get("TYPE", "AUDIO").lower())
    for variant in variants:
        kinds.setdefault(variant.uri, "video" if variant.has_video else "audio")
    return kinds


def _check_media_playlists(
    report: ValidationReport,
    kinds: dict[str, str],
    fetcher: Fetcher,
    sample_segments: int | None,
    decode_samples: int = DECODE_SAMPLES,
) -> dict[str, MediaStats | None]:
    """Every media playlist is checked at once (files or HTTP, demux and decode release the
    GIL); each check writes its own report, merged in master order so output is stable."""

    def check(uri: str, kind: str) -> tuple[MediaStats | None, ValidationReport]:
        own_report = ValidationReport()
        stats = check_media_playlist(
            uri, kind, fetcher, own_report, sample_segments, decode_samples
        )
        return stats, own_report

    measured: dict[str, MediaStats | None] = {}
    with ThreadPoolExecutor(max_workers=min(PARALLEL_PLAYLISTS, len(kinds) or 1)) as pool:
        futures = {uri: pool.submit(check, uri, kind) for uri, kind in kinds.items()}
        for uri, future in futures.items():
            stats, part = future.result()
            measured[uri] = stats
            for r in part.results:
                report.add(r.rule, r.target, r.passed, r.message, r.severity)
    return measured


def _check_variant(
    report: ValidationReport,
    master_uri: str,
    variant: _Variant,
    groups: dict[str, list[dict[str, str]]],
    measured: dict[str, MediaStats | None],
    tolerance: float,
) -> None:
    well_formed = _check_attributes(report, variant)
    audio_stats = _check_audio_group(report, master_uri, variant, groups, measured)
    own = measured.get(variant.uri)
    if own is None:
        return
    _check_stream(report, variant, own)
    # rates are only comparable with integers declared and the audio rendition measured
    if audio_stats is None or not well_formed:
        return
    _check_bandwidths(
        report,
        variant.uri,
        variant.attrs,
        own.average + audio_stats.average,
        own.peak + audio_stats.peak,
        tolerance,
    )


def _check_attributes(report: ValidationReport, variant: _Variant) -> bool:
    """False when a bandwidth the variant declares is not an integer."""
    attrs = variant.attrs
    required = ["BANDWIDTH", "AVERAGE-BANDWIDTH", "CODECS"]
    if variant.has_video:
        required += ["RESOLUTION", "FRAME-RATE"]
    missing = [a for a in required if a not in attrs]
    malformed = [
        a for a in ("BANDWIDTH", "AVERAGE-BANDWIDTH") if a in attrs and _int_attr(attrs, a) is None
    ]
    problems = ([f"missing {', '.join(missing)}"] if missing else []) + (
        [f"{', '.join(malformed)} not an integer"] if malformed else []
    )
    report.add(
        "variant.attributes",
        variant.uri,
        not problems,
        "; ".join(problems) if problems else "all present",
    )
    return not malformed


def _check_audio_group(
    report: ValidationReport,
    master_uri: str,
    variant: _Variant,
    groups: dict[str, list[dict[str, str]]],
    measured: dict[str, MediaStats | None],
) -> MediaStats | None:
    """The rates of the audio a player fetches with this variant (its group's default
    rendition): zero without an audio group, None when that rendition could not be measured."""
    audio_group = variant.attrs.get("AUDIO")
    if audio_group is None:
        return MediaStats()
    members = [m for m in groups.get(audio_group, []) if m.get("TYPE") == "AUDIO"]
    report.add(
        "variant.audio_group",
        variant.uri,
        bool(members),
        f"group {audio_group!r} " + ("defined" if members else "not defined"),
    )
    report.add(
        "variant.audio_codec",
        variant.uri,
        any(c.startswith(_AUDIO_CODECS) for c in variant.codecs),
        f"CODECS {variant.attrs.get('CODECS', '')!r} with AUDIO={audio_group!r}",
    )
    default = next(
        (m for m in members if m.get("DEFAULT") == "YES"), members[0] if members else None
    )
    if default and default.get("URI"):
        return measured.get(urljoin(master_uri, default["URI"]))
    return MediaStats()


def _check_stream(report: ValidationReport, variant: _Variant, own: MediaStats) -> None:
    """The declared video codec and resolution against the ones in the stream."""
    if variant.has_video and own.codec:
        declared_video = next((c for c in variant.codecs if c[:4] == own.codec[:4]), None)
        report.add(
            "variant.codecs",
            variant.uri,
            # RFC 6381 strings compare case-insensitively (HEVC's "B0", H.264's "64001f")
            declared_video is not None and declared_video.lower() == own.codec.lower(),
            f"declared {declared_video or 'none'}, stream is {own.codec}",
        )
    if variant.has_video and own.resolution and "RESOLUTION" in variant.attrs:
        shown = f"{own.resolution[0]}x{own.resolution[1]}"
        report.add(
            "variant.resolution",
            variant.uri,
            variant.attrs["RESOLUTION"] == shown,
            f"declared {variant.attrs['RESOLUTION']}, stream is {shown}",
        )


def _int_attr(attrs: dict[str, str], name: str) -> int | None:
    try:
        return int(attrs[name])
    except (KeyError, ValueError):
        return None


def _within(measured: int, declared: int, tolerance: float) -> bool:
    return declared > 0 and abs(measured - declared) <= declared * tolerance


def _deviation(measured: int, declared: int) -> str:
    if declared <= 0:
        return "declared no rate"
    change = (declared - measured) / measured * 100 if measured else float("inf")
    verb = "overstates" if declared > measured else "understates"
    return f"{verb} the measured rate by {abs(change):.0f} %"


def _check_bandwidths(
    report: ValidationReport,
    target: str,
    attrs: dict[str, str],
    average: int,
    peak: int,
    tolerance: float,
) -> None:
    """Apple's HLS authoring rule, in both directions: the measured peak (RFC 8216 peak
    segment bit rate, audio included) within `tolerance` of BANDWIDTH, the measured average
    within it of AVERAGE-BANDWIDTH; and BANDWIDTH never below AVERAGE-BANDWIDTH."""
    for rule, name, measured in (
        ("bitrate.average", "AVERAGE-BANDWIDTH", average),
        ("bitrate.peak", "BANDWIDTH", peak),
    ):
        if name not in attrs:
            continue
        declared = int(attrs[name])
        ok = _within(measured, declared, tolerance)
        report.add(
            rule,
            target,
            ok,
            f"{name}={declared}, measured {measured} b/s"
            + ("" if ok else f": {_deviation(measured, declared)}"),
        )
    if "BANDWIDTH" in attrs and "AVERAGE-BANDWIDTH" in attrs:
        peak_declared, average_declared = int(attrs["BANDWIDTH"]), int(attrs["AVERAGE-BANDWIDTH"])
        report.add(
            "bitrate.order",
            target,
            peak_declared >= average_declared,
            f"BANDWIDTH={peak_declared}, AVERAGE-BANDWIDTH={average_declared}",
        )
