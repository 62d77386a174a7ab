"""Output validation: parse what was written (or what an origin serves) and check the HLS
authoring rules that matter and the DASH MPD's segment references. Used after every encode
and by the canary. Reading goes through a Fetcher so the same checks run on files and URLs."""

from __future__ import annotations

import io
import posixpath
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urljoin

import av
import av.error

from primevod.core.fmp4 import first_sample_is_sync, trex_default_flags
from primevod.core.h264 import avc_codec_string_from_avcc
from primevod.core.hls import (
    Segment,
    measure_bitrates,
    parse_attributes,
    parse_media_playlist,
    required_version,
)
from primevod.core.outputs import ValidationReport

DEFAULT_TOLERANCE = 0.10
DECODE_SAMPLES = 3  # segments per playlist decoded (first, last and between); all are demuxed
PARALLEL_PLAYLISTS = 8  # media playlists checked at once
_VIDEO_CODECS = ("avc1", "avc3", "hvc1", "hev1", "av01", "vp09")


class Fetcher(Protocol):
    def read(self, uri: str) -> bytes: ...

    def size(self, uri: str) -> int: ...


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
    root: Path, master: str = "master.m3u8", manifest: str = "manifest.mpd"
) -> ValidationReport:
    fetcher = LocalFetcher(root)
    report = validate_hls(master, fetcher)
    validate_dash(manifest, fetcher, report)
    # one set of segments behind both manifests: the MPD names each HLS media playlist's
    # representation (media_N.m3u8 <-> Representation id N)
    try:
        root_el = ET.fromstring(fetcher.read(manifest))
        rep_ids = {r.get("id") for r in root_el.iter(f"{_NS}Representation")}
        playlists = {p.name[len("media_") : -len(".m3u8")] for p in root.glob("media_*.m3u8")}
        report.add(
            "mpd.matches_hls",
            manifest,
            rep_ids == playlists,
            f"MPD representations {sorted(rep_ids)}, HLS media playlists {sorted(playlists)}",
        )
    except (OSError, ET.ParseError):
        pass  # already reported by mpd.parse
    return report


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


def _within(measured: int, declared: int, tolerance: float) -> bool:
    return declared > 0 and abs(measured - declared) <= declared * tolerance


@dataclass
class MediaStats:
    """What a media playlist's own files say: measured rates and the coded stream."""

    average: int = 0
    peak: int = 0
    codec: str | None = None  # RFC 6381 string read from the init segment
    resolution: tuple[int, int] | None = None


def _int_attr(attrs: dict[str, str], name: str) -> int | None:
    try:
        return int(attrs[name])
    except (KeyError, ValueError):
        return None


def validate_hls(
    master_uri: str,
    fetcher: Fetcher,
    report: ValidationReport | None = None,
    *,
    sample_segments: int | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
) -> ValidationReport:
    """Check a master playlist, its media playlists and (a sample of) their segments."""
    report = report or ValidationReport()
    try:
        master_text = fetcher.read(master_uri).decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        report.add("master.reachable", master_uri, False, f"cannot read: {exc}")
        return report
    if not master_text.startswith("#EXTM3U"):
        report.add("master.parse", master_uri, False, "does not start with #EXTM3U")
        return report
    variants, media = _master_entries(master_text)
    report.add(
        "master.variants",
        master_uri,
        bool(variants),
        f"{len(variants)} variant(s)" if variants else "no EXT-X-STREAM-INF",
    )
    _check_version(report, master_uri, master_text)

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

    # Every media playlist is checked at once (files or HTTP, demux and decode release the
    # GIL); each check writes its own report, merged in master order so output is stable.
    wanted: dict[str, str] = {}
    for m in media:
        if m.get("URI"):
            wanted.setdefault(urljoin(master_uri, m["URI"]), m.get("TYPE", "AUDIO").lower())
    for attrs, uri in variants:
        codecs = [c.strip() for c in attrs.get("CODECS", "").split(",") if c.strip()]
        has_video = "RESOLUTION" in attrs or any(c.startswith(_VIDEO_CODECS) for c in codecs)
        wanted.setdefault(urljoin(master_uri, uri), "video" if has_video else "audio")

    def check(uri: str, kind: str) -> tuple[MediaStats | None, ValidationReport]:
        own_report = ValidationReport()
        return _check_media_playlist(uri, kind, fetcher, own_report, sample_segments), own_report

    measured: dict[str, MediaStats | None] = {}
    with ThreadPoolExecutor(max_workers=min(PARALLEL_PLAYLISTS, len(wanted) or 1)) as pool:
        futures = {uri: pool.submit(check, uri, kind) for uri, kind in wanted.items()}
        for uri, future in futures.items():
            stats, part = future.result()
            measured[uri] = stats
            for r in part.results:
                report.add(r.rule, r.target, r.passed, r.message, r.severity)

    for attrs, uri in variants:
        target = urljoin(master_uri, uri)
        codecs = [c.strip() for c in attrs.get("CODECS", "").split(",") if c.strip()]
        has_video = "RESOLUTION" in attrs or any(c.startswith(_VIDEO_CODECS) for c in codecs)
        required = ["BANDWIDTH", "AVERAGE-BANDWIDTH", "CODECS"]
        if has_video:
            required += ["RESOLUTION", "FRAME-RATE"]
        missing = [a for a in required if a not in attrs]
        malformed = [
            a
            for a in ("BANDWIDTH", "AVERAGE-BANDWIDTH")
            if a in attrs and _int_attr(attrs, a) is None
        ]
        problems = ([f"missing {', '.join(missing)}"] if missing else []) + (
            [f"{', '.join(malformed)} not an integer"] if malformed else []
        )
        report.add(
            "variant.attributes",
            target,
            not problems,
            "; ".join(problems) if problems else "all present",
        )

        audio_group = attrs.get("AUDIO")
        audio_stats: MediaStats | None = MediaStats()
        if audio_group is not None:
            members = [m for m in groups.get(audio_group, []) if m.get("TYPE") == "AUDIO"]
            report.add(
                "variant.audio_group",
                target,
                bool(members),
                f"group {audio_group!r} " + ("defined" if members else "not defined"),
            )
            report.add(
                "variant.audio_codec",
                target,
                any(c.startswith(("mp4a", "ac-3", "ec-3", "opus", "fLaC")) for c in codecs),
                f"CODECS {attrs.get('CODECS', '')!r} with AUDIO={audio_group!r}",
            )
            default = next(
                (m for m in members if m.get("DEFAULT") == "YES"), members[0] if members else None
            )
            audio_stats = (
                measured.get(urljoin(master_uri, default["URI"]))
                if default and default.get("URI")
                else MediaStats()
            )
        own = measured.get(target)
        if own is None:
            continue
        if has_video and own.codec:
            declared_video = next((c for c in codecs if c[:4] == own.codec[:4]), None)
            report.add(
                "variant.codecs",
                target,
                declared_video is not None and declared_video.lower() == own.codec,
                f"declared {declared_video or 'none'}, stream is {own.codec}",
            )
        if has_video and own.resolution and "RESOLUTION" in attrs:
            shown = f"{own.resolution[0]}x{own.resolution[1]}"
            report.add(
                "variant.resolution",
                target,
                attrs["RESOLUTION"] == shown,
                f"declared {attrs['RESOLUTION']}, stream is {shown}",
            )
        if audio_stats is None or malformed:
            continue
        _check_bandwidths(
            report,
            target,
            attrs,
            own.average + audio_stats.average,
            own.peak + audio_stats.peak,
            tolerance,
        )
    return report


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


def _check_version(report: ValidationReport, uri: str, text: str) -> None:
    declared = None
    for line in text.splitlines():
        if line.startswith("#EXT-X-VERSION:"):
            try:
                declared = int(line.split(":", 1)[1])
            except ValueError:
                report.add("playlist.version", uri, False, f"unreadable {line.strip()!r}")
                return
    needed = required_version(text)
    ok = (declared or 1) >= needed
    report.add(
        "playlist.version", uri, ok, f"EXT-X-VERSION {declared or 'absent (1)'}, tags need {needed}"
    )


def _check_media_playlist(
    uri: str,
    kind: str,
    fetcher: Fetcher,
    report: ValidationReport,
    sample_segments: int | None,
) -> MediaStats | None:
    try:
        text = fetcher.read(uri).decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        report.add("playlist.reachable", uri, False, f"cannot read: {exc}")
        return None
    try:
        info = parse_media_playlist(text)
    except ValueError as exc:
        report.add("playlist.parse", uri, False, f"malformed playlist: {exc}")
        return None
    _check_version(report, uri, text)
    report.add(
        "playlist.vod",
        uri,
        info.playlist_type == "VOD" and info.endlist,
        f"PLAYLIST-TYPE {info.playlist_type or 'absent'}, "
        f"ENDLIST {'present' if info.endlist else 'absent'}",
    )
    report.add(
        "playlist.no_program_date_time",
        uri,
        not info.has_program_date_time,
        "wall-clock PROGRAM-DATE-TIME in a VOD playlist" if info.has_program_date_time else "none",
        severity="warning",
    )
    if not info.segments:
        report.add("playlist.segments", uri, False, "no segments")
        return None
    target = info.target_duration or 0
    longest = max(s.duration for s in info.segments)
    report.add(
        "segment.duration",
        uri,
        longest <= target + 0.5,
        f"longest EXTINF {longest:.3f}s, TARGETDURATION {target}",
    )

    sized: list[Segment] = []
    unreachable: list[str] = []
    reason = ""  # the first failure's own words (a local error, or an HTTP status)
    for seg in info.segments:
        seg_uri = urljoin(uri, seg.uri)
        try:
            sized.append(Segment(uri=seg_uri, duration=seg.duration, size=fetcher.size(seg_uri)))
        except OSError as exc:
            unreachable.append(seg.uri)
            reason = reason or f" ({exc.strerror or exc})"
    report.add(
        "segment.reachable",
        uri,
        not unreachable,
        f"missing: {', '.join(unreachable[:5])}{reason}"
        if unreachable
        else f"{len(sized)} segment(s)",
    )

    init = b""
    if info.map_uri:
        try:
            init = fetcher.read(urljoin(uri, info.map_uri))
        except OSError as exc:
            report.add("segment.init", uri, False, f"init segment unreadable: {exc}")
            return None
    stats = MediaStats()
    picks = sized if sample_segments is None else _spread(sized, sample_segments)
    # every picked segment is demuxed (keyframe rule); a spread of them is also decoded
    to_decode = {id(s) for s in _spread(picks, DECODE_SAMPLES)}
    bad_key: list[str] = []
    undecodable: list[str] = []
    default_flags = trex_default_flags(init) if init else None
    for seg in picks:
        try:
            data = fetcher.read(seg.uri)
        except OSError:
            continue
        sync = first_sample_is_sync(data, default_flags)
        if id(seg) in to_decode or sync is None:
            probe = _first_packet(init + data, kind, decode=id(seg) in to_decode)
        else:  # the fragment header answers the keyframe rule without a decoder
            probe = _SegmentProbe(keyframe=sync, decoded=True)
        if stats.codec is None:
            stats.codec, stats.resolution = probe.codec, probe.resolution
        if kind == "video" and probe.decoded is not None and not probe.keyframe:
            bad_key.append(posixpath.basename(seg.uri))  # no decode without its reference
        elif not probe.decoded:
            undecodable.append(posixpath.basename(seg.uri))
    report.add(
        "segment.decodable",
        uri,
        not undecodable,
        f"cannot decode: {', '.join(undecodable[:5])}"
        if undecodable
        else f"{len(picks)} read, {len(to_decode)} decoded",
    )
    if kind == "video":
        report.add(
            "segment.keyframe",
            uri,
            not bad_key,
            f"not starting with a keyframe: {', '.join(bad_key[:5])}"
            if bad_key
            else f"{len(picks)} checked",
        )
    if unreachable:
        return None
    stats.average, stats.peak = measure_bitrates(sized, info.target_duration)
    return stats


def _spread(items: list[Segment], count: int) -> list[Segment]:
    if count <= 0 or len(items) <= count:
        return items
    step = (len(items) - 1) / max(1, count - 1)
    return [items[round(i * step)] for i in range(count)]


@dataclass
class _SegmentProbe:
    keyframe: bool = False
    decoded: bool | None = None  # None: the bytes do not even demux
    codec: str | None = None
    resolution: tuple[int, int] | None = None


def _first_packet(data: bytes, kind: str, *, decode: bool = True) -> _SegmentProbe:
    """Whether an init + media segment pair starts with a keyframe and (when `decode`)
    decodes, and the codec string and picture size it carries."""
    result = _SegmentProbe()
    try:
        with av.open(io.BytesIO(data), mode="r", format="mp4") as container:
            streams = container.streams.video if kind == "video" else container.streams.audio
            if not streams:
                return result
            stream = streams[0]
            ctx = stream.codec_context
            ctx.thread_count = 1  # one frame per segment: threads cost more than they give
            if kind == "video":
                result.codec = avc_codec_string_from_avcc(bytes(ctx.extradata or b""))
                result.resolution = (ctx.width, ctx.height)
            first = True
            for packet in container.demux(stream):
                if packet.size == 0:
                    continue
                if first:
                    result.keyframe = bool(packet.is_keyframe)
                    first = False
                    if not decode:
                        result.decoded = True  # demuxed; not asked to decode
                        return result
                for _ in packet.decode():
                    result.decoded = True
                    return result
            if first:
                return result
            # a short last segment may hold fewer packets than the decoder's delay: flush
            frames = any(True for _ in ctx.decode(None))
            # a tail audio packet can decode to zero samples (encoder padding trimmed):
            # for audio, packets that decode without error are enough
            result.decoded = frames or kind != "video"
            return result
    except (av.error.FFmpegError, ValueError):
        return result


_NS = "{urn:mpeg:dash:schema:mpd:2011}"


def validate_dash(
    mpd_uri: str, fetcher: Fetcher, report: ValidationReport | None = None
) -> ValidationReport:
    """The MPD parses, is static, and every segment it references exists."""
    report = report or ValidationReport()
    try:
        root = ET.fromstring(fetcher.read(mpd_uri))
    except (OSError, ET.ParseError) as exc:
        report.add("mpd.parse", mpd_uri, False, f"cannot parse: {exc}")
        return report
    report.add("mpd.parse", mpd_uri, root.tag == f"{_NS}MPD", "parsed")
    report.add(
        "mpd.static",
        mpd_uri,
        root.get("type", "static") == "static",
        f"type={root.get('type', 'static')}",
    )
    missing: list[str] = []
    total = 0
    reps = 0
    for aset in root.iter(f"{_NS}AdaptationSet"):
        aset_template = aset.find(f"{_NS}SegmentTemplate")
        for rep in aset.iter(f"{_NS}Representation"):
            reps += 1
            template = rep.find(f"{_NS}SegmentTemplate")
            if template is None:
                template = aset_template
            if template is None:
                missing.append(f"representation {rep.get('id')}: no SegmentTemplate")
                continue
            for name in _template_files(template, rep):
                total += 1
                try:
                    fetcher.size(urljoin(mpd_uri, name))
                except OSError:
                    missing.append(name)
    report.add("mpd.representations", mpd_uri, reps > 0, f"{reps} representation(s)")
    report.add(
        "mpd.segments",
        mpd_uri,
        not missing,
        f"missing: {', '.join(missing[:5])}" if missing else f"{total} referenced file(s) present",
    )
    return report


def _expand(
    pattern: str, rep: ET.Element, number: int | None = None, time: int | None = None
) -> str:
    import re

    def sub(match: re.Match[str]) -> str:
        name, fmt = match.group(1), match.group(2)
        value: object
        if name == "RepresentationID":
            return rep.get("id", "")
        if name == "Bandwidth":
            value = int(rep.get("bandwidth", "0"))
        elif name == "Number":
            value = number
        elif name == "Time":
            value = time
        else:
            return match.group(0)
        return (fmt % value) if fmt else str(value)

    return re.sub(r"\$(RepresentationID|Number|Time|Bandwidth)(%0\d+d)?\$", sub, pattern)


def _template_files(template: ET.Element, rep: ET.Element) -> list[str]:
    files = []
    init = template.get("initialization")
    if init:
        files.append(_expand(init, rep))
    media = template.get("media")
    timeline = template.find(f"{_NS}SegmentTimeline")
    if media and timeline is not None:
        number = int(template.get("startNumber", "1"))
        t = 0
        for s in timeline.findall(f"{_NS}S"):
            if s.get("t") is not None:
                t = int(s.get("t", "0"))
            d = int(s.get("d", "0"))
            for _ in range(int(s.get("r", "0")) + 1):
                files.append(_expand(media, rep, number=number, time=t))
                number += 1
                t += d
    return files
