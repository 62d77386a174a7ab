"""The quality step's sampled VMAF against scoring every frame, on real encodes: the sampled
score stays within a stated tolerance, the sampling reaches FFmpeg's graph, and renditions
of other codec families (AV1, HEVC) decode and score like H.264's."""

from __future__ import annotations

import subprocess
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from primevod.adapters.media import quality_meter
from primevod.adapters.media.ffmpeg_binary import ffmpeg_exe
from primevod.adapters.media.ffmpeg_command import EncodeOptions
from primevod.adapters.media.pyav_probe import probe_file
from primevod.adapters.media.source_keyframes import keyframes_in
from primevod.adapters.media.transcoder import MediaEngine
from primevod.core.hls import parse_media_playlist
from primevod.core.ladder import plan_ladder
from primevod.core.outputs import PackageResult, RenditionOutput
from primevod.core.policies import get_policy
from primevod.core.quality_sampling import Grid, QualitySampling, plan_spans, search_windows

# Sampled against every frame of the title, per rendition (docs/quality.md: the benchmark
# title measured a mean error under 0.5 and at most ~1 point; a 12 s clip has fewer frames
# to average, so the test allows more)
TOLERANCE_VMAF = 2.0
_run = subprocess.run  # the real one: the recorder below replaces the module's attribute


def _looped(bbb: Path, out: Path, seconds: float, size: str) -> Path:
    subprocess.run(
        [
            ffmpeg_exe(), "-v", "error", "-y", "-stream_loop", "-1", "-i", str(bbb),
            "-t", str(seconds), "-vf", f"scale={size}", "-c:v", "libx264", "-preset",
            "ultrafast", "-crf", "12", "-an", str(out),
        ],
        check=True,
    )  # fmt: skip
    return out


@pytest.fixture(scope="module")
def package(bbb: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[PackageResult, Path]:
    folder = tmp_path_factory.mktemp("sampling")
    source = _looped(bbb, folder / "bbb12s.mp4", 12, "640:360")
    engine = MediaEngine(EncodeOptions(preset="veryfast", thumbnails=False))
    return engine.transcode(source, folder / "pkg", get_policy("default")), source


class _Recorder:
    """Keeps every FFmpeg command the meter runs, and runs it."""

    def __init__(self) -> None:
        self.commands: list[list[str]] = []

    def __call__(self, cmd: list[str], *args: Any, **kwargs: Any) -> Any:
        self.commands.append(list(cmd))
        return _run(cmd, *args, **kwargs)


@pytest.mark.slow
def test_sampled_vmaf_is_within_tolerance_of_every_frame(
    package: tuple[PackageResult, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    result, source = package
    probe = probe_file(source)
    full = quality_meter.measure_package(result, source, probe, segments=None, subsample=1)
    recorder = _Recorder()
    monkeypatch.setattr(quality_meter.subprocess, "run", recorder)
    sampling = QualitySampling(spans=3, span_seconds=2.0, subsample=7)
    sampled = quality_meter.measure_renditions(result, source, probe, sampling)

    video = [r for r in result.renditions if r.kind == "video"]
    assert [q.name for q in sampled] == [r.name for r in video] == [q.name for q in full]
    for f, s in zip(full, sampled, strict=True):
        assert f.vmaf is not None and s.vmaf is not None
        assert abs(f.vmaf - s.vmaf) <= TOLERANCE_VMAF, (f.name, f.vmaf, s.vmaf)
        assert s.vmaf_min is not None and s.vmaf_min <= s.vmaf
        assert s.family == "h264"

    # the sampling reaches FFmpeg: one run, one libvmaf per rendition, every 7th frame of
    # 2 s (50 frames at 25 fps) from each of the 3 segments of 4 s, at 0, 1/3 and 2/3 of a
    # 2 s GOP into them (spread over the GOP), the source seeked on the frame grid 7 frames
    # (SOURCE_LEAD) before each span's first frame, those frames cut after its `fps` filter
    [cmd] = recorder.commands
    graph = cmd[cmd.index("-filter_complex") + 1]
    assert graph.count("libvmaf=") == len(video)
    assert graph.count("n_subsample=7") == len(video)
    assert graph.count("trim=end_frame=50") == 3 * (len(video) + 1)
    assert graph.count("trim=start_frame=17,") == graph.count("trim=start_frame=33,") == len(video)
    assert graph.count("fps=25,trim=start_pts=7,") == 2
    assert graph.count("concat=n=3:v=2:a=0") == len(video)
    seeks = [cmd[i + 1] for i, arg in enumerate(cmd) if arg == "-ss"]
    assert seeks == ["4.400000", "9.040000"]  # the first span starts at 0: no seek


def test_keyframes_are_read_without_decoding_and_steer_the_spans(bbb: Path, tmp_path: Path) -> None:
    clip = tmp_path / "gop1s.mp4"
    subprocess.run(
        [
            ffmpeg_exe(), "-v", "error", "-y", "-stream_loop", "-1", "-i", str(bbb), "-t", "6",
            "-vf", "scale=160:90", "-r", "25", "-c:v", "libx264", "-preset", "ultrafast",
            "-g", "25", "-sc_threshold", "0", "-an", str(clip),
        ],
        check=True,
    )  # fmt: skip
    found = keyframes_in(clip, [(Fraction(1), Fraction(2)), (Fraction(9, 2), Fraction(5))])
    assert found == [Fraction(n) for n in (1, 2, 4, 5)]  # from the one before each stretch
    assert keyframes_in(tmp_path / "missing.mp4", [(Fraction(0), Fraction(1))]) is None
    # 3 segments of 2 s, one span: in the middle segment when nothing is known; with the
    # keyframes, where the source decodes nothing before it (the keyframe at 0 s rather
    # than a second of frames from the keyframe before either other segment)
    grid = Grid(durations=[2.0] * 3, fps=Fraction(25), segment_frames=50, gop_frames=50)
    sampling = QualitySampling(spans=1, span_seconds=0.4)
    assert [s.scored_start for s in plan_spans(grid, sampling)] == [2]
    keyframes = keyframes_in(clip, search_windows(grid, sampling))
    assert [s.scored_start for s in plan_spans(grid, sampling, keyframes)] == [0]


def _family_rendition(clip: Path, folder: Path, name: str, codec: list[str]) -> RenditionOutput:
    """One rendition of `clip` as CMAF in 1 s segments, encoded with `codec` (the arguments
    after -c:v), described as the packager describes its renditions."""
    out = folder / name
    out.mkdir()
    subprocess.run(
        [
            ffmpeg_exe(), "-v", "error", "-y", "-i", str(clip), "-an", "-c:v", *codec,
            "-g", "25", "-keyint_min", "25", "-pix_fmt", "yuv420p", "-f", "hls",
            "-hls_time", "1", "-hls_playlist_type", "vod", "-hls_segment_type", "fmp4",
            "-hls_fmp4_init_filename", "init.mp4", "-hls_segment_filename",
            str(out / "seg%03d.m4s"), str(out / "index.m3u8"),
        ],
        check=True,
    )  # fmt: skip
    info = parse_media_playlist((out / "index.m3u8").read_text())
    entry = {"libsvtav1": "av01.0.04M.08", "libx265": "hvc1.1.6.L63.90"}.get(codec[0], "avc1")
    return RenditionOutput(
        kind="video", name=name, representation_id=name, playlist=f"{name}/index.m3u8",
        init_segment=f"{name}/init.mp4", codecs=entry, width=320, height=180,
        average_bitrate=1, peak_bitrate=1, segments=len(info.segments), bytes=1,
    )  # fmt: skip


@pytest.mark.slow
def test_av1_and_hevc_renditions_are_scored_like_h264(bbb: Path, tmp_path: Path) -> None:
    source = _looped(bbb, tmp_path / "bbb4s.mp4", 4, "320:180")
    probe = probe_file(source)
    families = {
        "h264": ["libx264", "-preset", "veryfast", "-crf", "30"],
        "av1": ["libsvtav1", "-preset", "12", "-crf", "45"],
        "hevc": ["libx265", "-preset", "ultrafast", "-crf", "32", "-tag:v", "hvc1",
                 "-x265-params", "log-level=error"],
    }  # fmt: skip
    renditions = [_family_rendition(source, tmp_path, f, args) for f, args in families.items()]
    ladder = plan_ladder(probe, get_policy("default")).model_copy(update={"segment_seconds": 1.0})
    result = PackageResult.model_construct(
        output_dir=str(tmp_path), ladder=ladder, renditions=renditions
    )
    scored = quality_meter.measure_renditions(
        result, source, probe, QualitySampling(spans=2, span_seconds=1.0, subsample=3)
    )
    assert [q.family for q in scored] == ["h264", "av1", "hevc"]
    for q in scored:
        assert q.vmaf is not None and 20.0 < q.vmaf <= 100.0, (q.family, q.vmaf)


@pytest.mark.slow
def test_spans_of_the_source_line_up_with_the_frames_the_encode_took(
    bbb: Path, tmp_path: Path
) -> None:
    """A lossless encode at 25 fps of a 24 fps source, made as the encoder's `fps` filter
    makes it: every span matches frame for frame, wherever it starts between source frames
    (the source frame the encode took for a 25 fps frame may lie before that frame's time:
    a seek to the time dropped it, and the span was scored against the next frames)."""
    source = _looped(bbb, tmp_path / "film.mp4", 4, "320:180,fps=24")
    probe = probe_file(source)
    lossless = ["libx264", "-preset", "ultrafast", "-qp", "0", "-vf", "fps=25"]
    rendition = _family_rendition(source, tmp_path, "lossless", lossless)
    ladder = plan_ladder(probe, get_policy("default")).model_copy(
        update={"segment_seconds": 1.0, "gop_seconds": 1.0, "frame_rate": "25"}
    )
    result = PackageResult.model_construct(
        output_dir=str(tmp_path), ladder=ladder, renditions=[rendition]
    )
    sampling = QualitySampling(spans=4, span_seconds=0.2, subsample=1, near_keyframes=False)
    [scored] = quality_meter.measure_renditions(result, source, probe, sampling, metric="psnr")
    assert scored.psnr is not None and scored.psnr >= 60.0, scored.psnr
