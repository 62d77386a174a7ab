"""Probing real files: generated clips, Big Buck Bunny, and broken inputs."""

from __future__ import annotations

import json
import subprocess

import pytest

from primevod.adapters.media.ffmpeg_binary import ffmpeg_exe
from primevod.adapters.media.pyav_probe import probe_file
from primevod.core.errors import MediaError


def test_probe_big_buck_bunny(bbb) -> None:
    result = probe_file(bbb)
    assert result.format_name.startswith("mov,mp4")
    assert abs(result.duration - 5.31) < 0.05
    assert result.size == bbb.stat().st_size
    assert result.bit_rate and result.bit_rate > 1_000_000
    video = result.primary_video
    assert video is not None
    assert (video.codec, video.width, video.height) == ("h264", 1280, 720)
    assert video.profile == "Main"
    assert video.frame_rate == 25.0 and not video.variable_frame_rate
    assert video.pixel_format == "yuv420p" and video.bit_depth == 8
    assert video.chroma_subsampling == "4:2:0"
    assert video.scan_type == "progressive" and video.rotation == 0
    assert video.display_aspect_ratio == "16:9"
    assert video.frame_count == 132
    audio = result.primary_audio
    assert audio is not None
    assert (audio.codec, audio.channels, audio.sample_rate) == ("aac", 6, 48000)
    # serialises to JSON and back
    again = type(result).model_validate(json.loads(result.model_dump_json()))
    assert again == result


@pytest.mark.parametrize(
    ("name", "expect"),
    [
        ("tenbit.mp4", {"bit_depth": 10, "pixel_format": "yuv420p10le"}),
        ("yuv444.mp4", {"chroma_subsampling": "4:4:4", "bit_depth": 8}),
        ("interlaced.ts", {"scan_type": "interlaced", "codec": "mpeg2video"}),
        ("odd.mkv", {"width": 175, "height": 97, "codec": "ffv1"}),
        ("vfr.mp4", {"variable_frame_rate": True}),
        ("small.mp4", {"variable_frame_rate": False, "frame_rate": 30.0}),
        ("anamorphic.mp4", {"sample_aspect_ratio": "4:3", "display_aspect_ratio": "16:9"}),
        ("fast120.mp4", {"frame_rate": 120.0}),
    ],
)
def test_probe_video_properties(clip, name: str, expect: dict[str, object]) -> None:
    video = probe_file(clip(name)).primary_video
    assert video is not None
    for key, value in expect.items():
        assert getattr(video, key) == value, key


def test_probe_rotation(rotated) -> None:
    video = probe_file(rotated).primary_video
    assert video is not None
    assert (video.width, video.height) == (320, 180)
    assert video.rotation in (90, 270)
    assert video.display_size == (180, 320)


def test_probe_audio_only_and_no_audio(clip) -> None:
    audio_only = probe_file(clip("audioonly.m4a"))
    assert audio_only.video == [] and audio_only.audio[0].codec == "aac"
    no_audio = probe_file(clip("noaudio.mp4"))
    assert no_audio.audio == [] and no_audio.primary_video is not None


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
def test_probe_broken_inputs(corrupt, key: str, code: str) -> None:
    with pytest.raises(MediaError) as info:
        probe_file(corrupt[key])
    assert info.value.code == code
    assert corrupt[key].name in info.value.message
    assert "\n" not in info.value.message


def test_a_text_file_named_txt_is_not_video(tmp_path) -> None:
    """FFmpeg's `tty` demuxer would draw it as 640x400 frames of text."""
    notes = tmp_path / "notes.txt"
    notes.write_text("meeting notes\n" * 200)
    with pytest.raises(MediaError) as info:
        probe_file(notes)
    assert info.value.code == "source.unreadable" and "is text" in info.value.message


@pytest.mark.parametrize("name", ["poster.jpg", "poster.png", "poster.webp", "no-extension"])
def test_a_still_picture_is_refused_as_no_video(name, tmp_path) -> None:
    picture = tmp_path / name
    encoder = {"poster.jpg": "mjpeg", "poster.webp": "libwebp"}.get(name, "png")
    card = ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=1"]
    one = ["-frames:v", "1", "-c:v", encoder, "-f", "image2", str(picture)]
    subprocess.run([ffmpeg_exe(), "-v", "error", *card, *one], check=True)
    with pytest.raises(MediaError) as info:
        probe_file(picture)
    assert info.value.code == "source.duration"
    assert info.value.message == f"{name} is a still picture, not a video"


def test_an_animated_gif_is_video(tmp_path) -> None:
    gif = tmp_path / "loop.gif"
    card = ["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=10"]
    subprocess.run([ffmpeg_exe(), "-v", "error", *card, "-t", "1", str(gif)], check=True)
    video = probe_file(gif).primary_video
    assert video is not None and video.frame_count != 1


def test_probe_missing_file(tmp_path) -> None:
    with pytest.raises(MediaError) as info:
        probe_file(tmp_path / "nope.mp4")
    assert info.value.code == "source.missing"
