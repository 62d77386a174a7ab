"""A source's language tags and stream titles, and the names users give sidecars, are
untrusted: none of them may name a path, add a playlist line or break the MPD's XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from primevod.adapters.media.subtitle_tracks import SubtitleSet, write_renditions
from primevod.core.dash import TextSet, add_text_sets
from primevod.core.hls import AudioMedia, SubtitleMedia, Variant, parse_attributes, render_master
from primevod.core.labels import MAX_LABEL, clean_label
from primevod.core.language import bcp47
from primevod.core.subtitles import Cue, SubtitleTrack, check_name, language_tag, track_folder

TRAVERSAL = "en-/../../../pwn"
INJECTED = 'Evil\n#EXT-X-STREAM-INF:BANDWIDTH=1\nhttp://evil.example/x.m3u8\n"'
HOSTILE_TAGS = [
    TRAVERSAL,
    "en/../x",
    "en-",
    'fr",URI="x',
    "en\n#EXTM3U",
    "e",
    "engl",
    "en-" + "a" * 40,
    "en-toolongsubtag",
    "../../etc",
]
MPD = """<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011">
\t<Period id="0">
\t\t<AdaptationSet id="0" contentType="video">
\t\t</AdaptationSet>
\t</Period>
</MPD>
"""


@pytest.mark.parametrize("tag", HOSTILE_TAGS)
def test_only_a_whole_well_formed_tag_is_a_language(tag: str) -> None:
    assert bcp47(tag) is None
    with pytest.raises(ValueError, match="not a language tag"):
        language_tag(tag)


def test_good_tags_still_become_rfc5646() -> None:
    assert (
        bcp47("eng") == "en" and bcp47("pt_BR") == "pt-br" and bcp47("zh-Hant-TW") == "zh-hant-tw"
    )
    assert bcp47("haw") == "haw" and bcp47("und") is None


def test_a_label_is_one_line_without_quotes_and_capped() -> None:
    assert clean_label(INJECTED) == "Evil #EXT-X-STREAM-INF:BANDWIDTH=1 http://evil.example/x.m3u8"
    assert clean_label("a\u2028b\u0085c\x1cd\x00e") == "a b c d e"
    assert clean_label("x" * 200) == "x" * MAX_LABEL
    assert clean_label('\n"\r') == "" and clean_label(None) == ""
    assert clean_label("Français (SDH)") == "Français (SDH)"


@pytest.mark.parametrize("name", ["a\nb", 'say "hi"', "a\u2028b", "tab\there", "x" * 65])
def test_a_sidecar_name_that_is_not_a_label_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="one line and no quotes"):
        check_name(name, "en")


def test_subtitle_folders_are_numbered_never_named() -> None:
    assert [track_folder(n) for n in (1, 2, 10)] == ["track-1", "track-2", "track-10"]


def test_hostile_tracks_are_written_inside_the_package_only(tmp_path: Path) -> None:
    package = tmp_path / "deep" / "pkg"
    package.mkdir(parents=True)
    cues = [Cue(start=0.0, end=1.0, text="hi")]
    found = SubtitleSet(
        tracks=[
            (SubtitleTrack(language=TRAVERSAL, name=INJECTED, origin="embedded"), cues),
            (SubtitleTrack(language="../../x", name="b", origin="sidecar"), cues),
        ]
    )
    outputs = write_renditions(package, None, 2.0, found)
    assert [o.playlist for o in outputs] == ["subs/track-1/index.m3u8", "subs/track-2/index.m3u8"]
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert all(p.startswith("deep/pkg/subs/track-") for p in written), written
    assert len(written) == 2 * 3  # a segment, the playlist and the whole file per track


def test_the_master_never_carries_an_injected_line_or_a_bad_language() -> None:
    variant = Variant(
        uri="v.m3u8",
        bandwidth=1000,
        average_bandwidth=900,
        codecs="avc1.64001f,mp4a.40.2",
        audio_group="aac",
        subtitles_group="subs",
    )
    audio = [
        AudioMedia(group_id="aac", name=INJECTED, uri="a.m3u8", channels=2, language=TRAVERSAL)
    ]
    subs = [SubtitleMedia(group_id="subs", name=INJECTED, uri="s.m3u8", language='fr",URI="x')]
    text = render_master([variant], audio, subs)
    lines = text.splitlines()
    assert [line for line in lines if line and not line.startswith("#")] == ["v.m3u8"]
    assert sum(line.startswith("#EXT-X-STREAM-INF") for line in lines) == 1
    media = [parse_attributes(x.split(":", 1)[1]) for x in lines if x.startswith("#EXT-X-MEDIA:")]
    assert [(m["LANGUAGE"], m["URI"]) for m in media] == [("und", "a.m3u8"), ("und", "s.m3u8")]
    assert all(m["NAME"] == clean_label(INJECTED) for m in media)


def test_a_nameless_track_is_named_by_its_language() -> None:
    subs = [SubtitleMedia(group_id="subs", name='\n"', uri="s.m3u8", language="fr")]
    text = render_master(
        [Variant(uri="v.m3u8", bandwidth=1, average_bandwidth=1, codecs="a")], [], subs
    )
    assert 'NAME="fr",LANGUAGE="fr"' in text


def test_the_mpd_text_sets_escape_and_clean_what_they_carry() -> None:
    track = TextSet(
        representation_id='text_"1',
        language='fr" onload="x',
        label=INJECTED + "</Label><evil/>",
        url="subs/track-1/full.vtt",
        bandwidth=10,
    )
    root = ET.fromstring(add_text_sets(MPD, [track]))  # still well-formed XML
    ns = "{urn:mpeg:dash:schema:mpd:2011}"
    text_set = next(s for s in root.iter(f"{ns}AdaptationSet") if s.get("contentType") == "text")
    assert text_set.get("lang") == "und" and "onload" not in text_set.attrib
    label = text_set.find(f"{ns}Label")
    assert label is not None and "\n" not in (label.text or "") and not list(label)
    assert text_set.find(f"{ns}Representation").get("id") == 'text_"1'
    assert root.find(f".//{ns}evil") is None
