"""DASH MPD text edits that keep FFmpeg's layout: folding a representation's last segment
into the one before it in its SegmentTimeline, and adding WebVTT text AdaptationSets. Pure:
text in, text out."""

from __future__ import annotations

import re
from xml.sax.saxutils import escape

from pydantic import BaseModel

from primevod.core.labels import clean_label
from primevod.core.language import bcp47

_S = re.compile(r"<S\b([^>]*)/>")
_ATTR = re.compile(r'\b([tdr])="(-?\d+)"')


def _expand(timeline: str) -> list[tuple[int, int]]:
    """(start, duration) of every segment an `S` list describes."""
    out: list[tuple[int, int]] = []
    t = 0
    for match in _S.finditer(timeline):
        attrs = {k: int(v) for k, v in _ATTR.findall(match.group(1))}
        t = attrs.get("t", t)
        for _ in range(attrs.get("r", 0) + 1):
            out.append((t, attrs["d"]))
            t += attrs["d"]
    return out


def _render(segments: list[tuple[int, int]], indent: str) -> str:
    """`S` elements, equal consecutive durations folded into `r` repeats."""
    lines: list[str] = []
    i = 0
    while i < len(segments):
        start, duration = segments[i]
        repeats = 0
        while i + repeats + 1 < len(segments) and segments[i + repeats + 1][1] == duration:
            repeats += 1
        t = f't="{start}" ' if i == 0 else ""
        r = f' r="{repeats}"' if repeats else ""
        lines.append(f'{indent}<S {t}d="{duration}"{r} />')
        i += repeats + 1
    return "\n".join(lines)


def fold_last_segment(mpd_text: str, representation_id: str) -> str:
    """The MPD with the representation's last two timeline segments made one (the sum of
    their durations). Raises ValueError when the representation has no timeline of two or
    more segments."""
    rep = re.search(
        rf'<Representation\b[^>]*\bid="{re.escape(representation_id)}"[^>]*>.*?</Representation>',
        mpd_text,
        re.S,
    )
    timeline = (
        re.search(r"(<SegmentTimeline>\s*)(.*?)(\s*</SegmentTimeline>)", rep.group(0), re.S)
        if rep
        else None
    )
    if rep is None or timeline is None:
        raise ValueError(f"representation {representation_id} has no SegmentTimeline")
    segments = _expand(timeline.group(2))
    if len(segments) < 2:
        raise ValueError(f"representation {representation_id} has fewer than two segments")
    (start, first), (_, second) = segments[-2], segments[-1]
    segments[-2:] = [(start, first + second)]
    indent = re.search(r"[ \t]*$", timeline.group(1)).group(0)  # type: ignore[union-attr]
    body = _render(segments, indent).lstrip()
    new_rep = rep.group(0)[: timeline.start(2)] + body + rep.group(0)[timeline.end(2) :]
    return mpd_text[: rep.start()] + new_rep + mpd_text[rep.end() :]


class TextSet(BaseModel):
    """A WebVTT subtitle track as a DASH text AdaptationSet: one whole-file representation."""

    representation_id: str
    language: str
    label: str
    url: str
    bandwidth: int


def _attr(value: str) -> str:
    """Text for a double-quoted XML attribute (`escape` alone leaves `"` as it is)."""
    return escape(value, {'"': "&quot;"})


def add_text_sets(mpd_text: str, tracks: list[TextSet]) -> str:
    """The MPD with a text AdaptationSet (`mimeType="text/vtt"`, `lang`, a subtitle Role)
    per track, appended to the (single) Period; ids follow the existing sets'. `lang` is a
    whole RFC 5646 tag (else `und`) and the Label one clean line (core/labels), as in HLS."""
    if not tracks:
        return mpd_text
    ids = [int(i) for i in re.findall(r'<AdaptationSet\b[^>]*\bid="(\d+)"', mpd_text)]
    next_id = max(ids, default=-1) + 1
    closing = mpd_text.rfind("</Period>")
    if closing < 0:
        raise ValueError("the MPD has no Period")
    indent = "\t\t"
    sets = []
    for n, track in enumerate(tracks):
        language = bcp47(track.language) or "und"
        label = clean_label(track.label) or language
        sets.append(
            f'{indent}<AdaptationSet id="{next_id + n}" contentType="text" mimeType="text/vtt" '
            f'lang="{language}">\n'
            f'{indent}\t<Role schemeIdUri="urn:mpeg:dash:role:2011" value="subtitle" />\n'
            f"{indent}\t<Label>{escape(label)}</Label>\n"
            f'{indent}\t<Representation id="{_attr(track.representation_id)}" '
            f'bandwidth="{track.bandwidth}">\n'
            f"{indent}\t\t<BaseURL>{escape(track.url)}</BaseURL>\n"
            f"{indent}\t</Representation>\n"
            f"{indent}</AdaptationSet>\n"
        )
    line_start = mpd_text.rfind("\n", 0, closing) + 1
    return mpd_text[:line_start] + "".join(sets) + mpd_text[line_start:]


_AUDIO_SET = re.compile(r'(<AdaptationSet\b[^>]*\bcontentType="audio"[^>]*)(>)')


def prefer_first_audio(mpd_text: str) -> str:
    """With several audio AdaptationSets (languages), the first is the default: it gets the
    highest @selectionPriority and a `main` Role, the others `alternate` (players otherwise
    pick a language by bitrate)."""
    count = len(_AUDIO_SET.findall(mpd_text))
    if count < 2:
        return mpd_text
    seen = 0

    def mark(match: re.Match[str]) -> str:
        nonlocal seen
        first = seen == 0
        seen += 1
        priority = 2 if first else 1
        role = "main" if first else "alternate"
        indent = re.search(r"\n([ \t]*)$", mpd_text[: match.start()])
        pad = (indent.group(1) if indent else "") + "\t"
        return (
            f'{match.group(1)} selectionPriority="{priority}">\n'
            f'{pad}<Role schemeIdUri="urn:mpeg:dash:role:2011" value="{role}" />'
        )

    return _AUDIO_SET.sub(mark, mpd_text)
