"""Ladder planning: pure, no FFmpeg. Property tests over arbitrary sources for every policy."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from primevod.core.codec_families import CodecFamily
from primevod.core.errors import MediaError
from primevod.core.ladder import (
    Ladder,
    RateControl,
    gop_seconds_for,
    output_frame_rate,
    plan_ladder,
    quality_to_crf,
    with_codecs,
)
from primevod.core.policies import POLICIES, get_policy
from primevod.core.probe import AudioStreamInfo, ProbeResult, VideoStreamInfo


def source(
    width=1280,
    height=720,
    fps=25.0,
    rotation=0,
    sar="1:1",
    vfr=False,
    scan="progressive",
    audio=True,
    channels=2,
) -> ProbeResult:
    return ProbeResult(
        path="x.mp4",
        format_name="mp4",
        size=1000,
        duration=60.0,
        video=[
            VideoStreamInfo(
                index=0,
                codec="h264",
                width=width,
                height=height,
                frame_rate=fps,
                rotation=rotation,
                sample_aspect_ratio=sar,
                variable_frame_rate=vfr,
                scan_type=scan,
            )
        ],
        audio=[AudioStreamInfo(index=1, codec="aac", channels=channels, sample_rate=48000)]
        if audio
        else [],
    )


sources = st.builds(
    source,
    width=st.integers(16, 4096),
    height=st.integers(16, 4096),
    fps=st.floats(1.0, 240.0),
    rotation=st.sampled_from([0, 90, 180, 270]),
    sar=st.sampled_from(["1:1", "4:3", "8:9", "32:27", "10:11"]),
    vfr=st.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(src=sources, policy_name=st.sampled_from(sorted(POLICIES)))
def test_ladder_invariants(src: ProbeResult, policy_name: str) -> None:
    policy = get_policy(policy_name)
    ladder = plan_ladder(src, policy)
    video = src.primary_video
    assert video is not None
    disp_w, disp_h = video.display_size
    assert ladder.rungs, "every video source gets at least one rung"
    fps = Fraction(ladder.rungs[0].frame_rate)
    assert 0 < fps <= 60
    for rung in ladder.rungs:
        assert rung.width % 2 == 0 and rung.height % 2 == 0
        # never upscale (beyond the rounding to even numbers)
        assert rung.width <= max(2, disp_w + 1) and rung.height <= max(2, disp_h + 1)
        # display aspect ratio kept, within the rounding of each side to an even number
        assert abs(rung.width / rung.height - disp_w / disp_h) <= (disp_w / disp_h) * (
            2.5 / rung.height + 2.5 / rung.width
        )
        # the pixel shape makes every rung display at exactly the source's aspect ratio
        num, den = (int(x) for x in rung.sample_aspect_ratio.split(":"))
        shown = Fraction(num, den) * Fraction(rung.width, rung.height)
        assert abs(float(shown) - disp_w / disp_h) <= 1e-4 * disp_w / disp_h
        assert rung.max_bitrate_kbps >= (rung.bitrate_kbps or 0)
        assert rung.buffer_kbits > 0
        assert rung.gop_frames == max(1, round(float(fps) * ladder.gop_seconds))
        if policy.rate_control is RateControl.CAPPED_CRF:
            assert rung.crf is not None and rung.bitrate_kbps is None
        else:
            assert rung.crf is None and rung.bitrate_kbps
    # rising ladder: more pixels never costs fewer bits, and no two rungs are the same
    keys = [(r.width, r.height, r.bitrate_kbps or r.max_bitrate_kbps) for r in ladder.rungs]
    assert len(set(keys)) == len(keys)
    nominal = [r.bitrate_kbps or r.max_bitrate_kbps for r in ladder.rungs]
    assert nominal == sorted(nominal) and len(set(nominal)) == len(nominal)
    pixels = [r.width * r.height for r in ladder.rungs]
    assert pixels == sorted(pixels)
    assert len(ladder.rungs) <= len(policy.rungs)
    # segments hold whole GOPs
    assert (
        abs(
            ladder.segment_seconds / ladder.gop_seconds
            - round(ladder.segment_seconds / ladder.gop_seconds)
        )
        < 1e-9
    )


def test_qcif_source_gets_one_valid_rung() -> None:
    for name in POLICIES:
        ladder = plan_ladder(source(176, 144, fps=15), get_policy(name))
        assert [(r.width, r.height) for r in ladder.rungs] == [(176, 144)]
        assert ladder.rungs[0].frame_rate == "15"


@pytest.mark.parametrize(
    ("size", "top"),
    [((854, 480), (854, 480)), ((640, 480), (640, 480)), ((480, 854), (480, 854))],
)
def test_a_source_between_boxes_keeps_its_own_size_on_top(size, top) -> None:
    # the 540p box would upscale a 480p source and the 360p one shows 56 % of its pixels
    ladder = plan_ladder(source(*size), get_policy("default"))
    sizes = [(r.width, r.height) for r in ladder.rungs]
    assert sizes[-1] == top and len(sizes) == 3
    # priced as the 540p box's template, scaled down with the pixels
    assert ladder.rungs[-1].max_bitrate_kbps < 2000 * 1.75


def test_a_top_box_close_to_the_source_adds_no_source_size_rung() -> None:
    # Apple's 432p box keeps 81 % of an 854x480 source; a 320x240 clip fills the 234p box
    apple = plan_ladder(source(854, 480), get_policy("apple"))
    assert max((r.width, r.height) for r in apple.rungs) == (768, 432)
    small = plan_ladder(source(320, 240), get_policy("default"))
    assert [(r.width, r.height) for r in small.rungs] == [(312, 234)]


def test_apple_ladder_on_720p_tops_at_720p() -> None:
    ladder = plan_ladder(source(1280, 720), get_policy("apple"))
    assert [(r.width, r.height, r.bitrate_kbps) for r in ladder.rungs] == [
        (416, 234, 145),
        (640, 360, 365),
        (768, 432, 730),
        (768, 432, 1100),
        (960, 540, 2000),
        (1280, 720, 3000),
        (1280, 720, 4500),
    ]
    assert {a.bitrate_kbps for a in ladder.audio} == {64, 96, 128}
    assert ladder.rungs[0].profile == "main" and ladder.rungs[-1].profile == "high"
    assert ladder.rungs[-1].level == "3.1"


def test_aws_vod_ladder_on_1080p_maps_qvbr_to_capped_crf() -> None:
    ladder = plan_ladder(source(1920, 1080, fps=29.97), get_policy("aws-vod"))
    assert [(r.width, r.height, r.max_bitrate_kbps, r.crf) for r in ladder.rungs] == [
        (480, 270, 400, 24),
        (640, 360, 1500, 24),
        (960, 540, 3500, 22),
        (1280, 720, 6000, 22),
        (1920, 1080, 8500, 20),
    ]
    assert ladder.segment_seconds == 3.0 and ladder.gop_seconds == 3.0
    assert ladder.rungs[0].gop_frames == 90


def test_portrait_phone_video_keeps_orientation() -> None:
    ladder = plan_ladder(source(1920, 1080, rotation=90), get_policy("default"))
    assert all(r.height > r.width for r in ladder.rungs)
    assert (ladder.rungs[-1].width, ladder.rungs[-1].height) == (1080, 1920)


def test_anamorphic_source_is_made_square_pixels() -> None:
    ladder = plan_ladder(source(720, 576, sar="64:45"), get_policy("default"))
    top = ladder.rungs[-1]
    assert abs(top.width / top.height - 16 / 9) < 0.02


def test_high_frame_rate_is_divided_down_to_60() -> None:
    for fps, expected in [(120, 60), (100, 50), (240, 60), (59.94, 59.94), (50, 50)]:
        got = float(output_frame_rate(source(fps=fps).video[0]))
        assert abs(got - expected) < 0.01


def test_variable_frame_rate_snaps_to_a_standard_rate() -> None:
    assert output_frame_rate(source(fps=29.7, vfr=True).video[0]) == Fraction(30000, 1001)


def test_interlaced_source_is_deinterlaced() -> None:
    assert plan_ladder(source(scan="interlaced"), get_policy("default")).deinterlace


@pytest.mark.parametrize("transfer", ["smpte2084", "arib-std-b67"])
def test_an_hdr_source_is_tone_mapped_before_the_frame_rate_and_the_scales(transfer) -> None:
    probe = source(scan="interlaced")
    probe.video[0].color_transfer = transfer
    ladder = plan_ladder(probe, get_policy("default"))
    assert ladder.tone_map == transfer
    command = encode_command(ladder, probe)
    graph = command[command.index("-filter_complex") + 1]
    first = graph.split(";")[0]
    assert first.index("bwdif") < first.index(f"zscale=tin={transfer}") < first.index("fps=")
    assert "tonemap=tonemap=mobius" in first and "zscale=t=bt709:m=bt709:r=tv" in first


def test_an_sdr_source_is_not_tone_mapped() -> None:
    for transfer in (None, "bt709", "smpte170m"):
        probe = source()
        probe.video[0].color_transfer = transfer
        ladder = plan_ladder(probe, get_policy("default"))
        assert ladder.tone_map is None
        assert "tonemap" not in " ".join(encode_command(ladder, probe))


def test_mono_audio_gets_half_the_bits() -> None:
    ladder = plan_ladder(source(channels=1), get_policy("default"))
    assert {a.channels for a in ladder.audio} == {1}
    assert {a.bitrate_kbps for a in ladder.audio} == {32, 64}


def test_audio_only_source_gets_audio_renditions() -> None:
    probe = source(audio=True)
    probe.video = []
    ladder = plan_ladder(probe, get_policy("default"))
    assert ladder.audio_only and [a.bitrate_kbps for a in ladder.audio] == [64, 128]


def test_segment_duration_sets_gop() -> None:
    assert gop_seconds_for(4) == 2 and gop_seconds_for(6) == 2 and gop_seconds_for(3) == 1.5
    assert gop_seconds_for(1) == 1
    ladder = plan_ladder(source(fps=30), get_policy("default"), segment_seconds=6)
    assert ladder.segment_seconds == 6 and ladder.rungs[0].gop_frames == 60
    with pytest.raises(MediaError) as info:
        plan_ladder(source(), get_policy("default"), segment_seconds=0.1)
    assert info.value.code == "request.invalid"


def test_unknown_policy_has_a_stable_code() -> None:
    with pytest.raises(MediaError) as info:
        get_policy("nope")
    assert info.value.code == "ladder.unknown_policy"


def test_quality_levels_map_to_crf() -> None:
    assert [quality_to_crf(q) for q in (1, 7, 8, 9, 10)] == [36, 24, 22, 20, 18]
    with pytest.raises(MediaError):
        quality_to_crf(11)


def encode_command(ladder: Ladder, probe: ProbeResult, options: Any = None) -> list[str]:
    """The one FFmpeg command of this ladder (x264 `medium`, no thumbnails by default)."""
    from pathlib import Path

    from primevod.adapters.media.ffmpeg_command import EncodeOptions, build_command

    options = options or EncodeOptions(preset="medium", thumbnails=False)
    return build_command("ffmpeg", Path("in.mp4"), probe, ladder, Path("out"), options, None)


def test_auto_ladder_encodes_its_small_rungs_one_preset_slower() -> None:

    # the auto policy's stand-in rungs (no analysis): 360p and 540p under a 720p top
    ladder = plan_ladder(source(1280, 720), get_policy("auto"))
    top = max(r.pixels for r in ladder.rungs)
    steps = {r.height: r.preset_steps for r in ladder.rungs}
    assert steps[720] == 0 and steps[360] == 1
    assert all((r.preset_steps == 1) == (r.pixels * 2 <= top) for r in ladder.rungs)
    cmd = encode_command(ladder, source(1280, 720))
    presets = [cmd[cmd.index(f"-preset:v:{i}") + 1] for i in range(len(ladder.rungs))]
    assert presets == ["slow" if r.preset_steps else "medium" for r in ladder.rungs]
    # fixed ladders keep one preset for every rung
    apple = plan_ladder(source(1280, 720), get_policy("apple"))
    assert all(r.preset_steps == 0 for r in apple.rungs)


def test_small_rungs_never_go_past_slow() -> None:
    from primevod.adapters.media.ffmpeg_command import slower_preset

    assert slower_preset("veryfast", 1) == "faster"
    assert slower_preset("medium", 1) == "slow"
    assert slower_preset("medium", 3) == "slow"
    assert slower_preset("slow", 1) == "slow"  # quality mode's preset stays
    assert slower_preset("veryslow", 1) == "veryslow"
    assert slower_preset("custom", 1) == "custom"


def test_av1_encoders_share_the_cores_of_a_run_with_many_encoders(monkeypatch) -> None:

    from primevod.adapters.media import ffmpeg_command

    assert ffmpeg_command.svt_parallelism(1, cores=8) == ""  # alone: SVT-AV1's own choice
    assert ffmpeg_command.svt_parallelism(2, cores=8) == ":lp=4"
    assert ffmpeg_command.svt_parallelism(12, cores=2) == ":lp=1"
    monkeypatch.setattr(ffmpeg_command.os, "cpu_count", lambda: 2)
    ladder = plan_ladder(source(1280, 720), with_codecs(get_policy("default"), "av1"))
    cmd = encode_command(ladder, source(1280, 720))
    av1 = [i for i, r in enumerate(ladder.rungs) if r.codec is CodecFamily.AV1]
    assert av1 and len(ladder.rungs) > 2
    assert all(cmd[cmd.index(f"-svtav1-params:v:{i}") + 1] == "scd=0:lp=1" for i in av1)


def test_av1_rungs_under_720p_encode_one_preset_slower() -> None:

    from primevod.adapters.media.ffmpeg_command import EncodeOptions

    ladder = plan_ladder(source(1920, 1080), with_codecs(get_policy("default"), "av1"))
    options = EncodeOptions(preset="medium", thumbnails=False)
    cmd = encode_command(ladder, source(1920, 1080), options)
    av1 = [(i, r) for i, r in enumerate(ladder.rungs) if r.codec is CodecFamily.AV1]
    presets = {r.height: cmd[cmd.index(f"-preset:v:{i}") + 1] for i, r in av1}
    assert presets[1080] == presets[720] == str(options.av1_preset)
    assert {presets[h] for h in presets if h < 720} == {str(options.av1_preset - 1)}
