"""DASH MPD text edits that keep FFmpeg's layout: folding a representation's last segment
into the one before it in its SegmentTimeline. Pure: text in, text out."""

from __future__ import annotations

import re

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
