"""The package's extra tracks: audio languages, WebVTT subtitle renditions and I-frame
playlists. Audio renditions per language must be the same in every HLS audio group and in
the MPD's audio AdaptationSets; every subtitle playlist must parse as WebVTT segments with
an X-TIMESTAMP-MAP and cover the title; every I-frame playlist entry must point at a real
fragment starting with a keyframe."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import urljoin

from primevod.adapters.media.fetcher import Fetcher
from primevod.core.fmp4 import fragments, trex_default_flags
from primevod.core.hls import parse_attributes, parse_media_playlist
from primevod.core.outputs import ValidationReport
from primevod.core.subtitles import SubtitleError, parse_cues

MPD_NS = "{urn:mpeg:dash:schema:mpd:2011}"
COVER_SLACK = 0.5  # seconds a subtitle playlist may fall short of the video


def _media(master_text: str, kind: str) -> list[dict[str, str]]:
    return [
        parse_attributes(line.split(":", 1)[1])
        for line in master_text.splitlines()
        if line.startswith("#EXT-X-MEDIA:") and f"TYPE={kind}" in line
    ]


def check_hls_tracks(
    report: ValidationReport,
    master_uri: str,
    master_text: str,
    fetcher: Fetcher,
    sample: int | None = None,
) -> None:
    """With `sample` (the canary, sampling segments over HTTP) the I-frame playlists are
    checked for their form only: their byte ranges are checked where every segment is read
    anyway, after each encode."""
    _check_audio_groups(report, master_uri, master_text)
    video_seconds = _video_seconds(master_uri, master_text, fetcher)
    for media in _media(master_text, "SUBTITLES"):
        if media.get("URI"):
            _check_subtitle_playlist(
                report, urljoin(master_uri, media["URI"]), fetcher, video_seconds
            )
    groups = {m.get("GROUP-ID") for m in _media(master_text, "SUBTITLES")}
    for line in master_text.splitlines():
        if line.startswith("#EXT-X-STREAM-INF:"):
            wanted = parse_attributes(line.split(":", 1)[1]).get("SUBTITLES")
            if wanted is not None:
                report.add(
                    "variant.subtitles_group",
                    master_uri,
                    wanted in groups,
                    f"SUBTITLES={wanted!r} " + ("defined" if wanted in groups else "not defined"),
                )
        elif line.startswith("#EXT-X-I-FRAME-STREAM-INF:"):
            _check_iframe_variant(
                report, master_uri, parse_attributes(line.split(":", 1)[1]), fetcher, sample
            )


def audio_languages(master_text: str) -> dict[str, list[str]]:
    """Each audio group's LANGUAGEs, in playlist order."""
    groups: dict[str, list[str]] = {}
    for media in _media(master_text, "AUDIO"):
        groups.setdefault(media.get("GROUP-ID", ""), []).append(media.get("LANGUAGE", ""))
    return groups


def _check_audio_groups(report: ValidationReport, master_uri: str, master_text: str) -> None:
    groups = audio_languages(master_text)
    if len(groups) < 2 and all(len(v) < 2 for v in groups.values()):
        return
    sets = {group: sorted(langs) for group, langs in groups.items()}
    first = next(iter(sets.values()), [])
    report.add(
        "audio.languages",
        master_uri,
        all(langs == first for langs in sets.values()),
        f"languages per audio group: {sets}",
    )
    for group, langs in groups.items():
        report.add(
            "audio.language_unique",
            master_uri,
            len(set(langs)) == len(langs),
            f"group {group!r}: {langs}",
            severity="warning",
        )


def _video_seconds(master_uri: str, master_text: str, fetcher: Fetcher) -> float | None:
    lines = master_text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("#EXT-X-STREAM-INF:") and i + 1 < len(lines):
            try:
                text = fetcher.read(urljoin(master_uri, lines[i + 1].strip())).decode("utf-8")
                return sum(s.duration for s in parse_media_playlist(text).segments)
            except (OSError, UnicodeDecodeError, ValueError):
                return None
    return None


def _check_subtitle_playlist(
    report: ValidationReport, uri: str, fetcher: Fetcher, video_seconds: float | None
) -> None:
    try:
        info = parse_media_playlist(fetcher.read(uri).decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        report.add("subtitles.playlist", uri, False, f"cannot read: {exc}")
        return
    problems: list[str] = []
    missing_map: list[str] = []
    cues = 0
    for segment in info.segments:
        try:
            text = fetcher.read(urljoin(uri, segment.uri)).decode("utf-8")
            if not text.startswith("WEBVTT"):
                raise SubtitleError(1, "no WEBVTT header")
            header = text.split("\n\n", 1)[0]
            if "X-TIMESTAMP-MAP=" not in header:
                missing_map.append(segment.uri)
            cues += len(parse_cues(text))
        except (OSError, UnicodeDecodeError, SubtitleError) as exc:
            problems.append(f"{segment.uri}: {exc}")
    report.add(
        "subtitles.webvtt",
        uri,
        bool(info.segments) and not problems,
        "; ".join(problems[:3]) if problems else f"{len(info.segments)} segment(s), {cues} cue(s)",
    )
    report.add(
        "subtitles.timestamp_map",
        uri,
        not missing_map,
        f"without X-TIMESTAMP-MAP: {', '.join(missing_map[:3])}" if missing_map else "present",
    )
    covered = sum(s.duration for s in info.segments)
    if video_seconds is not None:
        report.add(
            "subtitles.covers",
            uri,
            covered >= video_seconds - COVER_SLACK and info.endlist,
            f"{covered:.3f} s of {video_seconds:.3f} s" + ("" if info.endlist else ", no ENDLIST"),
        )


def _check_iframe_variant(
    report: ValidationReport,
    master_uri: str,
    attrs: dict[str, str],
    fetcher: Fetcher,
    sample: int | None,
) -> None:
    missing = [a for a in ("BANDWIDTH", "CODECS", "RESOLUTION", "URI") if a not in attrs]
    target = urljoin(master_uri, attrs.get("URI", "")) if attrs.get("URI") else master_uri
    report.add(
        "iframe.attributes", target, not missing, f"missing {missing}" if missing else "all present"
    )
    if "URI" not in attrs:
        return
    try:
        text = fetcher.read(target).decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        report.add("iframe.playlist", target, False, f"cannot read: {exc}")
        return
    report.add(
        "iframe.playlist",
        target,
        "#EXT-X-I-FRAMES-ONLY" in text and "#EXT-X-ENDLIST" in text,
        "I-frames-only VOD playlist",
    )
    if sample is not None:
        return
    bad = _bad_iframes(target, text, fetcher)
    report.add(
        "iframe.keyframes",
        target,
        not bad,
        "; ".join(bad[:3]) if bad else "every byte range is a fragment starting with a keyframe",
    )


def _bad_iframes(uri: str, text: str, fetcher: Fetcher) -> list[str]:
    info = parse_media_playlist(text)
    defaults = None
    if info.map_uri:
        try:
            defaults = trex_default_flags(fetcher.read(urljoin(uri, info.map_uri)))
        except OSError as exc:
            return [f"init segment: {exc}"]
    ranges = [
        line.split(":", 1)[1] for line in text.splitlines() if line.startswith("#EXT-X-BYTERANGE:")
    ]
    if not ranges or len(ranges) != len(info.segments):
        return ["every entry needs an EXT-X-BYTERANGE"]
    bad: list[str] = []
    cache: dict[str, bytes] = {}
    for spec, segment in zip(ranges, info.segments, strict=True):
        length, _, offset = spec.partition("@")
        try:
            start, size = int(offset or 0), int(length)
            data = cache.get(segment.uri)
            if data is None:
                data = cache[segment.uri] = fetcher.read(urljoin(uri, segment.uri))
        except (OSError, ValueError) as exc:
            bad.append(f"{segment.uri} {spec}: {exc}")
            continue
        piece = data[start : start + size]
        found = fragments(piece, defaults) if len(piece) == size else []
        if not found or not found[0].starts_with_sync or found[0].first_sample_end > size:
            bad.append(f"{segment.uri} {spec}: not a fragment starting with a keyframe")
    return bad


def check_mpd_tracks(
    report: ValidationReport, manifest: str, mpd: ET.Element, master_text: str
) -> None:
    """The MPD's audio and text languages against the HLS master's."""
    hls_audio = sorted({lang for langs in audio_languages(master_text).values() for lang in langs})
    dash_audio = sorted(
        {
            a.get("lang", "")
            for a in mpd.iter(f"{MPD_NS}AdaptationSet")
            if a.get("contentType") == "audio" or (a.get("mimeType") or "").startswith("audio")
        }
    )
    if len(hls_audio) > 1 or len(dash_audio) > 1:
        report.add(
            "tracks.audio_languages",
            manifest,
            hls_audio == dash_audio,
            f"HLS {hls_audio}, DASH {dash_audio}",
        )
    hls_text = sorted(m.get("LANGUAGE", "") for m in _media(master_text, "SUBTITLES"))
    dash_text = sorted(
        a.get("lang", "")
        for a in mpd.iter(f"{MPD_NS}AdaptationSet")
        if a.get("contentType") == "text" or a.get("mimeType") == "text/vtt"
    )
    if hls_text or dash_text:
        report.add(
            "tracks.subtitle_languages",
            manifest,
            hls_text == dash_text,
            f"HLS {hls_text}, DASH {dash_text}",
        )
