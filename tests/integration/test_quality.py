"""The auto ladder (pure selection rules as property tests, then real encodes), BD-rate, and
the quality meter."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from primevod.adapters.media.ffmpeg_binary import ffmpeg_exe
from primevod.adapters.media.ffmpeg_command import EncodeOptions
from primevod.adapters.media.transcoder import MediaEngine
from primevod.core.ladder import AutoLadderConfig
from primevod.core.policies import get_policy


def _clip(path: Path, source: str, seconds: float = 3.0) -> Path:
    subprocess.run(
        [
            ffmpeg_exe(),
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            source,
            "-t",
            str(seconds),
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-qp",
            "4",
            "-pix_fmt",
            "yuv420p",
            str(path),
        ],
        check=True,
    )
    return path


@pytest.fixture(scope="module")
def easy_and_noisy(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("auto")
    easy = _clip(folder / "slides.mp4", "testsrc2=size=640x360:rate=1/2,fps=25")
    noisy = _clip(folder / "noisy.mp4", "mandelbrot=size=640x360:rate=25,noise=alls=12:allf=t")
    return easy, noisy


@pytest.mark.slow
def test_auto_end_to_end_easy_gets_fewer_or_cheaper_rungs(
    easy_and_noisy: tuple[Path, Path], tmp_path: Path
) -> None:
    easy, noisy = easy_and_noisy
    engine = MediaEngine(
        EncodeOptions(preset="veryfast", thumbnails=False), analysis_cache=tmp_path / "cache"
    )
    results = {}
    for name, clip in (("easy", easy), ("noisy", noisy)):
        result = engine.transcode(clip, tmp_path / name, get_policy("auto"))
        assert result.validation.passed
        assert result.auto is not None and result.auto.analysis.points
        video = [r for r in result.renditions if r.kind == "video"]
        assert [r.height for r in video] == sorted(r.height for r in video)
        assert len(video) <= get_policy("auto").auto.max_renditions  # type: ignore[union-attr]
        results[name] = video
    easy_v, noisy_v = results["easy"], results["noisy"]
    assert len(easy_v) < len(noisy_v) or (
        len(easy_v) == len(noisy_v)
        and sum(r.average_bitrate for r in easy_v) < sum(r.average_bitrate for r in noisy_v)
    )
    assert len(easy_v) <= 3
    # a second encode of the same file reuses the cached analysis
    again = engine.transcode(easy, tmp_path / "again", get_policy("auto"))
    assert again.auto is not None and again.auto.analysis.cached
    assert list((tmp_path / "cache").glob("*.json"))


@pytest.mark.slow
def test_auto_on_real_clip_meets_its_target_and_meter_agrees(bbb: Path, tmp_path: Path) -> None:
    from primevod.adapters.media.pyav_probe import probe_file
    from primevod.adapters.media.quality_meter import measure_package

    short = tmp_path / "bbb3s.mp4"
    subprocess.run(
        [
            ffmpeg_exe(),
            "-v",
            "error",
            "-y",
            "-i",
            str(bbb),
            "-t",
            "3",
            "-vf",
            "scale=640:360",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-crf",
            "12",
            "-an",
            str(short),
        ],
        check=True,
    )
    engine = MediaEngine(EncodeOptions(preset="veryfast", thumbnails=False))
    result = engine.transcode(short, tmp_path / "pkg", get_policy("auto"))
    assert result.validation.passed and result.auto is not None
    probe = probe_file(short)
    full = measure_package(result, short, probe, segments=None)
    sampled = measure_package(result, short, probe, segments=1)
    assert [q.name for q in full] == [r.name for r in result.renditions if r.kind == "video"]
    vmafs = [q.vmaf for q in full]
    assert all(v is not None and 0 < v <= 100 for v in vmafs)
    assert vmafs == sorted(vmafs)  # type: ignore[type-var]
    for f, s in zip(full, sampled, strict=True):
        assert abs((f.vmaf or 0) - (s.vmaf or 0)) < 3.0
    # the prediction of the top rung is close to what the encode measures
    assert abs(result.auto.rungs[-1].quality - (full[-1].vmaf or 0)) < 8.0


@pytest.mark.slow
def test_analysis_of_a_longer_title_finds_the_cut(tmp_path: Path) -> None:
    from primevod.adapters.media.complexity import analyze
    from primevod.adapters.media.pyav_probe import probe_file

    clip = tmp_path / "two-shots.mp4"
    subprocess.run(
        [
            ffmpeg_exe(),
            *("-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25:d=6"),
            *("-f", "lavfi", "-i", "testsrc=size=640x360:rate=25:d=6"),
            *("-filter_complex", "[0:v][1:v]concat=n=2:v=1[v]", "-map", "[v]", "-t", "12"),
            *("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(clip)),
        ],
        check=True,
    )
    config = AutoLadderConfig(samples=3, probe_crfs=[24, 32], probe_heights=2)
    analysis = analyze(clip, probe_file(clip), config, cache_dir=tmp_path / "cache")
    assert any(abs(c - 6.0) < 0.2 for c in analysis.scene_cuts), analysis.scene_cuts
    assert len(analysis.samples) == 3
    for start, length in analysis.samples:
        assert not start + 0.1 < 6.0 < start + length - 0.1
    assert len(analysis.points) == 2 * 2 and all(p.kbps > 0 for p in analysis.points)
    again = analyze(clip, probe_file(clip), config, cache_dir=tmp_path / "cache")
    assert again.cached and again.points == analysis.points
    assert not analysis.static, "testsrc2 moves: every size is probed"


@pytest.mark.slow
def test_still_pictures_are_probed_at_two_sizes_only(tmp_path: Path) -> None:
    from primevod.adapters.media.complexity import analyze, is_static
    from primevod.adapters.media.pyav_probe import probe_file

    clip = _clip(tmp_path / "stills.mp4", "testsrc2=size=960x540:rate=1/3,fps=25", seconds=12)
    config = AutoLadderConfig(samples=3, probe_crfs=[24, 32], probe_heights=3)
    analysis = analyze(clip, probe_file(clip), config)
    assert analysis.static
    sizes = sorted({(p.width, p.height) for p in analysis.points})
    assert sizes == [(640, 360), (960, 540)], sizes  # the smallest and the largest of three
    # the frames just after a cut between two stills change: still static; steady motion in
    # one window is not
    assert is_static([[0.0] * 40 + [90.0] * 5 + [0.1] * 40])
    assert not is_static([[0.0] * 30, [3.0] * 30])


@pytest.mark.slow
@pytest.mark.parametrize(
    "source",
    [
        # 60 fps: a small change from frame to frame, a large one over 0.2 s
        "testsrc2=size=960x540:rate=60",
        # animation on threes: two frames in three repeat the one before
        "testsrc2=size=960x540:rate=8,fps=24",
        # a still picture under temporal grain: the 32x18 scan averages most of the grain
        # away and calls it still; the probes see its cost at full size (about 0.014 bits
        # per pixel at CRF 32) and probe every size after all
        "testsrc2=size=960x540:rate=1/12,fps=25,noise=alls=15:allf=t",
    ],
)
def test_moving_or_costly_titles_are_probed_at_every_size(source: str, tmp_path: Path) -> None:
    from primevod.adapters.media.complexity import analyze
    from primevod.adapters.media.pyav_probe import probe_file

    clip = _clip(tmp_path / "clip.mp4", source, seconds=12)
    config = AutoLadderConfig(samples=3, probe_crfs=[24, 32], probe_heights=3)
    analysis = analyze(clip, probe_file(clip), config)
    assert not analysis.static
    sizes = sorted({(p.width, p.height) for p in analysis.points})
    assert sizes == [(640, 360), (768, 432), (960, 540)], sizes


def test_scan_windows_start_on_keyframes(tmp_path: Path) -> None:
    from primevod.adapters.media.complexity import scan_windows

    clip = tmp_path / "gop2s.mp4"
    subprocess.run(
        [
            ffmpeg_exe(),
            *("-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:d=12"),
            *("-c:v", "libx264", "-preset", "ultrafast", "-g", "50", "-sc_threshold", "0"),
            str(clip),
        ],
        check=True,
    )
    # keyframes every 2 s: each window starts on the keyframe before it and keeps its end
    windows = scan_windows(clip, 0, [1.0, 5.0, 9.5], 2.0, 12.0)
    assert [(round(s, 2), round(n, 2)) for s, n in windows] == [(0.0, 3.0), (4.0, 3.0), (8.0, 3.5)]
    # the keyframe before too far: the first one after the wanted start, same length
    assert [(round(s, 2), round(n, 2)) for s, n in scan_windows(clip, 0, [3.5], 0.9, 12.0)] == [
        (4.0, 0.9)
    ]
    # no keyframe near at all: the window stays as wanted
    assert [(round(s, 2), round(n, 2)) for s, n in scan_windows(clip, 0, [3.0], 0.9, 12.0)] == [
        (3.0, 0.9)
    ]
