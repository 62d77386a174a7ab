"""Real one-pass encodes: the package on disk, checked independently of the packager."""

from __future__ import annotations

import io
import itertools
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import av
import pytest

from primevod.adapters.media.ffmpeg_command import EncodeOptions
from primevod.adapters.media.package_validator import validate_package
from primevod.adapters.media.transcoder import MediaEngine
from primevod.core.errors import MediaError
from primevod.core.hls import parse_attributes, parse_media_playlist
from primevod.core.policies import get_policy
from primevod.core.progress import Progress

ENGINE = MediaEngine(EncodeOptions(preset="ultrafast"))


def master_variants(root: Path) -> list[tuple[dict[str, str], str]]:
    lines = (root / "master.m3u8").read_text().splitlines()
    out = []
    for i, line in enumerate(lines):
        if line.startswith("#EXT-X-STREAM-INF:"):
            out.append((parse_attributes(line.split(":", 1)[1]), lines[i + 1]))
    return out


def rendition_bytes(root: Path, playlist: str) -> bytes:
    info = parse_media_playlist((root / playlist).read_text())
    data = (root / info.map_uri).read_bytes() if info.map_uri else b""
    return data + b"".join((root / s.uri).read_bytes() for s in info.segments)


def video_packets(root: Path, playlist: str) -> tuple[av.VideoStream, list[tuple[float, bool]]]:
    with av.open(io.BytesIO(rendition_bytes(root, playlist))) as container:
        stream = container.streams.video[0]
        packets = [
            (float(p.pts * p.time_base), bool(p.is_keyframe))
            for p in container.demux(stream)
            if p.size
        ]
        ctx = stream.codec_context
        return (ctx.name, ctx.format.name, ctx.width, ctx.height), packets


def first_frame(root: Path, playlist: str) -> av.VideoFrame:
    with av.open(io.BytesIO(rendition_bytes(root, playlist))) as container:
        return next(container.decode(video=0))


def measured(root: Path, playlist: str) -> tuple[int, int]:
    """(average, peak) straight from RFC 8216 section 4.1, written out again here: the peak
    is the heaviest run of consecutive segments lasting 0.5 to 1.5 target durations."""
    info = parse_media_playlist((root / playlist).read_text())
    sizes = [((root / s.uri).stat().st_size * 8, s.duration) for s in info.segments]
    average = sum(b for b, _ in sizes) / sum(d for _, d in sizes)
    target = info.target_duration or 1
    runs = [sizes[i:j] for i in range(len(sizes)) for j in range(i + 1, len(sizes) + 1)]
    rates = [
        sum(b for b, _ in run) / sum(d for _, d in run)
        for run in runs
        if 0.5 * target <= sum(d for _, d in run) <= 1.5 * target
    ]
    return round(average), round(max([average, *rates]))


def segment_durations(root: Path, playlist: str) -> list[float]:
    return [s.duration for s in parse_media_playlist((root / playlist).read_text()).segments]


@pytest.fixture(scope="module")
def bbb_package(bbb, tmp_path_factory) -> tuple[Path, object, list[Progress]]:
    out = tmp_path_factory.mktemp("bbb") / "pkg"
    seen: list[Progress] = []
    result = ENGINE.transcode(
        bbb, out, get_policy("default"), segment_seconds=2, on_progress=seen.append
    )
    return out, result, seen


def test_bbb_default_ladder_package(bbb_package) -> None:
    root, result, seen = bbb_package
    video = [r for r in result.renditions if r.kind == "video"]
    assert [(r.width, r.height) for r in video] == [(416, 234), (640, 360), (960, 540), (1280, 720)]
    assert result.validation.passed, result.validation.failures
    assert not list(root.parent.glob(".pkg.partial-*"))
    variants = master_variants(root)
    assert [uri for _, uri in variants] == [r.playlist for r in video]
    audio_rates = {r.audio_group: r for r in result.renditions if r.kind == "audio"}
    for attrs, uri in variants:
        rendition = next(r for r in video if r.playlist == uri)
        audio = audio_rates[attrs["AUDIO"]]
        avg, peak = measured(root, uri)
        a_avg, a_peak = measured(root, audio.playlist)
        assert int(attrs["BANDWIDTH"]) == peak + a_peak
        assert int(attrs["AVERAGE-BANDWIDTH"]) == avg + a_avg
        assert attrs["RESOLUTION"] == f"{rendition.width}x{rendition.height}"
        assert attrs["FRAME-RATE"] == "25.000"
        assert attrs["CODECS"].startswith("avc1.") and attrs["CODECS"].endswith(",mp4a.40.2")
        playlist = (root / uri).read_text()
        assert "#EXT-X-PLAYLIST-TYPE:VOD" in playlist and "PROGRAM-DATE-TIME" not in playlist
    bandwidths = [int(a["BANDWIDTH"]) for a, _ in variants]
    assert bandwidths == sorted(bandwidths)
    assert "#EXT-X-MEDIA:TYPE=AUDIO" in (root / "master.m3u8").read_text()
    # progress went forward and ended at 1.0
    fractions = [p.fraction for p in seen]
    assert fractions == sorted(fractions) and seen[-1].done and seen[-1].fraction == 1.0
    # progress moved before the end, not just 0 then 1
    assert any(0.0 < f < 1.0 for f in fractions), fractions


def test_keyframes_aligned_across_rungs(bbb_package) -> None:
    root, result, _ = bbb_package
    key_times = []
    for r in (r for r in result.renditions if r.kind == "video"):
        info, packets = video_packets(root, r.playlist)
        assert info[:2] == ("h264", "yuv420p")
        key_times.append([round(t, 3) for t, key in packets if key])
        durations = [
            s.duration for s in parse_media_playlist((root / r.playlist).read_text()).segments
        ]
        assert max(durations) <= 2.5
        assert len(packets) == 132  # every rung gets every one of the source frames
    assert all(k == key_times[0] for k in key_times)
    assert key_times[0][:3] == [0.0, 2.0, 4.0]


def test_dash_manifest_references_and_bandwidth(bbb_package) -> None:
    root, result, _ = bbb_package
    ns = {"m": "urn:mpeg:dash:schema:mpd:2011"}
    mpd = ET.parse(root / "manifest.mpd").getroot()
    assert 2.0 <= float(mpd.get("maxSegmentDuration")[2:-1]) <= 2.1  # measured, not nominal
    assert {a.get("bitstreamSwitching") for a in mpd.findall(".//m:AdaptationSet", ns)} == {"false"}
    by_id = {r.representation_id: r for r in result.renditions}
    reps = mpd.findall(".//m:Representation", ns)
    assert len(reps) == len(result.renditions)
    for rep in reps:
        assert int(rep.get("bandwidth")) == by_id[rep.get("id")].peak_bitrate


@pytest.mark.parametrize(
    ("name", "segment_seconds"), [("audio-tail.mp4", 4), ("frame-tail.mp4", 2)]
)
def test_no_runt_segments_and_bandwidth_at_least_average(
    clip, tmp_path, name: str, segment_seconds: int
) -> None:
    """Audio 50 ms past the video, or one frame past the last full segment: audio and video
    end together, no segment is shorter than half the target duration, and every variant's
    BANDWIDTH (RFC 8216 peak) is at least its AVERAGE-BANDWIDTH."""
    out = tmp_path / "pkg"
    result = ENGINE.transcode(
        clip(name), out, get_policy("default"), segment_seconds=segment_seconds
    )
    assert result.validation.passed, result.validation.failures
    ends = []
    for rendition in result.renditions:
        durations = segment_durations(out, rendition.playlist)
        target = parse_media_playlist((out / rendition.playlist).read_text()).target_duration
        assert all(d >= target / 2 for d in durations), (rendition.playlist, durations)
        ends.append(sum(durations))
        assert rendition.peak_bitrate >= rendition.average_bitrate
    assert max(ends) - min(ends) < 0.05, ends  # one AAC frame at most
    for attrs, uri in master_variants(out):
        assert int(attrs["BANDWIDTH"]) >= int(attrs["AVERAGE-BANDWIDTH"]), uri
    # the MPD names exactly the files that remain, and they all decode
    assert validate_package(out).passed
    for rendition in result.renditions:
        with av.open(io.BytesIO(rendition_bytes(out, rendition.playlist))) as container:
            kind = container.streams.video or container.streams.audio
            seconds = sum(
                float(p.duration * p.time_base) for p in container.demux(kind[0]) if p.size
            )
        assert abs(seconds - sum(segment_durations(out, rendition.playlist))) < 0.05


def test_thumbnails_poster_and_storyboard(bbb_package) -> None:
    root, result, _ = bbb_package
    poster = av.open(str(root / result.poster))
    frame = next(poster.decode(video=0))
    assert (frame.width, frame.height) == (1280, 720)
    poster.close()
    assert len(result.thumbnails) == 3  # 5.3 s, one every 2 s
    vtt = (root / result.storyboard).read_text()
    assert vtt.startswith("WEBVTT") and vtt.count("#xywh=") == 3
    assert "sprite_001.jpg#xywh=320,0,160,90" in vtt
    sprite = av.open(str(root / result.sprites[0]))
    tile = next(sprite.decode(video=0))
    assert (tile.width, tile.height) == (800, 450)  # 5x5 tiles of 160x90
    sprite.close()


@pytest.mark.parametrize(
    ("name", "size"),
    [
        ("tenbit.mp4", (312, 234)),
        ("yuv444.mp4", (312, 234)),
        ("odd.mkv", (176, 96)),
        ("interlaced.ts", (312, 234)),
        ("anamorphic.mp4", (640, 360)),
        ("qcif.mp4", (176, 144)),
    ],
)
def test_difficult_sources_play_everywhere(clip, tmp_path, name: str, size) -> None:
    result = ENGINE.transcode(clip(name), tmp_path / "out", get_policy("default"))
    assert result.validation.passed
    video = [r for r in result.renditions if r.kind == "video"]
    assert (video[-1].width, video[-1].height) == size
    for r in video:
        frame = first_frame(tmp_path / "out", r.playlist)
        assert frame.format.name == "yuv420p"
        assert not frame.interlaced_frame
        info, _ = video_packets(tmp_path / "out", r.playlist)
        assert info[0] == "h264"


def test_rotated_phone_clip_becomes_portrait(rotated, tmp_path) -> None:
    result = ENGINE.transcode(rotated, tmp_path / "out", get_policy("default"))
    video = [r for r in result.renditions if r.kind == "video"]
    assert (video[0].width, video[0].height) == (180, 320)
    frame = first_frame(tmp_path / "out", video[0].playlist)
    assert (frame.width, frame.height) == (180, 320)
    assert not frame.rotation  # rotation applied to the pixels, no matrix left


def test_high_frame_rate_and_vfr_become_constant(clip, tmp_path) -> None:
    fast = ENGINE.transcode(clip("fast120.mp4"), tmp_path / "fast", get_policy("default"))
    attrs, _ = master_variants(tmp_path / "fast")[0]
    assert attrs["FRAME-RATE"] == "60.000"
    vfr = ENGINE.transcode(clip("vfr.mp4"), tmp_path / "vfr", get_policy("default"))
    _, packets = video_packets(tmp_path / "vfr", vfr.renditions[0].playlist)
    times = sorted(t for t, _ in packets)
    steps = {round(b - a, 3) for a, b in itertools.pairwise(times)}
    assert len(steps) == 1  # constant frame rate out
    assert fast.validation.passed and vfr.validation.passed


def test_no_audio_and_audio_only(clip, tmp_path) -> None:
    silent = ENGINE.transcode(clip("noaudio.mp4"), tmp_path / "silent", get_policy("default"))
    assert all(r.kind == "video" for r in silent.renditions)
    master = (tmp_path / "silent" / "master.m3u8").read_text()
    assert "EXT-X-MEDIA" not in master and "AUDIO=" not in master and "mp4a" not in master
    sound = ENGINE.transcode(clip("audioonly.m4a"), tmp_path / "sound", get_policy("default"))
    assert {r.kind for r in sound.renditions} == {"audio"}
    variants = master_variants(tmp_path / "sound")
    assert [a["CODECS"] for a, _ in variants] == ["mp4a.40.2", "mp4a.40.2"]
    assert "RESOLUTION" not in variants[0][0]
    assert sound.poster is None and sound.validation.passed


def test_aws_vod_policy_three_second_segments(clip, tmp_path) -> None:
    result = ENGINE.transcode(clip("long9s.mp4"), tmp_path / "out", get_policy("aws-vod"))
    assert result.ladder.segment_seconds == 3
    for r in result.renditions:
        durations = [
            s.duration
            for s in parse_media_playlist((tmp_path / "out" / r.playlist).read_text()).segments
        ]
        assert len(durations) == 3 and max(durations) <= 3.5


@pytest.mark.parametrize(
    ("key", "code"),
    [
        ("empty", "source.empty"),
        ("text", "source.unreadable"),
        ("cut_moov", "source.unreadable"),
        ("cut_faststart", "source.truncated"),
        ("unknown_codec", "source.unsupported_codec"),
    ],
)
def test_broken_sources_fail_cleanly(corrupt, tmp_path, key: str, code: str) -> None:
    with pytest.raises(MediaError) as info:
        ENGINE.transcode(corrupt[key], tmp_path / "out", get_policy("default"))
    assert info.value.code == code
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_existing_output_is_never_damaged(clip, tmp_path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    for overwrite in (False, True):  # not a package: refused even with overwrite
        with pytest.raises(MediaError) as info:
            ENGINE.transcode(clip("small.mp4"), out, get_policy("default"), overwrite=overwrite)
        assert info.value.code == "request.invalid"
    assert (out / "keep.txt").read_text() == "precious"
    # the source inside the folder to replace: refused
    (out / "master.m3u8").write_text("#EXTM3U\n")
    inside = out / "src.mp4"
    inside.write_bytes(clip("small.mp4").read_bytes())
    with pytest.raises(MediaError):
        ENGINE.transcode(inside, out, get_policy("default"), overwrite=True)
    inside.unlink()
    # a failed overwrite keeps the old package too
    with pytest.raises(MediaError):
        ENGINE.transcode(tmp_path / "missing.mp4", out, get_policy("default"), overwrite=True)
    assert (out / "keep.txt").read_text() == "precious"
    ENGINE.transcode(clip("small.mp4"), out, get_policy("default"), overwrite=True)
    assert not (out / "keep.txt").exists() and (out / "master.m3u8").is_file()
    assert validate_package(out).passed
    # a file where the folder should be, or a folder that cannot be made
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for target in (blocker, blocker / "sub"):
        with pytest.raises(MediaError) as info:
            ENGINE.transcode(clip("small.mp4"), target, get_policy("default"))
        assert info.value.code == "request.invalid"
    assert blocker.read_text() == "x"


def test_wide_and_odd_aspect_ratios_package(clip, media_dir, tmp_path) -> None:
    """Rungs rounded to even sizes keep one display aspect (DASH requires it)."""
    from primevod.adapters.media.samples import make_sample

    for size in ((640, 270), (320, 256), (270, 338)):
        src = make_sample(
            media_dir / f"ar{size[0]}x{size[1]}.mp4",
            seconds=1.0,
            width=size[0],
            height=size[1],
            audio=False,
        )
        result = ENGINE.transcode(src, tmp_path / f"o{size[0]}", get_policy("default"))
        assert result.validation.passed
        video = [r for r in result.renditions if r.kind == "video"]
        if size == (640, 270):
            assert [(r.width, r.height) for r in video] == [(416, 176), (640, 270)]


def test_cancel_stops_the_encode(bbb, tmp_path) -> None:
    """A slow encode (7 rungs of 720p at preset medium) cancelled one second in."""
    cancel = threading.Event()
    timer = threading.Timer(1.0, cancel.set)
    timer.start()
    started = time.monotonic()
    with pytest.raises(MediaError) as info:
        MediaEngine(EncodeOptions(preset="medium")).transcode(
            bbb, tmp_path / "out", get_policy("apple"), cancel=cancel
        )
    assert time.monotonic() - started < 5.0
    assert info.value.code == "encode.cancelled"
    assert list(tmp_path.iterdir()) == []
