"""Multi-codec packages with real encodes: H.264 beside AV1 (libsvtav1) and HEVC (libx265)
in one FFmpeg run and one CMAF package. Every family validates; CODECS come from the init
segments; a tampered CODECS or a segment that does not start with a key frame fails."""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from support.cli import run_cli

from primevod.adapters.media.ffmpeg_binary import ffmpeg_exe
from primevod.adapters.media.ffmpeg_command import EncodeOptions
from primevod.adapters.media.package_validator import validate_package
from primevod.adapters.media.transcoder import MediaEngine
from primevod.core.codec_families import CodecFamily
from primevod.core.codec_strings import av1_codec_string, hevc_codec_string, video_codec_string
from primevod.core.fmp4 import first_sample_is_sync, trex_default_flags, video_sample_entry
from primevod.core.hls import parse_attributes
from primevod.core.ladder import with_codecs
from primevod.core.outputs import PackageResult
from primevod.core.policies import get_policy

MPD = "{urn:mpeg:dash:schema:mpd:2011}"
# SVT-AV1's fastest presets keep the test encodes to a few seconds on two shared cores
OPTIONS = EncodeOptions(preset="ultrafast", av1_preset=12)


def encode(source: Path, out: Path, codecs: str) -> PackageResult:
    policy = with_codecs(get_policy("default"), codecs)
    return MediaEngine(OPTIONS).transcode(source, out, policy, segment_seconds=2)


@pytest.fixture(scope="module")
def av1_package(clip, tmp_path_factory) -> PackageResult:
    return encode(clip("long9s.mp4"), tmp_path_factory.mktemp("av1") / "pkg", "h264,av1")


@pytest.fixture
def copy(av1_package, tmp_path) -> Path:
    target = tmp_path / "pkg"
    shutil.copytree(av1_package.output_dir, target)
    return target


def master_variants(root: Path) -> list[tuple[dict[str, str], str]]:
    lines = (root / "master.m3u8").read_text().splitlines()
    return [
        (parse_attributes(line.split(":", 1)[1]), lines[n + 1])
        for n, line in enumerate(lines)
        if line.startswith("#EXT-X-STREAM-INF:")
    ]


def init_of(root: Path, playlist: str) -> bytes:
    found = re.search(r'#EXT-X-MAP:URI="([^"]+)"', (root / playlist).read_text())
    assert found, playlist
    return (root / found.group(1)).read_bytes()


def segments_of(root: Path, playlist: str) -> list[Path]:
    text = (root / playlist).read_text()
    return [root / line for line in text.splitlines() if line and not line.startswith("#")]


def test_h264_and_av1_families_share_one_package_that_validates(av1_package) -> None:
    root = Path(av1_package.output_dir)
    assert av1_package.validation.passed, av1_package.validation.failures
    assert av1_package.ladder.families == [CodecFamily.H264, CodecFamily.AV1]
    video = [r for r in av1_package.renditions if r.kind == "video"]
    assert {r.family for r in video} == {CodecFamily.H264, CodecFamily.AV1}
    # the same sizes in both families, the same audio and segment grid
    sizes = {
        f: sorted((r.width, r.height) for r in video if r.family == f) for f in ("h264", "av1")
    }
    assert sizes["h264"] == sizes["av1"]
    assert len({r.segments for r in video}) == 1
    # every variant's CODECS is its init segment's own string; both families are listed
    declared = set()
    for attrs, uri in master_variants(root):
        video_codec = attrs["CODECS"].split(",")[0]
        assert video_codec == video_codec_string(init_of(root, uri))
        declared.add(video_codec[:4])
        assert attrs["AUDIO"]  # the one set of audio renditions serves both families
    assert declared == {"avc1", "av01"}
    # every AV1 segment starts with a key frame (from the fragment headers)
    for r in video:
        init = init_of(root, r.playlist)
        flags = trex_default_flags(init)
        for segment in segments_of(root, r.playlist):
            assert first_sample_is_sync(segment.read_bytes(), flags), segment.name
    # the I-frame playlists cover every family
    assert len(av1_package.iframe_playlists) == len(video)


def test_dash_has_one_video_adaptation_set_per_family(av1_package) -> None:
    mpd = ET.parse(Path(av1_package.output_dir) / "manifest.mpd").getroot()
    sets = [a for a in mpd.iter(f"{MPD}AdaptationSet") if a.get("contentType") == "video"]
    families = [{r.get("codecs", "")[:4] for r in a.iter(f"{MPD}Representation")} for a in sets]
    assert families == [{"avc1"}, {"av01"}]


def test_hevc_family_has_hvc1_sample_entries_and_validates(clip, tmp_path) -> None:
    result = encode(clip("small.mp4"), tmp_path / "pkg", "h264,hevc")
    assert result.validation.passed, result.validation.failures
    root = Path(result.output_dir)
    hevc = [r for r in result.renditions if r.family == CodecFamily.HEVC]
    assert hevc
    for r in hevc:
        entry = video_sample_entry(init_of(root, r.playlist))
        assert entry is not None and entry[0] == "hvc1" and "hvcC" in entry[1]
        assert r.codecs.startswith("hvc1.1.6.L")  # Main profile, Main tier


def test_codec_strings_match_ffmpegs_own_from_real_init_segments(tmp_path) -> None:
    """Our strings from avcC/hvcC/av1C against the ones FFmpeg's DASH muxer writes."""
    out = tmp_path / "ref"
    out.mkdir()
    encoders = [
        ["-c:v:0", "libx264", "-preset:v:0", "ultrafast"],
        ["-c:v:1", "libx265", "-preset:v:1", "ultrafast", "-tag:v:1", "hvc1"],
        ["-c:v:2", "libsvtav1", "-preset:v:2", "12"],
        ["-c:v:3", "libx264", "-profile:v:3", "high", "-preset:v:3", "ultrafast"],
    ]
    cmd = [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi"]
    cmd += ["-i", "testsrc2=size=352x288:rate=25:duration=1"]
    cmd += ["-filter_complex", "[0:v]split=4[a][b][c][d]"]
    cmd += [arg for label in "abcd" for arg in ("-map", f"[{label}]")]
    cmd += [arg for args in encoders for arg in args]
    cmd += ["-x265-params", "log-level=error", "-f", "dash", "-dash_segment_type", "mp4"]
    cmd += ["-init_seg_name", "init-$RepresentationID$.m4s", str(out / "x.mpd")]
    subprocess.run(cmd, check=True, capture_output=True)
    mpd = ET.parse(out / "x.mpd").getroot()
    seen = set()
    for rep in mpd.iter(f"{MPD}Representation"):
        ours = video_codec_string((out / f"init-{rep.get('id')}.m4s").read_bytes())
        assert ours is not None and ours.lower() == rep.get("codecs", "").lower()
        seen.add(ours[:4])
    assert seen == {"avc1", "hvc1", "av01"}


def test_codec_strings_from_configuration_records() -> None:
    # HEVC Main, Main tier, level 3.1 (93), progressive-source constraint flag (0xB0)
    hvcc = bytes([1, 0x01, 0x60, 0, 0, 0, 0xB0, 0, 0, 0, 0, 0, 93]) + bytes(10)
    assert hevc_codec_string("hvc1", hvcc) == "hvc1.1.6.L93.B0"
    # HEVC Main 10, High tier, level 5.1 (153)
    hvcc10 = bytes([1, 0x22, 0x20, 0, 0, 0, 0x90, 0, 0, 0, 0, 0, 153]) + bytes(10)
    assert hevc_codec_string("hev1", hvcc10) == "hev1.2.4.H153.90"
    # AV1 Main profile, level 4.0 (8), Main tier, 8-bit; then High tier 10-bit level 5.1
    assert av1_codec_string(bytes([0x81, 0x08, 0x0C, 0x00])) == "av01.0.08M.08"
    assert av1_codec_string(bytes([0x81, 0x0D, 0xCC, 0x00])) == "av01.0.13H.10"
    assert av1_codec_string(b"\x00\x08\x0c\x00") is None  # not an av1C record


def test_tampered_av1_codecs_fails_validation(copy) -> None:
    master = copy / "master.m3u8"
    text = master.read_text()
    tampered = re.sub(r"av01\.0\.(\d\d)M\.08", "av01.0.19M.08", text, count=1)
    assert tampered != text
    master.write_text(tampered)
    failures = validate_package(copy).failures
    assert any(r.rule == "variant.codecs" and "av01.0.19M.08" in r.message for r in failures)


def _mark_first_sample_non_sync(segment: Path) -> None:
    """Set sample_is_non_sync_sample on the first sample of the segment's first fragment,
    where FFmpeg's muxer wrote its flags (trun first_sample_flags or per-sample flags)."""
    data = bytearray(segment.read_bytes())
    trun = data.find(b"trun") + 4  # payload: version/flags, sample_count, optional fields
    tr_flags = int.from_bytes(data[trun + 1 : trun + 4], "big")
    offset = trun + 8 + (4 if tr_flags & 0x01 else 0)
    if not tr_flags & 0x04:  # no first_sample_flags: the first entry's own flags
        assert tr_flags & 0x400, "the muxer wrote no per-sample flags"
        offset += (4 if tr_flags & 0x100 else 0) + (4 if tr_flags & 0x200 else 0)
    (flags,) = struct.unpack_from(">I", data, offset)
    struct.pack_into(">I", data, offset, flags | 0x00010000)
    segment.write_bytes(bytes(data))


def test_av1_segment_without_a_key_frame_fails_validation(copy, av1_package) -> None:
    av1 = next(r for r in av1_package.renditions if r.family == CodecFamily.AV1)
    second = segments_of(copy, av1.playlist)[1]
    _mark_first_sample_non_sync(second)
    failures = validate_package(copy).failures
    keyframe = [r for r in failures if r.rule == "segment.keyframe"]
    assert keyframe and keyframe[0].target == av1.playlist and second.name in keyframe[0].message


def test_chunked_encodes_cut_every_family(clip) -> None:
    """An h264,av1 plan is cut in chunks like an H.264 one (the chunked encode itself:
    test_chunked.py)."""
    engine = MediaEngine(OPTIONS)
    source = clip("long9s.mp4")
    probe = engine.probe(source)
    plan = engine.plan(source, probe, with_codecs(get_policy("default"), "h264,av1"))
    chunks = engine.plan_chunks(source, probe, plan, 4.0)
    assert [(c.start, c.end) for c in chunks] == [(0.0, 4.0), (4.0, 9.0)]


def test_encrypted_hls_carries_every_family(clip, tmp_path) -> None:
    done = run_cli(
        tmp_path,
        "transcode",
        str(clip("small.mp4")),
        str(tmp_path / "pkg"),
        "--preset",
        "ultrafast",
        "--codecs",
        "h264,av1",
        "--encryption",
        "aes-128",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["validation"]["passed"] and result["encryption"] == "aes-128"
    codecs = {v["codecs"][:4] for v in result["variants"]}
    assert codecs == {"avc1", "av01"}


def test_unknown_codec_on_the_command_line_is_refused(clip, tmp_path) -> None:
    done = run_cli(
        tmp_path, "transcode", str(clip("small.mp4")), str(tmp_path / "p"), "--codecs", "vp8"
    )
    assert done.returncode != 0
    assert "unknown codec 'vp8'" in done.stderr + done.stdout
    assert not (tmp_path / "p").exists()
