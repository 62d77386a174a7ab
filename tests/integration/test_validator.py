"""The output validator fails on deliberately broken packages and passes on real output."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from primevod.adapters.media.ffmpeg_binary import ffmpeg_exe
from primevod.adapters.media.ffmpeg_command import EncodeOptions
from primevod.adapters.media.package_validator import (
    LocalFetcher,
    validate_dash,
    validate_hls,
    validate_package,
)
from primevod.adapters.media.transcoder import MediaEngine
from primevod.core.policies import get_policy


@pytest.fixture(scope="module")
def package(clip, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("valid") / "pkg"
    MediaEngine(EncodeOptions(preset="ultrafast")).transcode(
        clip("long9s.mp4"), out, get_policy("default"), segment_seconds=2
    )
    return out


@pytest.fixture
def copy(package, tmp_path) -> Path:
    target = tmp_path / "pkg"
    shutil.copytree(package, target)
    return target


def failed_rules(root: Path) -> set[str]:
    return {r.rule for r in validate_package(root).failures}


def edit(path: Path, pattern: str, replacement: str, count: int = 1) -> None:
    text = path.read_text()
    new = re.sub(pattern, replacement, text, count=count)
    assert new != text, pattern
    path.write_text(new)


def test_real_output_passes(package) -> None:
    report = validate_package(package)
    assert report.passed, report.failures
    rules = {r.rule for r in report.results}
    assert {
        "segment.keyframe",
        "bitrate.peak",
        "bitrate.average",
        "variant.attributes",
        "playlist.vod",
        "segment.duration",
        "mpd.segments",
        "playlist.version",
    } <= rules


def test_missing_segment(copy) -> None:
    (copy / "chunk-0-00002.m4s").unlink()
    assert {"segment.reachable", "mpd.segments"} <= failed_rules(copy)


def test_lying_bandwidth(copy) -> None:
    edit(
        copy / "master.m3u8",
        r"BANDWIDTH=(\d+),AVERAGE",
        lambda m: f"BANDWIDTH={int(m.group(1)) * 2},AVERAGE",
    )
    assert failed_rules(copy) == {"bitrate.peak"}


def test_lying_average_bandwidth(copy) -> None:
    edit(
        copy / "master.m3u8",
        r"AVERAGE-BANDWIDTH=(\d+)",
        lambda m: f"AVERAGE-BANDWIDTH={int(m.group(1)) // 2}",
    )
    assert failed_rules(copy) == {"bitrate.average"}


def test_missing_codecs(copy) -> None:
    edit(copy / "master.m3u8", r'CODECS="[^"]*",', "")
    assert "variant.attributes" in failed_rules(copy)


@pytest.mark.parametrize(
    ("pattern", "replacement", "rule"),
    [
        (r'CODECS="avc1\.[0-9a-f]+', 'CODECS="avc1.640033', "variant.codecs"),
        (r"RESOLUTION=\d+x\d+", "RESOLUTION=1920x1080", "variant.resolution"),
        (r',mp4a\.40\.2"', '"', "variant.audio_codec"),
        (r"BANDWIDTH=\d+,AVERAGE", "BANDWIDTH=x,AVERAGE", "variant.attributes"),
    ],
)
def test_declared_attributes_must_match_the_stream(copy, pattern, replacement, rule) -> None:
    edit(copy / "master.m3u8", pattern, replacement)
    assert rule in failed_rules(copy)


@pytest.mark.parametrize(
    ("pattern", "replacement", "rule"),
    [
        (r"#EXTINF:[\d.]+,", "#EXTINF:abc,", "playlist.parse"),
        (r"#EXT-X-TARGETDURATION:\d+", "#EXT-X-TARGETDURATION:3.0", "playlist.parse"),
        (r"#EXT-X-VERSION:\d+", "#EXT-X-VERSION:six", "playlist.parse"),
    ],
)
def test_malformed_playlists_fail_a_rule_not_the_validator(
    copy, pattern, replacement, rule
) -> None:
    edit(copy / "media_0.m3u8", pattern, replacement)
    assert rule in failed_rules(copy)


def test_mpd_must_describe_the_same_renditions(copy) -> None:
    edit(copy / "manifest.mpd", r"<Representation id=\"1\"[\s\S]*?</Representation>", "")
    assert "mpd.matches_hls" in failed_rules(copy)


def test_undefined_audio_group(copy) -> None:
    edit(copy / "master.m3u8", r'AUDIO="[^"]*"', 'AUDIO="nope"')
    assert "variant.audio_group" in failed_rules(copy)


def test_segment_longer_than_target(copy) -> None:
    edit(copy / "media_0.m3u8", r"#EXTINF:[\d.]+,", "#EXTINF:3.000,")
    assert "segment.duration" in failed_rules(copy)


def test_version_too_low(copy) -> None:
    edit(copy / "media_0.m3u8", r"#EXT-X-VERSION:\d+", "#EXT-X-VERSION:3")
    assert failed_rules(copy) == {"playlist.version"}


def test_not_vod(copy) -> None:
    edit(copy / "media_0.m3u8", r"#EXT-X-PLAYLIST-TYPE:VOD\n", "")
    assert failed_rules(copy) == {"playlist.vod"}


def test_program_date_time_is_a_warning(copy) -> None:
    edit(
        copy / "media_0.m3u8",
        r"(#EXTINF:[\d.]+,)",
        r"\1\n#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:00.000+0000",
    )
    report = validate_package(copy)
    assert report.passed
    assert any(r.rule == "playlist.no_program_date_time" and not r.passed for r in report.results)


def test_garbage_segment(copy) -> None:
    seg = copy / "chunk-0-00002.m4s"
    seg.write_bytes(b"\x00" * seg.stat().st_size)
    assert "segment.decodable" in failed_rules(copy)


def test_segment_not_starting_with_keyframe(clip, tmp_path) -> None:
    """HLS cut by time, not at keyframes (10 s GOP, 1 s segments)."""
    out = tmp_path / "bad"
    out.mkdir()
    subprocess.run(
        [
            ffmpeg_exe(),
            "-v",
            "error",
            "-y",
            "-i",
            str(clip("long9s.mp4")),
            "-an",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-g",
            "250",
            "-sc_threshold",
            "0",
            "-f",
            "hls",
            "-hls_time",
            "1",
            "-hls_segment_type",
            "fmp4",
            "-hls_flags",
            "split_by_time",
            "-hls_playlist_type",
            "vod",
            str(out / "v.m3u8"),
        ],
        check=True,
    )
    (out / "master.m3u8").write_text(
        "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-STREAM-INF:BANDWIDTH=1000000,"
        'AVERAGE-BANDWIDTH=900000,CODECS="avc1.42c00d",RESOLUTION=320x180,FRAME-RATE=25\n'
        "v.m3u8\n"
    )
    report = validate_hls("master.m3u8", LocalFetcher(out))
    bad = [r for r in report.failures if r.rule == "segment.keyframe"]
    assert bad and "not starting with a keyframe" in bad[0].message


def test_sampled_segment_checks(package) -> None:
    report = validate_hls("master.m3u8", LocalFetcher(package), sample_segments=2)
    keyframe = next(r for r in report.results if r.rule == "segment.keyframe")
    assert keyframe.passed and keyframe.message == "2 checked"


def test_unparsable_mpd_and_master(copy) -> None:
    (copy / "manifest.mpd").write_text("<MPD")
    (copy / "master.m3u8").write_text("hello")
    report = validate_hls("master.m3u8", LocalFetcher(copy))
    validate_dash("manifest.mpd", LocalFetcher(copy), report)
    assert {r.rule for r in report.failures} == {"master.parse", "mpd.parse"}


def test_fetcher_refuses_paths_outside_the_package(copy) -> None:
    with pytest.raises(FileNotFoundError):
        LocalFetcher(copy).read("../../etc/passwd")
