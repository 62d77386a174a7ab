"""Subtitles: checking sidecar WebVTT/SRT text, reading cues, and writing the WebVTT
renditions of a package (HLS segments on the video's segment grid, each with the
X-TIMESTAMP-MAP hls.js and Safari expect, and one whole file for DASH). Pure: text in,
text out.

Sidecar text comes from users and is untrusted: `check_sidecar` refuses anything too big,
not UTF-8, or not parseable as WebVTT or SRT, naming the line at fault."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from pydantic import BaseModel, Field

from primevod.core.labels import MAX_LABEL, is_clean_label
from primevod.core.language import bcp47, is_language_tag

MAX_SIDECAR_BYTES = 512 * 1024  # a feature film's subtitles are ~100 KiB
MAX_SUBTITLE_TRACKS = 8  # sidecars per asset
# all the sidecars of one asset together: sent inline at upload init, they must fit in one
# request body (api/body_limit admits them at init, JSON escaping included)
MAX_SIDECAR_TOTAL_BYTES = 768 * 1024
MAX_CUES = 20_000
MAX_NAME = MAX_LABEL
SUBTITLE_DIR = "subs"
METADATA_FIELD = "subtitles"  # the asset's metadata entry listing its sidecar files
SUBTITLE_GROUP = "subs"

# the codecs FFmpeg converts to WebVTT; bitmap subtitles (dvd_subtitle, hdmv_pgs_subtitle,
# dvb_subtitle) would need OCR and are skipped
TEXT_SUBTITLE_CODECS = {"mov_text", "subrip", "srt", "webvtt", "ass", "ssa", "text"}

_TIME = r"(?:(\d{1,3}):)?(\d{2}):(\d{2})[.,](\d{3})"
_TIMING = re.compile(rf"^\s*{_TIME}\s+-->\s+{_TIME}(?:\s+.*)?$")


class SubtitleError(ValueError):
    """Sidecar text that is not usable subtitles; `line` is 1-based (0: the file as a whole)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}" if line else message)
        self.line = line
        self.message = message


class Cue(BaseModel):
    start: float
    end: float
    text: str
    settings: str = ""


class SidecarSubtitle(BaseModel):
    """A subtitle file given beside the source (`--subtitles FILE:LANG`, upload `subtitles`)."""

    path: str
    language: str = "und"
    name: str | None = Field(None, description="the menu label (default: the language)")


class SubtitleTrack(BaseModel):
    """One subtitle rendition to package: a WebVTT file (made by FFmpeg) and its labels."""

    language: str = Field(description="RFC 5646 tag, `und` when unknown")
    name: str
    origin: str = Field(description="sidecar or embedded")


def language_tag(value: str | None) -> str:
    """A subtitle's language as RFC 5646 (`und` for none); ValueError for nonsense."""
    if value is None or not value.strip() or value.strip().lower() == "und":
        return "und"
    if not is_language_tag(value):
        raise ValueError(f"{value!r} is not a language tag (like en, fr or pt-BR)")
    return bcp47(value.strip()) or "und"


def check_name(value: str | None, language: str) -> str:
    """A sidecar's menu name as given (default: its language); ValueError when it is not a
    label as manifests carry it (core/labels: one line, no `"`, at most MAX_NAME)."""
    name = (value or "").strip() or default_name(language)
    if not is_clean_label(name, MAX_NAME):
        raise ValueError(
            f"a subtitle name has at most {MAX_NAME} characters, one line and no quotes"
        )
    return name


def check_total(sizes: Sequence[int]) -> None:
    """ValueError when the sidecars of one asset are over MAX_SIDECAR_TOTAL_BYTES together."""
    total = sum(sizes)
    if total > MAX_SIDECAR_TOTAL_BYTES:
        raise ValueError(
            f"the subtitle files are {total} bytes together; at most {MAX_SIDECAR_TOTAL_BYTES}"
            f" ({MAX_SIDECAR_TOTAL_BYTES // 1024} KiB) across all of them"
        )


def default_name(language: str) -> str:
    return language if language != "und" else "Subtitles"


def decode_text(data: bytes) -> str:
    """UTF-8 (a BOM allowed), within the size limit; SubtitleError otherwise."""
    if len(data) > MAX_SIDECAR_BYTES:
        raise SubtitleError(
            0, f"{len(data)} bytes is over the {MAX_SIDECAR_BYTES} byte limit for subtitles"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SubtitleError(line, "not UTF-8 text") from None
    if "\x00" in text:
        raise SubtitleError(text[: text.index("\x00")].count("\n") + 1, "binary data, not text")
    return text


def check_sidecar(data: bytes) -> list[Cue]:
    """The cues of a sidecar file; SubtitleError (with the line) when it is not WebVTT or
    SRT, too big, or holds no cue."""
    cues = parse_cues(decode_text(data))
    if not cues:
        raise SubtitleError(0, "no cue found (expected WebVTT or SRT)")
    return cues


def parse_cues(text: str) -> list[Cue]:
    """WebVTT (a `WEBVTT` header) or SRT cues, in file order."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[0].startswith("\ufeff"):
        lines[0] = lines[0][1:]
    if lines and lines[0].startswith("WEBVTT"):
        if len(lines[0]) > 6 and lines[0][6] not in " \t":
            raise SubtitleError(1, "the header must be `WEBVTT` alone or followed by a space")
        return _parse_blocks(lines, first=1, webvtt=True)
    return _parse_blocks(lines, first=0, webvtt=False)


def _blocks(lines: list[str], first: int) -> list[tuple[int, list[str]]]:
    """(1-based line number of the block's first line, its lines) for each blank-line
    separated block from `first` on."""
    out: list[tuple[int, list[str]]] = []
    current: list[str] = []
    start = 0
    for number, line in enumerate(lines[first:], start=first + 1):
        if line.strip():
            if not current:
                start = number
            current.append(line)
        elif current:
            out.append((start, current))
            current = []
    if current:
        out.append((start, current))
    return out


def _parse_blocks(lines: list[str], first: int, *, webvtt: bool) -> list[Cue]:
    cues: list[Cue] = []
    blocks = _blocks(lines, first)
    if webvtt and blocks and blocks[0][0] == 2:
        blocks = blocks[1:]  # header lines (X-TIMESTAMP-MAP, Kind:, ...) right under WEBVTT
    for start, block in blocks:
        if webvtt and block[0].split(" ", 1)[0].split("\t", 1)[0] in ("NOTE", "STYLE", "REGION"):
            continue
        timing_at = next((i for i, line in enumerate(block[:2]) if "-->" in line), None)
        if timing_at is None:
            what = "a WebVTT cue" if webvtt else "an SRT cue"
            raise SubtitleError(start, f"expected {what} timing line `00:00:01.000 --> ...`")
        if not webvtt and timing_at == 1 and not block[0].strip().isdigit():
            raise SubtitleError(start, "an SRT cue number must be a whole number")
        number = start + timing_at
        cue = _cue(block[timing_at], block[timing_at + 1 :], number)
        cues.append(cue)
        if len(cues) > MAX_CUES:
            raise SubtitleError(number, f"more than {MAX_CUES} cues")
    return cues


def _seconds(groups: Sequence[str | None]) -> float:
    hours, minutes, seconds, millis = (int(g or 0) for g in groups)
    if minutes > 59 or seconds > 59:
        raise ValueError("minutes and seconds are 00..59")
    return hours * 3600 + minutes * 60 + seconds + millis / 1000


def _cue(timing: str, payload: list[str], number: int) -> Cue:
    match = _TIMING.match(timing)
    if match is None:
        raise SubtitleError(number, f"malformed timing {timing.strip()[:60]!r}")
    try:
        start, end = _seconds(match.groups()[:4]), _seconds(match.groups()[4:8])
    except ValueError as exc:
        raise SubtitleError(number, str(exc)) from None
    if end < start:
        raise SubtitleError(number, "the cue ends before it starts")
    for offset, line in enumerate(payload, start=1):
        if "-->" in line:
            raise SubtitleError(number + offset, "`-->` inside a cue's text")
    settings = timing[match.end(8) :].strip() if match.lastindex else ""
    return Cue(start=start, end=end, text="\n".join(payload), settings=settings)


def timestamp(seconds: float) -> str:
    millis = max(0, round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def _render_cues(cues: Sequence[Cue]) -> list[str]:
    out: list[str] = []
    for cue in cues:
        timing = f"{timestamp(cue.start)} --> {timestamp(cue.end)}"
        out += [f"{timing} {cue.settings}".rstrip(), cue.text, ""]
    return out


def render_vtt(cues: Sequence[Cue]) -> str:
    """A whole WebVTT file (the DASH text representation)."""
    return "\n".join(["WEBVTT", "", *_render_cues(cues)])


def timestamp_map(mpegts: int = 0) -> str:
    """Media time `mpegts` (90 kHz) is the cues' time 0: the CMAF segments start at 0."""
    return f"X-TIMESTAMP-MAP=MPEGTS:{mpegts},LOCAL:00:00:00.000"


def segment_vtt(cues: Sequence[Cue], start: float, end: float, mpegts: int = 0) -> str:
    """One HLS WebVTT segment: the cues showing at any time in [start, end)."""
    inside = [c for c in cues if c.start < end and c.end > start]
    return "\n".join(["WEBVTT", timestamp_map(mpegts), "", *_render_cues(inside)])


def segment_bounds(durations: Sequence[float]) -> list[tuple[float, float]]:
    """(start, end) of each segment of a grid given by its segment durations."""
    bounds, t = [], 0.0
    for duration in durations:
        bounds.append((t, t + duration))
        t += duration
    return bounds


def subtitle_playlist(uris: Sequence[str], durations: Sequence[float]) -> str:
    """The HLS media playlist of a WebVTT rendition (the video's segment grid)."""
    target = max(1, math.floor(max(durations, default=1.0) + 0.5))
    out = [
        "#EXTM3U",
        "#EXT-X-VERSION:6",
        f"#EXT-X-TARGETDURATION:{target}",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        "#EXT-X-MEDIA-SEQUENCE:0",
    ]
    for uri, duration in zip(uris, durations, strict=True):
        out += [f"#EXTINF:{duration:.6f},", uri]
    out.append("#EXT-X-ENDLIST")
    return "\n".join(out) + "\n"


def track_folder(number: int) -> str:
    """The folder of the `number`th subtitle track (from 1) under SUBTITLE_DIR: made from
    the number alone, never from a language or a title, which come from the source or the
    user and could name a path anywhere (`en/../../x`)."""
    return f"track-{number}"
