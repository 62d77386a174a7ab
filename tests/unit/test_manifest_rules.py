"""Pure playlist rules, source rules, H.264 levels and the storyboard text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from primevod.core.errors import MediaError
from primevod.core.h264 import avc_codec_string_from_avcc, h264_level
from primevod.core.hls import (
    AudioMedia,
    Segment,
    Variant,
    fold_last_segment,
    has_runt_tail,
    measure_bitrates,
    parse_media_playlist,
    peak_segment_bitrate,
    render_master,
    required_version,
    rewrite_media_playlist,
    target_duration,
)
from primevod.core.probe import AudioStreamInfo, ProbeResult, VideoStreamInfo
from primevod.core.source_rules import SourceLimits, check_source, limits_for
from primevod.core.thumbnails import plan_thumbnails, storyboard_vtt

MUXER_PLAYLIST = """#EXTM3U
#EXT-X-VERSION:6
#EXT-X-TARGETDURATION:4
#EXT-X-MEDIA-SEQUENCE:1
#EXT-X-MAP:URI="init-0.m4s"
#EXTINF:4.000000,
#EXT-X-PROGRAM-DATE-TIME:2026-11-24T12:30:47.000+0000
chunk-0-00001.m4s
#EXTINF:4.480000,
#EXT-X-PROGRAM-DATE-TIME:2026-11-24T12:30:51.000+0000
chunk-0-00002.m4s
#EXTINF:1.000000,
chunk-0-00003.m4s
#EXT-X-ENDLIST
"""


def test_rewrite_media_playlist_for_vod() -> None:
    text = rewrite_media_playlist(MUXER_PLAYLIST)
    assert "PROGRAM-DATE-TIME" not in text
    info = parse_media_playlist(text)
    assert info.playlist_type == "VOD" and info.endlist and info.independent_segments
    assert info.target_duration == 4  # 4.48 rounds to 4
    assert [s.uri for s in info.segments] == [f"chunk-0-0000{i}.m4s" for i in (1, 2, 3)]
    assert [s.duration for s in info.segments] == [4.0, 4.48, 1.0]
    assert info.map_uri == "init-0.m4s"
    assert text.count("#EXT-X-ENDLIST") == 1
    assert rewrite_media_playlist(text) == text  # idempotent


def test_target_duration_rounds_to_nearest() -> None:
    assert target_duration([Segment(uri="a", duration=4.5)]) == 5
    assert target_duration([Segment(uri="a", duration=4.49)]) == 4
    assert target_duration([Segment(uri="a", duration=0.2)]) == 1


def test_measure_bitrates_average_and_peak() -> None:
    segs = [
        Segment(uri="1", duration=4, size=500_000),
        Segment(uri="2", duration=4, size=1_000_000),
        Segment(uri="3", duration=0.5, size=200_000),
    ]
    average, peak = measure_bitrates(segs)
    assert average == round((1_700_000 * 8) / 8.5)
    # RFC 8216 4.1: sets of 2 to 6 s (target 4): the 0.5 s tail counts only with segment 2
    assert peak == round(1_200_000 * 8 / 4.5)
    assert measure_bitrates([Segment(uri="x", duration=0.5, size=100)]) == (1600, 1600)
    assert measure_bitrates([]) == (0, 0)


def test_peak_is_the_heaviest_window_of_about_one_target_duration() -> None:
    # 1 s segments; target 2: sets of 1 to 3 s, the heaviest second alone is the peak
    segs = [Segment(uri=str(i), duration=1.0, size=s) for i, s in enumerate([10, 10, 90, 70, 10])]
    assert peak_segment_bitrate(segs, 2) == 90 * 8
    # target 4: sets of 2 to 6 s, the two heavy seconds together
    assert peak_segment_bitrate(segs, 4) == round((90 + 70) * 8 / 2)
    # no set is long enough: the whole title's rate
    assert peak_segment_bitrate([Segment(uri="a", duration=1.0, size=100)], 6) == 800


@given(
    st.lists(st.tuples(st.floats(0.02, 6.0), st.integers(0, 5_000_000)), min_size=1, max_size=30)
)
def test_peak_never_below_average(pairs: list[tuple[float, int]]) -> None:
    segs = [Segment(uri=str(i), duration=d, size=s) for i, (d, s) in enumerate(pairs)]
    average, peak = measure_bitrates(segs)
    assert peak >= average


def test_runt_tail_is_folded_into_the_segment_before() -> None:
    info = parse_media_playlist(MUXER_PLAYLIST)
    assert has_runt_tail(info.segments, 4.0)  # 1.0 s < half of 4 s
    assert not has_runt_tail(info.segments, 2.0)
    assert not has_runt_tail(info.segments[:1], 4.0)  # a one-segment title keeps its length
    folded = parse_media_playlist(fold_last_segment(MUXER_PLAYLIST))
    assert [s.uri for s in folded.segments] == ["chunk-0-00001.m4s", "chunk-0-00002.m4s"]
    assert [s.duration for s in folded.segments] == [4.0, 5.48]
    assert folded.endlist and folded.map_uri == "init-0.m4s"
    with pytest.raises(ValueError):
        fold_last_segment("#EXTM3U\n#EXTINF:4.0,\na.m4s\n")


def test_required_version() -> None:
    assert required_version("#EXTM3U\n#EXTINF:4,\na.ts\n") == 1
    assert required_version("#EXTM3U\n#EXTINF:4.000,\na.ts\n") == 3
    assert required_version(MUXER_PLAYLIST) == 6


def test_render_master_orders_variants_and_declares_audio() -> None:
    text = render_master(
        [
            Variant(
                uri="hi.m3u8",
                bandwidth=3_000_000,
                average_bandwidth=2_500_000,
                codecs="avc1.64001f,mp4a.40.2",
                resolution=(1280, 720),
                frame_rate=25,
                audio_group="aac-128k",
            ),
            Variant(
                uri="lo.m3u8",
                bandwidth=300_000,
                average_bandwidth=250_000,
                codecs="avc1.4d400d,mp4a.40.2",
                resolution=(416, 234),
                frame_rate=25,
                audio_group="aac-128k",
            ),
        ],
        [AudioMedia(group_id="aac-128k", name="Audio", uri="a.m3u8", channels=2, language="en")],
    )
    lines = text.splitlines()
    assert lines[0] == "#EXTM3U" and "#EXT-X-VERSION:6" in lines
    assert text.index("lo.m3u8") < text.index("hi.m3u8")
    assert (
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aac-128k",NAME="Audio",LANGUAGE="en",'
        'DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="a.m3u8"'
    ) in lines
    assert (
        "#EXT-X-STREAM-INF:BANDWIDTH=300000,AVERAGE-BANDWIDTH=250000,"
        'CODECS="avc1.4d400d,mp4a.40.2",RESOLUTION=416x234,FRAME-RATE=25.000,'
        'AUDIO="aac-128k"'
    ) in lines


def test_h264_levels() -> None:
    assert h264_level(1920, 1080, 30, 7000, "high") == "4"
    assert h264_level(1920, 1080, 60, 8500, "high") == "4.2"
    assert h264_level(1280, 720, 30, 4000, "high") == "3.1"
    assert h264_level(416, 234, 25, 145, "main") == "1.3"
    assert h264_level(416, 234, 25, 400, "main", buffer_kbits=3000) == "2.1"
    assert h264_level(3840, 2160, 30, 20000, "high") == "5.1"
    assert h264_level(176, 144, 15, 64, "main") == "1"
    assert h264_level(176, 144, 30, 64, "main") == "1.1"
    assert avc_codec_string_from_avcc(bytes([1, 0x64, 0x00, 0x1F, 0xFF])) == "avc1.64001f"
    assert avc_codec_string_from_avcc(b"\x00") is None


def _probe(**video) -> ProbeResult:
    base = dict(index=0, codec="h264", width=1280, height=720, frame_rate=25.0)
    base.update(video)
    return ProbeResult(
        path="x", format_name="mp4", size=10, duration=10.0, video=[VideoStreamInfo(**base)]
    )


@pytest.mark.parametrize(
    ("probe", "code"),
    [
        (_probe(width=8, height=8), "source.dimensions"),
        (_probe(width=20000, height=720), "source.dimensions"),
        (_probe(frame_rate=None), "source.frame_rate"),
        (_probe(frame_rate=1000.0), "source.frame_rate"),
        (ProbeResult(path="x", format_name="mp4", size=10, duration=10.0), "source.no_streams"),
    ],
)
def test_source_rules_reject(probe: ProbeResult, code: str) -> None:
    with pytest.raises(MediaError) as info:
        check_source(probe)
    assert info.value.code == code
    assert info.value.permanent
    assert "\n" not in info.value.message


def test_source_rules_duration() -> None:
    for duration in (None, 0.0, 0.01):
        probe = _probe()
        probe.duration = duration
        with pytest.raises(MediaError) as info:
            check_source(probe)
        assert info.value.code == "source.duration"
    probe = _probe()
    probe.duration = 13 * 3600.0
    with pytest.raises(MediaError) as info:
        check_source(probe)
    assert info.value.code == "source.too_long" and "limit is 43200 s" in info.value.message


def test_the_dev_profile_takes_sources_of_30_seconds_at_most() -> None:
    probe = _probe()
    probe.duration = 30.05  # a container a few milliseconds past its streams
    check_source(probe, limits_for("dev"))
    probe.duration = 31.0
    with pytest.raises(MediaError) as info:
        check_source(probe, limits_for("dev"))
    assert info.value.code == "source.too_long"
    assert info.value.message == "the source runs 31.0 s; the dev profile's limit is 30 s"
    check_source(probe, limits_for("default"))


def test_audio_only_policy_switch() -> None:
    probe = ProbeResult(
        path="x",
        format_name="mp4",
        size=10,
        duration=10.0,
        audio=[AudioStreamInfo(index=0, codec="aac", channels=2, sample_rate=48000)],
    )
    check_source(probe)  # accepted by default
    with pytest.raises(MediaError) as info:
        check_source(probe, SourceLimits(allow_audio_only=False))
    assert info.value.code == "source.no_video"


def test_storyboard_vtt_points_into_sprites() -> None:
    plan = plan_thumbnails((1280, 720), 61.0, interval=2)
    assert (plan.tile_width, plan.tile_height) == (160, 90)
    text = storyboard_vtt(plan, count=31, duration=61.0)
    lines = text.splitlines()
    assert lines[0] == "WEBVTT"
    cues = [line for line in lines if "#xywh=" in line]
    assert len(cues) == 31
    assert cues[0] == "sprite_001.jpg#xywh=0,0,160,90"
    assert cues[6] == "sprite_001.jpg#xywh=160,90,160,90"
    assert cues[25] == "sprite_002.jpg#xywh=0,0,160,90"
    assert "00:01:00.000 --> 00:01:01.000" in lines
    portrait = plan_thumbnails((720, 1280), 10.0)
    assert portrait.tile_height == 160 and portrait.tile_width == 90


def test_language_tags_become_rfc5646() -> None:
    from primevod.core.language import bcp47

    assert bcp47("eng") == "en" and bcp47("fre") == "fr" and bcp47("fra") == "fr"
    assert bcp47("ger") == "de" and bcp47("pt-BR") == "pt-br"
    assert bcp47("und") is None and bcp47(None) is None and bcp47("x1") is None
    assert bcp47("haw") == "haw"  # no two-letter code: the three-letter one is valid
