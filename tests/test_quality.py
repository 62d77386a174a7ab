"""The auto ladder (pure selection rules as property tests, then real encodes), BD-rate, and
the quality meter."""

from __future__ import annotations

import math
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from primevod.adapters.media.ffmpeg_binary import ffmpeg_exe
from primevod.adapters.media.ffmpeg_command import EncodeOptions
from primevod.adapters.media.transcoder import MediaEngine
from primevod.core.ladder import AutoLadderConfig, plan_ladder
from primevod.core.policies import get_policy
from primevod.core.probe import ProbeResult, VideoStreamInfo
from primevod.core.quality import (
    ComplexityAnalysis,
    ProbePoint,
    auto_policy,
    bd_rate,
    frontier,
    probe_sizes,
    select_rungs,
)


def source(width: int, height: int) -> ProbeResult:
    video = VideoStreamInfo(index=0, codec="h264", width=width, height=height, frame_rate=25.0)
    return ProbeResult(path="x.mp4", format_name="mp4", size=1, duration=60.0, video=[video])


SIZES = [(416, 234), (640, 360), (960, 540), (1280, 720), (1920, 1080)]


def model_points(complexity: float, upscale_loss: float, noise: float = 0.0) -> list[ProbePoint]:
    """Probe points from a plausible rate-quality model: rate falls ~11 % per CRF step and
    grows with pixels and complexity; quality falls with CRF and with the upscale."""
    points = []
    for i, (w, h) in enumerate(SIZES):
        for crf in (19, 25, 31):
            kbps = complexity * (w * h) ** 0.8 * math.exp(-0.115 * crf) * 0.9
            ceiling = 100 - upscale_loss * (len(SIZES) - 1 - i) ** 1.3
            quality = max(0.0, ceiling - 0.06 * (crf - 12) ** 2 * complexity**0.3)
            quality += noise * math.sin(crf * 7.0 + i)
            points.append(ProbePoint(width=w, height=h, crf=crf, kbps=kbps, quality=quality))
    return points


configs = st.builds(
    AutoLadderConfig,
    min_bitrate_kbps=st.integers(50, 1000),
    max_bitrate_kbps=st.integers(1500, 12000),
    max_renditions=st.integers(1, 8),
    target_vmaf=st.floats(80, 99),
    min_vmaf_step=st.floats(1, 12),
    min_bitrate_ratio=st.floats(1.2, 2.5),
)


@settings(max_examples=300, deadline=None)
@given(
    config=configs,
    complexity=st.floats(0.2, 8.0),
    upscale_loss=st.floats(0.5, 12.0),
    noise=st.floats(0.0, 2.0),
)
def test_auto_ladder_invariants(
    config: AutoLadderConfig, complexity: float, upscale_loss: float, noise: float
) -> None:
    points = model_points(complexity, upscale_loss, noise)
    rungs = select_rungs(points, config)
    assert 1 <= len(rungs) <= config.max_renditions
    rates = [r.kbps for r in rungs]
    assert rates == sorted(rates) and len(set(rates)) == len(rates), "bitrate rises"
    pixels = [r.width * r.height for r in rungs]
    assert pixels == sorted(pixels), "resolution never falls as the bitrate rises"
    hull = frontier(points, config)
    if any(config.min_bitrate_kbps <= c.kbps <= config.max_bitrate_kbps for c in hull):
        assert all(r.kbps <= config.max_bitrate_kbps * 1.0001 for r in rungs)
        assert all(r.kbps >= config.min_bitrate_kbps * 0.9999 for r in rungs)
    lo, hi = config.crf_range
    assert all(lo <= r.crf <= hi and r.max_bitrate_kbps >= r.kbps for r in rungs)
    # the top rung reaches the target when any encode within the maximum bitrate does
    if any(c.quality >= config.target_vmaf for c in hull if c.kbps <= config.max_bitrate_kbps):
        assert rungs[-1].quality >= config.target_vmaf

    # and the planner keeps them as they are: same sizes, capped CRF, rising
    analysis = ComplexityAnalysis(
        duration=60,
        source_size=(1920, 1080),
        frame_rate="25",
        samples=[(0, 1)],
        preset="veryfast",
        points=points,
    )
    policy, choices = auto_policy(get_policy("auto").model_copy(update={"auto": config}), analysis)
    ladder = plan_ladder(source(1920, 1080), policy)
    assert [(r.width, r.height, r.crf) for r in ladder.rungs] == [
        (c.width, c.height, c.crf) for c in choices
    ]
    caps = [r.max_bitrate_kbps for r in ladder.rungs]
    assert caps == sorted(caps)


def test_simple_content_gets_fewer_and_cheaper_rungs() -> None:
    config = AutoLadderConfig()
    easy = select_rungs(model_points(0.3, 2.0), config)
    hard = select_rungs(model_points(6.0, 2.0), config)
    assert len(easy) < len(hard)
    assert easy[-1].kbps < hard[-1].kbps


def test_probe_sizes_follow_the_source() -> None:
    config = AutoLadderConfig()
    assert probe_sizes((1280, 720), config) == [(1280, 720), (960, 540), (768, 432), (640, 360)]
    assert probe_sizes((1920, 1080), config)[0] == (1920, 1080)
    assert probe_sizes((320, 180), config) == [(320, 180)]


def test_bd_rate() -> None:
    anchor = [(200, 60.0), (500, 75.0), (1000, 85.0), (2000, 92.0), (4000, 96.0)]
    assert bd_rate(anchor, anchor) == pytest.approx(0.0, abs=1e-9)
    half = [(r / 2, q) for r, q in anchor]
    assert bd_rate(anchor, half) == pytest.approx(-50.0, abs=1e-6)
    assert bd_rate(half, anchor) == pytest.approx(100.0, abs=1e-6)
    better = [(r, q + 3) for r, q in anchor]
    assert bd_rate(anchor, better) < 0
    assert bd_rate(anchor, [(100, 10.0), (200, 20.0)]) is None  # no overlap
    assert bd_rate(anchor, [(100, 70.0)]) is None  # one point


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


def test_pick_samples_avoids_cuts_and_prefers_typical_motion() -> None:
    from primevod.adapters.media.complexity import pick_samples

    fps = 10.0
    # a 6 s window from t=10: calm, a cut at 12.0, then a burst of motion from 14.5
    activity = [1.0] * 20 + [80.0] + [1.0] * 24 + [30.0] * 15
    samples = pick_samples([(10.0, activity, [12.0])], fps, 1.0, 60.0)
    ((start, length),) = samples
    assert length == 1.0
    assert not start + 0.1 < 12.0 < start + 0.9, "a sample never straddles a cut"
    assert start + 1.0 <= 14.6, "typical (calm) motion, not the burst"


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


def test_frontier_drops_a_small_picture_a_bigger_one_beats_for_the_same_bits() -> None:
    import itertools

    from primevod.core.quality import ProbePoint, frontier

    # the probes of the noisy benchmark title (height, CRF, kb/s, VMAF)
    measured = [
        (360, 31, 216, 27.9), (432, 31, 305, 35.6), (540, 31, 571, 45.4), (360, 25, 618, 47.3),
        (432, 25, 1014, 55.4), (360, 19, 1741, 59.0), (720, 31, 1965, 62.1),
        (540, 25, 1984, 64.5), (432, 19, 2732, 66.4), (540, 19, 4873, 74.7),
        (720, 25, 5556, 80.8), (720, 19, 11519, 90.7),
    ]  # fmt: skip
    points = [
        ProbePoint(width=h * 16 // 9 // 2 * 2, height=h, crf=c, kbps=k, quality=q)
        for h, c, k, q in measured
    ]
    hull = frontier(points, AutoLadderConfig())
    kbps = [c.kbps for c in hull]
    assert kbps == sorted(kbps) and [c.quality for c in hull] == sorted(c.quality for c in hull)
    # 432p at CRF 21 (1964 kb/s, 62.7) is on the staircase, but 540p gives 1.8 more for 1 %
    # more bits: a rung near 2 Mb/s is 540p
    assert not [c for c in hull if c.height == 432 and 1500 < c.kbps < 2500]
    assert [c for c in hull if c.height == 540 and 1500 < c.kbps < 2500]
    # locally only: no gap wider than 1.3x opens in the envelope
    assert all(b.kbps / a.kbps <= 1.3 for a, b in itertools.pairwise(hull))
