"""Audio languages, subtitles and I-frame playlists through the real encode: a source with
two audio languages and an embedded mov_text stream, plus a WebVTT sidecar, becomes a
package with an audio rendition per language, two WebVTT renditions and I-frame playlists
in both manifests, and the validator checks each of them."""

from __future__ import annotations

import array
import itertools
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from support.segments import first_segment_file
from support.tracks_media import french_sidecar, multi_track_source

from primevod.adapters.media.chunked_encode import encode_chunk, plan_title_chunks
from primevod.adapters.media.chunked_stitch import stitch
from primevod.adapters.media.ffmpeg_binary import ffmpeg_exe
from primevod.adapters.media.ffmpeg_command import EncodeOptions
from primevod.adapters.media.hls_encryption import encrypt_package
from primevod.adapters.media.package_validator import validate_package
from primevod.adapters.media.pyav_probe import probe_file
from primevod.adapters.media.transcoder import MediaEngine
from primevod.core.errors import MediaError
from primevod.core.fmp4 import fragments
from primevod.core.hls import MediaPlaylistInfo, parse_attributes, parse_media_playlist
from primevod.core.ladder import plan_ladder
from primevod.core.outputs import PackageResult
from primevod.core.policies import get_policy
from primevod.core.subtitles import SidecarSubtitle

MPD = "{urn:mpeg:dash:schema:mpd:2011}"
POLICY = get_policy("default")
POLICY = POLICY.model_copy(update={"rungs": POLICY.rungs[:2]})
OPTIONS = EncodeOptions(preset="ultrafast", thumbnails=False)
MONO_PCM = ["-ac", "1", "-ar", "48000", "-f", "s16le", "-"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tracks-media")


@pytest.fixture(scope="module")
def package(folder: Path, tmp_path_factory: pytest.TempPathFactory) -> PackageResult:
    out = tmp_path_factory.mktemp("tracks-out") / "pkg"
    sidecar = SidecarSubtitle(path=str(french_sidecar(folder)), language="fr", name="Français")
    return MediaEngine(OPTIONS).transcode(
        multi_track_source(folder), out, POLICY, segment_seconds=2.0, subtitles=[sidecar]
    )


def tags(package: PackageResult, name: str) -> list[dict[str, str]]:
    """The attributes of each `name` tag of the master playlist, in order."""
    text = (Path(package.output_dir) / package.master).read_text()
    return [
        parse_attributes(line.split(":", 1)[1])
        for line in text.splitlines()
        if line.startswith(f"#{name}:")
    ]


def media(package: PackageResult, kind: str) -> list[dict[str, str]]:
    return [m for m in tags(package, "EXT-X-MEDIA") if m["TYPE"] == kind]


def variant_uris(package: PackageResult) -> list[str]:
    lines = (Path(package.output_dir) / package.master).read_text().splitlines()
    return [lines[i + 1] for i, line in enumerate(lines) if line.startswith("#EXT-X-STREAM-INF")]


def playlist(package: PackageResult, uri: str) -> MediaPlaylistInfo:
    return parse_media_playlist((Path(package.output_dir) / uri).read_text())


def mpd(package: PackageResult) -> ET.Element:
    return ET.parse(Path(package.output_dir) / str(package.manifest)).getroot()


def test_the_probe_lists_every_audio_language_and_the_text_stream(folder: Path) -> None:
    probe = probe_file(multi_track_source(folder))
    assert [a.language for a in probe.audio] == ["eng", "fra"]
    assert [(s.codec, s.language) for s in probe.subtitles] == [("mov_text", "eng")]


def test_each_audio_language_is_a_rendition_in_every_audio_group(package: PackageResult) -> None:
    audio = media(package, "AUDIO")
    groups = {m["GROUP-ID"] for m in audio}
    for group in groups:
        members = [m for m in audio if m["GROUP-ID"] == group]
        assert [m["LANGUAGE"] for m in members] == ["en", "fr"]
        assert [m["DEFAULT"] for m in members] == ["YES", "NO"]
        assert all(m["AUTOSELECT"] == "YES" for m in members)
    for variant in tags(package, "EXT-X-STREAM-INF"):
        assert variant["AUDIO"] in groups
        assert variant["SUBTITLES"] == "subs"
    assert sorted({r.language for r in package.renditions if r.kind == "audio"}) == ["en", "fr"]


def test_the_mpd_has_an_audio_adaptation_set_per_language(package: PackageResult) -> None:
    sets = list(mpd(package).iter(f"{MPD}AdaptationSet"))
    audio = [s.get("lang") for s in sets if s.get("contentType") == "audio"]
    text = [(s.get("lang"), s.get("mimeType")) for s in sets if s.get("contentType") == "text"]
    assert audio == ["en", "fr"]
    assert text == [("en", "text/vtt"), ("fr", "text/vtt")]


def pitch(root: Path, uri: str) -> float:
    """The frequency of a (sine) audio rendition's first segment, from its zero crossings."""
    joined = first_segment_file(root, uri, root / f"probe-{Path(uri).stem}.mp4")
    try:
        raw = subprocess.run(
            [ffmpeg_exe(), "-v", "error", "-i", str(joined), *MONO_PCM],
            check=True,
            capture_output=True,
        ).stdout
    finally:
        joined.unlink()
    samples = array.array("h", raw)[4800:52800]  # a second, past the encoder's priming
    crossings = sum(1 for a, b in itertools.pairwise(samples) if a < 0 <= b)
    return crossings * 48000 / len(samples)


def test_the_two_languages_carry_their_own_sound(package: PackageResult) -> None:
    """English is the 440 Hz stream, French the 880 Hz one: not the same track twice."""
    root = Path(package.output_dir)
    heard = {m["LANGUAGE"]: pitch(root, m["URI"]) for m in media(package, "AUDIO")}
    assert abs(heard["en"] - 440) < 20, heard
    assert abs(heard["fr"] - 880) < 20, heard


def test_embedded_and_sidecar_subtitles_become_webvtt_renditions(package: PackageResult) -> None:
    subs = media(package, "SUBTITLES")
    assert [(m["LANGUAGE"], m["NAME"], m["GROUP-ID"]) for m in subs] == [
        ("en", "en", "subs"),
        ("fr", "Français", "subs"),
    ]
    assert [(s.origin, s.cues) for s in package.subtitles] == [("embedded", 2), ("sidecar", 2)]
    root = Path(package.output_dir)
    first = (root / "subs/track-1/seg_00001.vtt").read_text()
    assert first.startswith("WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n")
    assert "Hello from the embedded track" in first
    french = playlist(package, subs[1]["URI"])
    video = playlist(package, variant_uris(package)[0])
    assert [s.duration for s in french.segments] == pytest.approx(
        [s.duration for s in video.segments], abs=0.001
    )
    assert "Deuxième réplique" in (root / "subs/track-2/full.vtt").read_text()


def test_iframe_playlists_point_at_keyframe_fragments(package: PackageResult) -> None:
    root = Path(package.output_dir)
    lines = [line for line in (root / package.master).read_text().splitlines() if "I-FRAME" in line]
    assert len(lines) == len([r for r in package.renditions if r.kind == "video"]) == 2
    assert all("RESOLUTION=" in line and 'CODECS="avc1' in line for line in lines)
    for name in package.iframe_playlists:
        text = (root / name).read_text()
        assert "#EXT-X-I-FRAMES-ONLY" in text
        ranges = [line.split(":", 1)[1] for line in text.splitlines() if "BYTERANGE" in line]
        info = parse_media_playlist(text)
        assert len(ranges) == len(info.segments) >= 2
        for spec, segment in zip(ranges, info.segments, strict=True):
            length, offset = (int(x) for x in spec.split("@"))
            data = (root / segment.uri).read_bytes()[offset : offset + length]
            assert data[4:8] == b"moof"
            assert fragments(data)[0].starts_with_sync


def test_the_validator_checks_the_new_renditions(package: PackageResult) -> None:
    report = package.validation
    assert report.passed
    rules = {r.rule for r in report.results}
    assert {
        "audio.languages",
        "subtitles.webvtt",
        "subtitles.timestamp_map",
        "subtitles.covers",
        "iframe.keyframes",
        "tracks.audio_languages",
        "tracks.subtitle_languages",
    } <= rules


def test_the_validator_catches_broken_tracks(package: PackageResult, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(package.output_dir, broken)
    iframes = broken / package.iframe_playlists[0]
    iframes.write_text(iframes.read_text().replace("@", "@1", 1))  # off the fragment start
    segment = broken / "subs/track-2/seg_00001.vtt"
    segment.write_text(segment.read_text().replace("X-TIMESTAMP-MAP", "X-NOTHING"))
    text = broken / "manifest.mpd"
    text.write_text(text.read_text().replace('lang="fr"', 'lang="de"', 1))
    failed = {r.rule for r in validate_package(broken).failures}
    assert {"iframe.keyframes", "subtitles.timestamp_map", "tracks.audio_languages"} <= failed


def test_a_bad_sidecar_fails_before_any_encode(folder: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.srt"
    bad.write_text("1\n00:00:01,000 --> 00:00:02,000\nfine\n\n2\n00:00:03,000 -> 00:00:04\nbad\n")
    out = tmp_path / "never"
    with pytest.raises(MediaError) as caught:
        MediaEngine(OPTIONS).transcode(
            multi_track_source(folder),
            out,
            POLICY,
            subtitles=[SidecarSubtitle(path=str(bad), language="de")],
        )
    assert caught.value.code == "source.subtitles_invalid"
    assert "bad.srt: line 5" in caught.value.message
    assert caught.value.permanent
    assert not out.exists()


def test_a_single_audio_track_keeps_the_one_rendition_per_group(clip, tmp_path: Path) -> None:
    result = MediaEngine(OPTIONS).transcode(clip("small.mp4"), tmp_path / "pkg", POLICY)
    audio = media(result, "AUDIO")
    assert len(audio) == len({m["GROUP-ID"] for m in audio})
    assert all(m["NAME"].startswith("Audio ") and m["DEFAULT"] == "YES" for m in audio)
    assert [r.language for r in result.renditions if r.kind == "audio"] == [None] * len(audio)
    video = [r for r in result.renditions if r.kind == "video"]
    assert result.subtitles == [] and len(result.iframe_playlists) == len(video)
    assert result.validation.passed


def test_encrypted_hls_keeps_languages_and_subtitles_but_no_iframes(
    package: PackageResult, tmp_path: Path
) -> None:
    copy = tmp_path / "enc"
    shutil.copytree(package.output_dir, copy)
    sealed = encrypt_package(
        package.model_copy(update={"output_dir": str(copy)}), b"k" * 16, "https://k/1"
    )
    text = (copy / sealed.master).read_text()
    assert "I-FRAME" not in text and sealed.iframe_playlists == []
    assert not list(copy.glob("iframes_*.m3u8"))
    assert text.count("TYPE=AUDIO") == 2 and text.count("TYPE=SUBTITLES") == 2
    assert validate_package(copy, manifest=None).passed


def test_a_chunked_encode_packages_the_same_tracks(folder: Path, tmp_path: Path) -> None:
    source = multi_track_source(folder)
    probe = probe_file(source)
    ladder = plan_ladder(probe, POLICY, segment_seconds=2.0)
    chunks = plan_title_chunks(source, probe, ladder, 4.0)
    assert len(chunks) >= 2
    encoded = [encode_chunk(source, probe, ladder, c, tmp_path / "c", OPTIONS) for c in chunks]
    per_rung = [[Path(e.files[i]) for e in encoded] for i in range(len(ladder.rungs))]
    result = stitch(per_rung, source, probe, ladder, tmp_path / "pkg", options=OPTIONS)
    assert result.validation.passed
    assert [m["LANGUAGE"] for m in media(result, "SUBTITLES")] == ["en"]
    languages = [m["LANGUAGE"] for m in media(result, "AUDIO")]
    assert languages[:2] == ["en", "fr"]
    assert len(result.iframe_playlists) == 2


def test_bitmap_subtitles_are_skipped_with_a_note(folder: Path, tmp_path: Path) -> None:
    from primevod.adapters.media.subtitle_tracks import collect
    from primevod.core.probe import SubtitleStreamInfo

    source = multi_track_source(folder)
    probe = probe_file(source)
    pgs = SubtitleStreamInfo(index=9, codec="hdmv_pgs_subtitle", language="deu")
    found = collect(
        source, probe.model_copy(update={"subtitles": [*probe.subtitles, pgs]}), [], tmp_path
    )
    assert [t.language for t, _ in found.tracks] == ["en"]
    assert found.skipped == [
        "subtitle stream 9 (hdmv_pgs_subtitle): bitmap subtitles are not converted to WebVTT"
    ]
