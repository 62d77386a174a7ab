"""The pure rules of captions, audio languages and I-frame playlists: reading sidecar
WebVTT/SRT (and refusing bad ones with their line), segmenting WebVTT on the video grid,
the master playlist's and the MPD's new entries, the ladder's audio per language."""

from __future__ import annotations

import struct

import pytest

from primevod.core.dash import TextSet, add_text_sets
from primevod.core.fmp4 import fragments, media_timescale
from primevod.core.hls import (
    AudioMedia,
    IFrame,
    IFrameVariant,
    SubtitleMedia,
    Variant,
    parse_attributes,
    parse_media_playlist,
    render_iframe_playlist,
    render_master,
    without_iframe_variants,
)
from primevod.core.ladder import plan_ladder
from primevod.core.layout import is_sidecar_key, sidecar_key
from primevod.core.policies import get_policy
from primevod.core.probe import AudioStreamInfo, ProbeResult, VideoStreamInfo
from primevod.core.subtitles import (
    MAX_SIDECAR_BYTES,
    Cue,
    SubtitleError,
    check_sidecar,
    language_tag,
    parse_cues,
    segment_bounds,
    segment_vtt,
    subtitle_playlist,
)

VTT = (
    "WEBVTT - a title\nKind: captions\n\nNOTE a comment\n\n"
    "intro\n00:01.000 --> 00:02.500 line:0\nHi\nthere\n\n"
    "00:00:03.000 --> 00:00:04.000\nBye\n"
)
SRT = "1\n00:00:01,000 --> 00:00:02,500\nHi\n\n2\n00:00:03,000 --> 00:00:04,000\n<i>Bye</i>\n"


def test_webvtt_cues_are_read_with_their_settings() -> None:
    cues = parse_cues(VTT)
    assert [(c.start, c.end, c.text) for c in cues] == [(1.0, 2.5, "Hi\nthere"), (3.0, 4.0, "Bye")]
    assert cues[0].settings == "line:0"


def test_srt_cues_are_read_and_a_bom_and_crlf_are_fine() -> None:
    data = ("\ufeff" + SRT.replace("\n", "\r\n")).encode("utf-8")
    assert [(c.start, c.end, c.text) for c in check_sidecar(data)] == [
        (1.0, 2.5, "Hi"),
        (3.0, 4.0, "<i>Bye</i>"),
    ]


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (
            "1\n00:00:01,000 --> 00:00:02,000\nok\n\n2\n00:00:03,000 -> 00:00:04,000\nx\n",
            5,
            "timing",
        ),
        ("WEBVTT\n\n00:00:05.000 --> 00:00:04.000\nbackwards\n", 3, "ends before"),
        ("WEBVTT\n\njust some words\nwithout timing\n", 3, "timing line"),
        ("WEBVTTX\n\n00:01.000 --> 00:02.000\nx\n", 1, "header"),
        ("WEBVTT\n\n00:01.000 --> 00:02.000\nx --> y\n", 4, "-->"),
        ("1\n00:00:01,000 --> 00:00:61,000\nbad seconds\n", 2, "59"),
        ("x\n00:00:01,000 --> 00:00:02,000\nnot numbered\n", 1, "number"),
    ],
)
def test_a_malformed_file_is_refused_with_its_line(text: str, line: int, words: str) -> None:
    with pytest.raises(SubtitleError) as caught:
        check_sidecar(text.encode("utf-8"))
    assert caught.value.line == line
    assert words in str(caught.value)


def test_sidecar_limits_size_encoding_and_emptiness() -> None:
    with pytest.raises(SubtitleError, match="byte limit"):
        check_sidecar(b"WEBVTT\n\n" + b"x" * MAX_SIDECAR_BYTES)
    with pytest.raises(SubtitleError, match="line 2: not UTF-8"):
        check_sidecar(b"WEBVTT\n\xff\xfe")
    with pytest.raises(SubtitleError, match="binary"):
        check_sidecar(b"WEBVTT\n\n\x00\x01")
    with pytest.raises(SubtitleError, match="no cue"):
        check_sidecar(b"WEBVTT\n\n")
    with pytest.raises(SubtitleError, match="no cue"):
        check_sidecar(b"")


def test_language_tags_are_rfc5646_or_refused() -> None:
    assert language_tag("eng") == "en"
    assert language_tag("pt-BR") == "pt-br"
    assert language_tag(None) == language_tag("") == language_tag("und") == "und"
    with pytest.raises(ValueError, match="not a language tag"):
        language_tag('en" ,URI="x')


def test_webvtt_segments_hold_the_cues_showing_in_them() -> None:
    cues = [Cue(start=1.0, end=2.5, text="a"), Cue(start=3.5, end=4.5, text="b")]
    bounds = segment_bounds([2.0, 2.0, 1.0])
    assert bounds == [(0.0, 2.0), (2.0, 4.0), (4.0, 5.0)]
    texts = [segment_vtt(cues, start, end) for start, end in bounds]
    assert all(t.startswith("WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n") for t in texts)
    assert "00:00:01.000 --> 00:00:02.500\na" in texts[0] and "b" not in texts[0]
    assert "\na\n" in texts[1] and "00:00:03.500 --> 00:00:04.500\nb" in texts[1]
    assert "\nb\n" in texts[2] and "\na\n" not in texts[2]
    assert parse_cues(texts[1])[1].start == 3.5  # a segment reads back as WebVTT
    playlist = parse_media_playlist(subtitle_playlist(["1.vtt", "2.vtt", "3.vtt"], [2.0, 2.0, 1.0]))
    assert playlist.endlist and playlist.target_duration == 2
    assert [s.duration for s in playlist.segments] == [2.0, 2.0, 1.0]


def test_the_master_lists_languages_subtitles_and_iframe_variants() -> None:
    audio = [
        AudioMedia(group_id="aac-128k", name="en", uri="a_en.m3u8", channels=2, language="en"),
        AudioMedia(
            group_id="aac-128k",
            name="fr",
            uri="a_fr.m3u8",
            channels=2,
            language="fr",
            default=False,
        ),
    ]
    subs = [SubtitleMedia(group_id="subs", name="English", uri="subs/en/index.m3u8", language="en")]
    variant = Variant(
        uri="v.m3u8",
        bandwidth=1000,
        average_bandwidth=900,
        codecs="avc1.64001f,mp4a.40.2",
        resolution=(1280, 720),
        audio_group="aac-128k",
        subtitles_group="subs",
    )
    iframe = IFrameVariant(
        uri="iframes_0.m3u8",
        bandwidth=90,
        average_bandwidth=50,
        codecs="avc1.64001f",
        resolution=(1280, 720),
    )
    text = render_master([variant], audio, subs, [iframe])
    lines = text.splitlines()
    media = [parse_attributes(x.split(":", 1)[1]) for x in lines if x.startswith("#EXT-X-MEDIA:")]
    assert [(m["TYPE"], m.get("LANGUAGE"), m["DEFAULT"]) for m in media] == [
        ("AUDIO", "en", "YES"),
        ("AUDIO", "fr", "NO"),
        ("SUBTITLES", "en", "NO"),
    ]
    stream = next(x for x in lines if x.startswith("#EXT-X-STREAM-INF:"))
    assert 'AUDIO="aac-128k"' in stream and 'SUBTITLES="subs"' in stream
    frames = parse_attributes(next(x for x in lines if "I-FRAME" in x).split(":", 1)[1])
    assert frames == {
        "BANDWIDTH": "90",
        "AVERAGE-BANDWIDTH": "50",
        "CODECS": "avc1.64001f",
        "RESOLUTION": "1280x720",
        "URI": "iframes_0.m3u8",
    }
    assert "I-FRAME" not in without_iframe_variants(text)
    assert without_iframe_variants(text).count("#EXT-X-STREAM-INF") == 1


def test_an_iframe_playlist_has_byte_ranges_and_the_init_segment() -> None:
    text = render_iframe_playlist(
        "init-0.m4s",
        [
            IFrame(uri="c1.m4s", offset=76, length=5000, duration=4.0),
            IFrame(uri="c2.m4s", offset=76, length=4000, duration=1.5),
        ],
    )
    assert "#EXT-X-I-FRAMES-ONLY" in text and '#EXT-X-MAP:URI="init-0.m4s"' in text
    assert "#EXT-X-BYTERANGE:5000@76\nc1.m4s" in text
    info = parse_media_playlist(text)
    assert info.target_duration == 4 and info.endlist and len(info.segments) == 2


MPD_TEXT = """<MPD xmlns="urn:mpeg:dash:schema:mpd:2011">
\t<Period id="0">
\t\t<AdaptationSet id="0" contentType="video"></AdaptationSet>
\t\t<AdaptationSet id="1" contentType="audio" lang="en"></AdaptationSet>
\t</Period>
</MPD>
"""


def test_text_adaptation_sets_follow_the_existing_ones() -> None:
    import xml.etree.ElementTree as ET

    text = add_text_sets(
        MPD_TEXT,
        [
            TextSet(
                representation_id="text_fr",
                language="fr",
                label="Fr & co",
                url="subs/fr/full.vtt",
                bandwidth=100,
            )
        ],
    )
    ns = "{urn:mpeg:dash:schema:mpd:2011}"
    sets = list(ET.fromstring(text).iter(f"{ns}AdaptationSet"))
    text_set = sets[-1]
    assert (text_set.get("id"), text_set.get("mimeType"), text_set.get("lang")) == (
        "2",
        "text/vtt",
        "fr",
    )
    assert text_set.find(f"{ns}Label").text == "Fr & co"
    assert text_set.find(f"{ns}Representation/{ns}BaseURL").text == "subs/fr/full.vtt"
    assert add_text_sets(MPD_TEXT, []) == MPD_TEXT


def _probe(*languages: str | None) -> ProbeResult:
    return ProbeResult(
        path="x.mp4",
        format_name="mp4",
        size=1,
        duration=10.0,
        video=[
            VideoStreamInfo(
                index=0, codec="h264", width=1280, height=720, frame_rate=25.0, duration=10.0
            )
        ],
        audio=[
            AudioStreamInfo(
                index=i + 1,
                codec="aac",
                channels=2,
                sample_rate=48000,
                language=lang,
                duration=10.0,
            )
            for i, lang in enumerate(languages)
        ],
    )


def test_every_audio_stream_is_a_rendition_at_every_audio_bitrate() -> None:
    ladder = plan_ladder(_probe("eng", None), get_policy("default"))
    rates = sorted({a.bitrate_kbps for a in ladder.audio})
    assert [(a.source_index, a.language) for a in ladder.audio] == [(1, "eng")] * len(rates) + [
        (2, "und")
    ] * len(rates)
    single = plan_ladder(_probe("eng"), get_policy("default"))
    assert all(a.source_index is None and a.language is None for a in single.audio)


def test_sidecar_keys_are_the_only_keys_fetched() -> None:
    key = sidecar_key("0" * 32, 3)
    assert is_sidecar_key(key)
    for other in (
        "uploads/x/source.mp4",
        "subtitles/../uploads/a/b",
        "subtitles/abc/1.txt",
        key + "x",
    ):
        assert not is_sidecar_key(other)


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def _fragment(sync: bool, decode_time: int) -> bytes:
    tfhd = _box(b"tfhd", struct.pack(">I I", 0x020000, 1))  # default-base-is-moof
    tfdt = _box(b"tfdt", struct.pack(">I Q", 0x01000000, decode_time))
    flags = 0 if sync else 0x00010000
    samples = struct.pack(">III", 512, 100, flags) + struct.pack(">III", 512, 50, 0x00010000)

    def moof(offset: int) -> bytes:
        trun = _box(b"trun", struct.pack(">I I i", 0x000701, 2, offset) + samples)
        return _box(b"moof", _box(b"traf", tfhd + tfdt + trun))

    size = len(moof(0))
    return moof(size + 8) + _box(b"mdat", b"k" * 100 + b"p" * 50)


def test_fragments_say_where_each_keyframe_ends() -> None:
    data = _box(b"styp", b"msdh") + _fragment(True, 0) + _fragment(False, 1024)
    found = fragments(data)
    assert [(f.starts_with_sync, f.decode_time, f.duration) for f in found] == [
        (True, 0, 1024),
        (False, 1024, 1024),
    ]
    first = found[0]
    assert data[first.offset + 4 : first.offset + 8] == b"moof"
    assert data[first.first_sample_end - 100 : first.first_sample_end] == b"k" * 100
    mdhd = _box(b"mdhd", struct.pack(">I I I I I", 0, 0, 0, 12800, 0))
    init = _box(b"moov", _box(b"trak", _box(b"mdia", mdhd)))
    assert media_timescale(init) == 12800


def test_the_first_audio_language_is_the_dash_default() -> None:
    from primevod.core.dash import prefer_first_audio

    two = MPD_TEXT.replace(
        "\t</Period>",
        '\t\t<AdaptationSet id="2" contentType="audio" lang="fr"></AdaptationSet>\n\t</Period>',
    )
    text = prefer_first_audio(two)
    assert 'lang="en" selectionPriority="2">' in text and 'lang="fr" selectionPriority="1">' in text
    assert text.count('value="main"') == 1 and text.count('value="alternate"') == 1
    assert prefer_first_audio(MPD_TEXT) == MPD_TEXT  # one language: as FFmpeg wrote it


def test_a_mediaconvert_job_keeps_the_primary_language_and_says_so() -> None:
    from primevod.core.mediaconvert import create_job_request

    job = create_job_request(
        _probe("eng", "fra"),
        get_policy("default"),
        role_arn="arn:aws:iam::123456789012:role/mc",
        input_url="s3://src/in.mp4",
        destination="s3://out/pkg/",
    )
    text = str(job.model_dump())
    assert "only the primary audio language (eng)" in text and "fra" in text
    outputs = job.model_dump()["request"]["Settings"]["OutputGroups"][0]["Outputs"]
    names = [o.get("NameModifier") for o in outputs]
    assert len(names) == len(set(names))  # no audio output twice
