"""Split-and-stitch encoding on real FFmpeg: a title encoded in chunks and stitched into one
package is the single encode's package (frames, timestamps, keyframes, quality)."""

from __future__ import annotations

import io
import itertools
import struct
import subprocess
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import pytest

from primevod.adapters.media.chunked_encode import (
    ChunkEncode,
    chunk_decode_args,
    encode_chunk,
    plan_title_chunks,
)
from primevod.adapters.media.chunked_stitch import ChunkFacts, check_decoder_configs, stitch
from primevod.adapters.media.ffmpeg_binary import ffmpeg_exe
from primevod.adapters.media.ffmpeg_command import EncodeOptions, _video_graph, input_args
from primevod.adapters.media.package_validator import validate_package
from primevod.adapters.media.pyav_probe import probe_file
from primevod.adapters.media.quality_meter import Comparison, compare
from primevod.adapters.media.transcoder import MediaEngine
from primevod.core.codec_families import SAMPLE_ENTRY, CodecFamily
from primevod.core.errors import MediaError
from primevod.core.hls import parse_media_playlist
from primevod.core.ladder import Ladder, RateControl, plan_ladder, with_codecs
from primevod.core.outputs import PackageResult
from primevod.core.policies import DEFAULT, get_policy
from primevod.core.probe import ProbeResult
from primevod.core.thumbnails import ThumbnailPlan, plan_thumbnails

# the default policy cut to its two smallest rungs, 2 s segments, 10 s chunks
POLICY = DEFAULT.model_copy(update={"rungs": DEFAULT.rungs[:2]})
SEGMENT_SECONDS = 2.0
CHUNK_SECONDS = 10.0
OPTIONS = EncodeOptions(preset="ultrafast", thumbnails=False)


@dataclass
class Title:
    source: Path
    probe: ProbeResult
    ladder: Ladder


@dataclass
class Encoded:
    package: PackageResult
    chunks: list[ChunkEncode]
    seconds: float


def encode_chunked(
    title: Title,
    work: Path,
    out: Path,
    options: EncodeOptions,
    chunk_seconds: float,
    thumbs: ThumbnailPlan | None = None,
) -> Encoded:
    started = time.monotonic()
    chunks = plan_title_chunks(title.source, title.probe, title.ladder, chunk_seconds)
    encoded = [
        encode_chunk(title.source, title.probe, title.ladder, chunk, work, options, thumbs=thumbs)
        for chunk in chunks
    ]
    per_rung = [[Path(e.files[i]) for e in encoded] for i in range(len(title.ladder.rungs))]
    thumb_dirs = [Path(e.thumb_dir) for e in encoded if e.thumb_dir]
    package = stitch(
        per_rung,
        title.source,
        title.probe,
        title.ladder,
        out,
        thumbs,
        thumb_dirs=thumb_dirs,
        options=options,
    )
    return Encoded(package, encoded, time.monotonic() - started)


@pytest.fixture(scope="module")
def title(clip) -> Title:
    source = clip("title40.mp4")
    probe = probe_file(source)
    return Title(source, probe, plan_ladder(probe, POLICY, segment_seconds=SEGMENT_SECONDS))


@pytest.fixture(scope="module")
def single(title: Title, tmp_path_factory: pytest.TempPathFactory) -> Encoded:
    started = time.monotonic()
    package = MediaEngine(OPTIONS).transcode(
        title.source,
        tmp_path_factory.mktemp("single") / "pkg",
        POLICY,
        segment_seconds=SEGMENT_SECONDS,
        probe=title.probe,
    )
    return Encoded(package, [], time.monotonic() - started)


@pytest.fixture(scope="module")
def chunked(title: Title, tmp_path_factory: pytest.TempPathFactory) -> Encoded:
    root = tmp_path_factory.mktemp("chunked")
    return encode_chunked(title, root / "chunks", root / "pkg", OPTIONS, CHUNK_SECONDS)


def rendition_bytes(root: Path, playlist: str) -> bytes:
    info = parse_media_playlist((root / playlist).read_text())
    data = (root / info.map_uri).read_bytes() if info.map_uri else b""
    return data + b"".join((root / s.uri).read_bytes() for s in info.segments)


def packets(root: Path, playlist: str) -> tuple[Fraction, list[tuple[int, int, int]]]:
    """The time base and each packet's (dts, pts, duration) of a whole rendition."""
    with av.open(io.BytesIO(rendition_bytes(root, playlist))) as container:
        stream = container.streams[0]
        found = [(p.dts, p.pts, p.duration) for p in container.demux(stream) if p.size]
        return Fraction(stream.time_base), found


def end_time(root: Path, playlist: str) -> Fraction:
    base, found = packets(root, playlist)
    return max(pts + duration for _, pts, duration in found) * base


def tfdts(root: Path, playlist: str) -> list[int]:
    """The base media decode time (tfdt) of each segment's first fragment."""
    out = []
    for seg in parse_media_playlist((root / playlist).read_text()).segments:
        data = (root / seg.uri).read_bytes()
        at = data.index(b"tfdt") + 4
        version = data[at]
        out.append(struct.unpack_from(">Q" if version else ">I", data, at + 4)[0])
    return out


def video_playlists(package: PackageResult) -> list[str]:
    return [r.playlist for r in package.renditions if r.kind == "video"]


def test_the_title_is_cut_on_the_segment_grid(title: Title, chunked: Encoded) -> None:
    assert [(c.chunk.start, c.chunk.end) for c in chunked.chunks] == [
        (0.0, 10.0),
        (10.0, 20.0),
        (20.0, 30.0),
        (30.0, 40.0),
    ]
    assert [c.frames for c in chunked.chunks] == [[300, 300]] * 4


def test_the_stitched_package_passes_validation(chunked: Encoded) -> None:
    root = Path(chunked.package.output_dir)
    report = validate_package(root)
    assert report.passed, [r for r in report.failures]
    rules = {(r.rule, r.target): r.passed for r in report.results}
    for playlist in video_playlists(chunked.package):
        assert rules[("segment.keyframe", playlist)]
        assert rules[("bitrate.peak", playlist)] and rules[("bitrate.average", playlist)]
    assert rules[("mpd.matches_hls", "manifest.mpd")]
    # the single encode's layout: one init segment per rendition, the same segment names
    inits = ["init-0.m4s", "init-1.m4s", "init-2.m4s"]
    assert sorted(p.name for p in root.glob("init-*.m4s")) == inits
    assert chunked.package.validation.passed


def test_every_rung_has_the_single_encodes_frames(single: Encoded, chunked: Encoded) -> None:
    single_root, chunked_root = Path(single.package.output_dir), Path(chunked.package.output_dir)
    for i, playlist in enumerate(video_playlists(chunked.package)):
        _, mine = packets(chunked_root, playlist)
        _, theirs = packets(single_root, playlist)
        assert len(mine) == len(theirs) == sum(c.frames[i] for c in chunked.chunks) == 1200


def test_timestamps_run_on_across_the_joins(single: Encoded, chunked: Encoded) -> None:
    """No gap or overlap where chunks meet: every segment's tfdt is where the one before it
    ends, as in the single encode, and the frames' timestamps step by one frame throughout
    (the joins at 10, 20 and 30 s included)."""
    single_root, chunked_root = Path(single.package.output_dir), Path(chunked.package.output_dir)
    for playlist in video_playlists(chunked.package):
        base, found = packets(chunked_root, playlist)
        frame = int(1 / (base * 30))
        dts = [d for d, _, _ in found]
        pts = sorted(p for _, p, _ in found)
        assert pts == [n * frame for n in range(1200)]
        assert all(b - a == frame for a, b in itertools.pairwise(dts))
        segments = tfdts(chunked_root, playlist)
        assert segments == [n * 60 * frame for n in range(20)]
        assert segments == tfdts(single_root, playlist)


def test_audio_and_video_end_together(single: Encoded, chunked: Encoded) -> None:
    single_root, chunked_root = Path(single.package.output_dir), Path(chunked.package.output_dir)
    audio = next(r.playlist for r in chunked.package.renditions if r.kind == "audio")
    audio_end = end_time(chunked_root, audio)
    assert audio_end == end_time(single_root, audio)  # the same audio as the single encode
    for playlist in video_playlists(chunked.package):
        video_end = end_time(chunked_root, playlist)
        assert video_end == end_time(single_root, playlist) == 40
        assert abs(audio_end - video_end) <= Fraction(1024, 48000)


def test_one_init_segment_serves_every_chunk(chunked: Encoded) -> None:
    """The chunks of a rung were coded with the same SPS/PPS, which the rung's init segment
    carries (its avcC); a chunk coded otherwise is refused before anything is packaged."""
    root = Path(chunked.package.output_dir)
    for i in range(2):
        with av.open(str(root / f"init-{i}.m4s")) as container:
            init_avcc = bytes(container.streams.video[0].codec_context.extradata)
        for encoded in chunked.chunks:
            with av.open(encoded.files[i]) as container:
                assert bytes(container.streams.video[0].codec_context.extradata) == init_avcc
    a, b = (
        ChunkFacts(Path("a.mp4"), 300, "avc1", b"\x01sps1"),
        ChunkFacts(Path("b.mp4"), 300, "avc1", b"\x01sps2"),
    )
    with pytest.raises(MediaError, match="another avcC"):
        check_decoder_configs([[a, b]])


def test_a_mixed_up_chunk_is_refused(title: Title, chunked: Encoded, tmp_path: Path) -> None:
    """A 360p chunk among the 234p ones: other SPS, so no package."""
    rung0 = [Path(c.files[0]) for c in chunked.chunks]
    rung1 = [Path(c.files[1]) for c in chunked.chunks]
    with pytest.raises(MediaError, match=r"another avcC \(SPS/PPS\)"):
        stitch(
            [[*rung0[:2], rung1[2], rung0[3]], rung1],
            title.source,
            title.probe,
            title.ladder,
            tmp_path / "pkg",
        )
    assert not (tmp_path / "pkg").exists()


def test_quality_matches_the_single_encode(title: Title, single: Encoded, chunked: Encoded) -> None:
    """Each rung's VMAF against the source (the whole title, every 4th frame, scored at
    416x234) within 0.5 of the single encode's."""
    comparisons = []
    work = Path(chunked.package.output_dir).parent
    for name, encoded in (("single", single), ("chunked", chunked)):
        root = Path(encoded.package.output_dir)
        for playlist in video_playlists(encoded.package):
            joined = work / f"{name}-{playlist}.mp4"
            joined.write_bytes(rendition_bytes(root, playlist))
            comparisons.append(
                Comparison(
                    distorted=["-i", str(joined)],
                    reference=["-i", str(title.source)],
                    reference_filter=f"fps={title.ladder.frame_rate}",
                    label=f"{name} {playlist}",
                )
            )
    scores = compare(comparisons, (416, 234), subsample=4, metric="vmaf")
    single_scores, chunked_scores = scores[:2], scores[2:]
    for mine, theirs in zip(chunked_scores, single_scores, strict=True):
        assert mine.frames == theirs.frames == 300
        assert abs(mine.mean - theirs.mean) <= 0.5, (mine.mean, theirs.mean)
        assert mine.mean > 70


@pytest.mark.parametrize(
    ("clip_name", "segment_seconds"),
    [("fast120.mp4", 0.5), ("vfr.mp4", 0.5), ("interlaced.ts", 0.5), ("frame-tail.mp4", 2.0)],
)
def test_chunk_frames_are_the_single_encodes_frames(
    clip, tmp_path: Path, clip_name: str, segment_seconds: float
) -> None:
    """Frame for frame (md5 of the scaled pictures), the chunks in order are what the single
    encode's filter graph makes of the title: a 120 fps source halved, a variable frame
    rate, a deinterlaced one, a title ending one frame past a segment."""
    source = clip(clip_name)
    probe = probe_file(source)
    ladder = plan_ladder(probe, POLICY, segment_seconds=segment_seconds)
    ffmpeg = ffmpeg_exe()

    def frame_md5s(args: list[str], name: str) -> list[str]:
        out = tmp_path / f"{name}.md5"
        subprocess.run(
            [*args, "-map", "[v0]", "-c:v", "rawvideo", "-f", "framemd5", str(out)],
            check=True,
            capture_output=True,
        )
        rows = [line for line in out.read_text().splitlines() if not line.startswith("#")]
        return [row.rsplit(",", 1)[1].strip() for row in rows]

    graph = _video_graph(probe.primary_video.index, ladder, None)
    whole = frame_md5s(
        [*input_args(ffmpeg, source, OPTIONS), "-filter_complex", ";".join(graph)], "all"
    )
    chunks = plan_title_chunks(source, probe, ladder, segment_seconds)
    assert len(chunks) >= 3
    parts = [
        frame_md5s(chunk_decode_args(ffmpeg, source, probe, ladder, c, OPTIONS), f"c{c.index}")
        for c in chunks
    ]
    assert [m for part in parts for m in part] == whole


def test_b_frames_thumbnails_and_a_folded_tail(clip, tmp_path: Path) -> None:
    """x264 `veryfast` (B-frames: negative decode times, an edit list) over 9 s at 25 fps
    in 2 s chunks (the last 1 s tail joins the chunk before it), with thumbnails: the same
    frames and timestamps as the single encode, and a valid package."""
    source = clip("long9s.mp4")
    probe = probe_file(source)
    ladder = plan_ladder(probe, POLICY, segment_seconds=2.0)
    title = Title(source, probe, ladder)
    options = EncodeOptions(preset="veryfast")
    thumbs = plan_thumbnails(ladder.source_display, probe.duration or 0.0)
    done = encode_chunked(title, tmp_path / "chunks", tmp_path / "pkg", options, 2.0, thumbs)
    assert [(c.chunk.start, c.chunk.end) for c in done.chunks][-1] == (6.0, 9.0)
    assert done.package.poster and done.package.storyboard and done.package.thumbnails
    single = MediaEngine(options).transcode(
        source, tmp_path / "single", POLICY, segment_seconds=2.0, probe=probe
    )
    root, single_root = Path(done.package.output_dir), Path(single.output_dir)
    for playlist in video_playlists(done.package):
        _, mine = packets(root, playlist)
        _, theirs = packets(single_root, playlist)
        assert [(d, p) for d, p, _ in mine] == [(d, p) for d, p, _ in theirs]
        assert mine[0][0] < 0  # B-frames: the first frame is decoded before it is shown
        assert tfdts(root, playlist) == tfdts(single_root, playlist)
    assert_same_thumbnails(root / "thumbs", single_root / "thumbs")


def test_h264_and_av1_chunks_stitch_into_the_single_encodes_families(clip, tmp_path: Path) -> None:
    """The product's h264,av1 ladder over 9 s at 25 fps in 3 s chunks (three), with
    thumbnails: both families have the single encode's frames, timestamps, segment times
    and CODECS, the package validates, and the thumbnails are the single encode's."""
    source = clip("long9s.mp4")
    probe = probe_file(source)
    policy = with_codecs(POLICY, "h264,av1")
    ladder = plan_ladder(probe, policy, segment_seconds=1.0)
    assert ladder.families == [CodecFamily.H264, CodecFamily.AV1]
    options = OPTIONS.model_copy(update={"av1_preset": 12})
    thumbs = plan_thumbnails(ladder.source_display, probe.duration or 0.0)
    title = Title(source, probe, ladder)
    done = encode_chunked(title, tmp_path / "chunks", tmp_path / "pkg", options, 3.0, thumbs)
    assert [c.frames for c in done.chunks] == [[75] * len(ladder.rungs)] * 3
    assert done.package.validation.passed, done.package.validation.failures
    single = MediaEngine(options.model_copy(update={"thumbnails": True})).transcode(
        source, tmp_path / "single", policy, segment_seconds=1.0, probe=probe
    )
    root, single_root = Path(done.package.output_dir), Path(single.output_dir)
    video = [r for r in done.package.renditions if r.kind == "video"]
    theirs = {r.playlist: r for r in single.renditions}
    assert {r.family for r in video} == {CodecFamily.H264, CodecFamily.AV1}
    for rendition in video:
        other = theirs[rendition.playlist]
        assert (rendition.family, rendition.codecs) == (other.family, other.codecs)
        assert rendition.codecs[:4] == SAMPLE_ENTRY[rendition.family]
        _, mine = packets(root, rendition.playlist)
        _, single_packets = packets(single_root, rendition.playlist)
        assert len(mine) == 225
        assert [(d, p, n) for d, p, n in mine] == [(d, p, n) for d, p, n in single_packets]
        assert tfdts(root, rendition.playlist) == tfdts(single_root, rendition.playlist)
        assert end_time(root, rendition.playlist) == end_time(single_root, rendition.playlist) == 9
    assert_same_thumbnails(root / "thumbs", single_root / "thumbs")


def test_two_pass_chunks_of_every_family_share_their_init_segments(clip, tmp_path: Path) -> None:
    """Quality mode with VBR rungs (Apple's smallest, in h264 and av1): x264 runs two
    passes per chunk, and its chunks still carry one avcC (x264's `stitchable`: without it
    each chunk's second pass wrote its own PPS and the stitch refused them)."""
    source = clip("long9s.mp4")
    probe = probe_file(source)
    apple = get_policy("apple")
    policy = with_codecs(apple.model_copy(update={"rungs": apple.rungs[:1]}), "h264,av1")
    ladder = plan_ladder(probe, policy, segment_seconds=2.0)
    assert {r.rate_control for r in ladder.rungs} == {RateControl.VBR}
    options = OPTIONS.model_copy(
        update={"mode": "quality", "quality_preset": "ultrafast", "av1_preset": 12}
    )
    done = encode_chunked(
        Title(source, probe, ladder), tmp_path / "c", tmp_path / "pkg", options, 4.0
    )
    assert len(done.chunks) == 2
    assert done.package.validation.passed, done.package.validation.failures
    families = {r.family for r in done.package.renditions if r.kind == "video"}
    assert families == {CodecFamily.H264, CodecFamily.AV1}


def assert_same_thumbnails(mine: Path, theirs: Path) -> None:
    """The same files, byte for byte: thumbnails, sprites, poster and storyboard (the
    chunks picked the single encode's frames, and the tiles reached the sprites losslessly)."""
    names = sorted(p.name for p in theirs.iterdir())
    assert sorted(p.name for p in mine.iterdir()) == names
    assert any(n.startswith("sprite_") for n in names) and "poster.jpg" in names
    for name in names:
        assert (mine / name).read_bytes() == (theirs / name).read_bytes(), name


@pytest.mark.parametrize(
    ("clip_name", "segment_seconds", "chunk_seconds"),
    [("title40.mp4", 1.0, 3.0), ("vfr.mp4", 0.5, 0.5), ("fast120.mp4", 0.5, 0.5)],
)
def test_thumbnails_from_chunks_are_the_single_encodes(
    clip,
    tmp_path: Path,
    clip_name: str,
    segment_seconds: float,
    chunk_seconds: float,
) -> None:
    """The single encode's thumbnail plan (every 2 s here) over chunks of other lengths:
    picks fall inside chunks and on their joins, sprites span chunks, the poster comes from
    whichever chunk holds it."""
    source = clip(clip_name)
    probe = probe_file(source)
    ladder = plan_ladder(probe, POLICY, segment_seconds=segment_seconds)
    thumbs = plan_thumbnails(ladder.source_display, probe.duration or 0.0)
    title = Title(source, probe, ladder)
    done = encode_chunked(title, tmp_path / "c", tmp_path / "pkg", OPTIONS, chunk_seconds, thumbs)
    assert len(done.chunks) >= 3
    single = MediaEngine(OPTIONS.model_copy(update={"thumbnails": True})).transcode(
        source, tmp_path / "single", POLICY, segment_seconds=segment_seconds, probe=probe
    )
    assert_same_thumbnails(
        Path(done.package.output_dir) / "thumbs", Path(single.output_dir) / "thumbs"
    )


def offset_copy(source: Path, out: Path, delayed: str) -> Path:
    """`source` with its video (`delayed` "v") or audio ("a") starting 0.2 s late."""
    first, second = (["-itsoffset", "0.2"], []) if delayed == "v" else ([], ["-itsoffset", "0.2"])
    inputs = [*first, "-i", str(source), *second, "-i", str(source)]
    maps = ["-map", "0:v", "-map", "1:a", "-c", "copy", str(out)]
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", *inputs, *maps], check=True)
    return out


def test_audio_that_starts_late_keeps_its_offset(clip, tmp_path: Path) -> None:
    source = offset_copy(clip("small.mp4"), tmp_path / "late-audio.mp4", "a")
    probe = probe_file(source)
    title = Title(source, probe, plan_ladder(probe, POLICY, segment_seconds=1.0))
    done = encode_chunked(title, tmp_path / "chunks", tmp_path / "pkg", OPTIONS, 1.0)
    single = MediaEngine(OPTIONS).transcode(
        source, tmp_path / "single", POLICY, segment_seconds=1.0, probe=probe
    )
    for rendition in done.package.renditions:
        mine = packets(Path(done.package.output_dir), rendition.playlist)
        assert mine == packets(Path(single.output_dir), rendition.playlist)
    audio = next(r.playlist for r in done.package.renditions if r.kind == "audio")
    _, found = packets(Path(done.package.output_dir), audio)
    assert found[0][1] > 0.15 * 48000  # the audio still starts about 0.2 s in


def test_video_that_starts_late_is_refused(clip, tmp_path: Path) -> None:
    """The chunk grid counts frames from the file's start: a video starting later would be
    cut out of step with the single encode, so such a title is not chunked."""
    source = offset_copy(clip("small.mp4"), tmp_path / "late-video.mp4", "v")
    probe = probe_file(source)
    ladder = plan_ladder(probe, POLICY, segment_seconds=1.0)
    with pytest.raises(MediaError, match=r"starts 0\.200s after"):
        plan_title_chunks(source, probe, ladder, 1.0)
