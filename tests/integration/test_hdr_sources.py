"""HDR sources (PQ as in HDR10, HLG as phones record) come out as SDR BT.709 in every family:
the picture tone-mapped back near the SDR original it was made from, tagged BT.709, and
scored by VMAF against the same tone-mapped reference."""

from __future__ import annotations

import subprocess
from pathlib import Path

import av
import numpy as np
import pytest
from support.segments import first_segment_file

from primevod.adapters.media.ffmpeg_binary import ffmpeg_exe
from primevod.adapters.media.ffmpeg_command import EncodeOptions
from primevod.adapters.media.package_validator import validate_package
from primevod.adapters.media.pyav_probe import probe_file
from primevod.adapters.media.quality_meter import measure_package
from primevod.adapters.media.transcoder import MediaEngine
from primevod.core.ladder import with_codecs
from primevod.core.policies import get_policy

OPTIONS = EncodeOptions(preset="ultrafast", av1_preset=12, thumbnails=False)
BT709 = 1  # ISO/IEC 23091-2 code of BT.709 primaries, transfer and matrix


def run(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", *args], check=True)


@pytest.fixture(scope="module")
def sdr(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("hdr") / "sdr.mkv"
    run(
        *("-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=25:duration=2"),
        *("-c:v", "libx264", "-qp", "0", "-pix_fmt", "yuv420p", str(path)),
    )
    return path


def make_hdr(sdr: Path, transfer: str) -> Path:
    """The SDR card made HDR as BT.2408 places SDR in HDR: its white at 203 nits."""
    out = sdr.with_name(f"{transfer}.mp4")
    run(
        *("-i", str(sdr), "-vf"),
        f"zscale=tin=bt709:min=bt709:pin=bt709:t={transfer}:m=bt2020nc:p=bt2020:npl=203,"
        "format=yuv420p10le",
        *("-c:v", "libx265", "-crf", "10", "-tag:v", "hvc1", "-x265-params"),
        f"log-level=error:colorprim=bt2020:transfer={transfer}:colormatrix=bt2020nc",
        str(out),
    )
    return out


def picture(path: Path, n: int = 10) -> np.ndarray:
    with av.open(str(path)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i == n:
                return frame.to_ndarray(format="rgb24").astype(float)
    raise AssertionError(f"{path} has fewer than {n + 1} frames")


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(255**2 / np.mean((a - b) ** 2)))


@pytest.mark.parametrize("transfer", ["smpte2084", "arib-std-b67"])
def test_an_hdr_source_becomes_sdr_bt709_in_every_family(sdr, transfer, tmp_path) -> None:
    source = make_hdr(sdr, transfer)
    probe = probe_file(source)
    assert probe.primary_video is not None
    assert probe.primary_video.hdr_transfer == transfer
    policy = with_codecs(get_policy("default"), "h264,av1")
    result = MediaEngine(OPTIONS).transcode(source, tmp_path / "pkg", policy, segment_seconds=2)
    assert result.ladder.tone_map == transfer
    assert validate_package(Path(result.output_dir)).passed

    original = picture(sdr)
    untouched = tmp_path / "untouched.mkv"  # the HDR picture taken as SDR: what users saw
    run("-i", str(source), "-vf", "format=yuv420p", "-c:v", "libx264", "-qp", "0", str(untouched))
    assert psnr(picture(untouched), original) < 13

    tops = {}
    for rendition in (r for r in result.renditions if r.kind == "video"):
        tops[rendition.family] = rendition  # renditions come smallest first per family
    for rendition in tops.values():
        root = Path(result.output_dir)
        segment = first_segment_file(root, rendition.playlist, tmp_path / f"{rendition.name}.mp4")
        with av.open(str(segment)) as container:
            context = container.streams.video[0].codec_context
            assert (context.color_primaries, context.color_trc, context.colorspace) == (
                BT709,
                BT709,
                BT709,
            ), rendition.name
        shown = picture(segment)
        assert abs(shown.mean() - original.mean()) < 0.1 * original.mean(), rendition.name
        assert psnr(shown, original) > 17, rendition.name


def test_vmaf_scores_an_hdr_source_against_its_tone_mapped_picture(sdr, tmp_path) -> None:
    source = make_hdr(sdr, "smpte2084")
    policy = get_policy("default")
    result = MediaEngine(OPTIONS).transcode(source, tmp_path / "pkg", policy, segment_seconds=2)
    scores = measure_package(result, source, probe_file(source), segments=None, subsample=5)
    vmafs = [s.vmaf for s in sorted(scores, key=lambda s: s.width * s.height)]
    # the rungs score in order, the bottom well under the top; against the HDR picture
    # itself VMAF read every rung as 100 (the contrast the tone map takes away counts as gain)
    assert len(vmafs) == 4 and vmafs == sorted(vmafs), scores
    assert vmafs[0] < 90 < vmafs[-1] < 99.9, scores
