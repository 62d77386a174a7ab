"""The DASH MPD: it parses, is static, and every segment its SegmentTemplates reference
(expanded over their SegmentTimeline) exists."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from urllib.parse import urljoin

from primevod.adapters.media.fetcher import Fetcher
from primevod.core.outputs import ValidationReport

MPD_NS = "{urn:mpeg:dash:schema:mpd:2011}"


def validate_dash(
    mpd_uri: str, fetcher: Fetcher, report: ValidationReport | None = None
) -> ValidationReport:
    """The MPD parses, is static, and every segment it references exists."""
    report = report or ValidationReport()
    root = read_mpd(report, mpd_uri, fetcher)
    if root is not None:
        check_mpd(report, mpd_uri, root, fetcher)
    return report


def read_mpd(report: ValidationReport, mpd_uri: str, fetcher: Fetcher) -> ET.Element | None:
    """The parsed MPD; None, reported as mpd.parse, when it cannot be read or parsed."""
    try:
        return ET.fromstring(fetcher.read(mpd_uri))
    except (OSError, ET.ParseError) as exc:
        report.add("mpd.parse", mpd_uri, False, f"cannot parse: {exc}")
        return None


def check_mpd(report: ValidationReport, mpd_uri: str, root: ET.Element, fetcher: Fetcher) -> None:
    report.add("mpd.parse", mpd_uri, root.tag == f"{MPD_NS}MPD", "parsed")
    report.add(
        "mpd.static",
        mpd_uri,
        root.get("type", "static") == "static",
        f"type={root.get('type', 'static')}",
    )
    missing: list[str] = []
    total = 0
    reps = 0
    for aset in root.iter(f"{MPD_NS}AdaptationSet"):
        aset_template = aset.find(f"{MPD_NS}SegmentTemplate")
        for rep in aset.iter(f"{MPD_NS}Representation"):
            reps += 1
            template = rep.find(f"{MPD_NS}SegmentTemplate")
            if template is None:
                template = aset_template
            base_url = rep.find(f"{MPD_NS}BaseURL")
            if template is None and base_url is not None and base_url.text:
                total += 1  # a whole-file representation (WebVTT subtitles)
                try:
                    fetcher.size(urljoin(mpd_uri, base_url.text.strip()))
                except OSError:
                    missing.append(base_url.text.strip())
                continue
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


def _expand(
    pattern: str, rep: ET.Element, number: int | None = None, time: int | None = None
) -> str:
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
    timeline = template.find(f"{MPD_NS}SegmentTimeline")
    if media and timeline is not None:
        number = int(template.get("startNumber", "1"))
        t = 0
        for s in timeline.findall(f"{MPD_NS}S"):
            if s.get("t") is not None:
                t = int(s.get("t", "0"))
            d = int(s.get("d", "0"))
            for _ in range(int(s.get("r", "0")) + 1):
                files.append(_expand(media, rep, number=number, time=t))
                number += 1
                t += d
    return files
