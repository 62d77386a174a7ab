"""A source with several tracks, made with the bundled FFmpeg: video, two audio streams
(English at 440 Hz, French at 880 Hz, so a switch is audible and measurable), an embedded
English mov_text subtitle stream; and a French WebVTT sidecar for it."""

from __future__ import annotations

import subprocess
from pathlib import Path

from primevod.adapters.media.ffmpeg_binary import ffmpeg_exe

ENGLISH_SRT = """1
00:00:00,200 --> 00:00:02,800
Hello from the embedded track

2
00:00:03,000 --> 00:00:07,500
A second English cue
"""

FRENCH_VTT = """WEBVTT

00:00:00.200 --> 00:00:02.800
Bonjour depuis le fichier

00:00:03.000 --> 00:00:07.500
Deuxième réplique en français
"""


def _two_audio_one_text(seconds: int, size: str, srt: Path, subtitle_codec: str) -> list[str]:
    """The FFmpeg command, up to the metadata and the output, of a clip with video, a 440 Hz
    and an 880 Hz audio stream and `srt` as its subtitle stream in `subtitle_codec`."""
    cmd = [ffmpeg_exe(), "-v", "error", "-y"]
    cmd += ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate=25:duration={seconds}"]
    cmd += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}"]
    cmd += ["-f", "lavfi", "-i", f"sine=frequency=880:sample_rate=48000:duration={seconds}"]
    cmd += ["-i", str(srt)]
    cmd += ["-map", "0:v", "-map", "1:a", "-map", "2:a", "-map", "3:s"]
    cmd += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    cmd += ["-c:a", "aac", "-ac", "2", "-c:s", subtitle_codec]
    return cmd


def multi_track_source(folder: Path, seconds: int = 8, size: str = "640x360") -> Path:
    """An MP4 with video, audio eng + fra and a mov_text subtitle stream (eng)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / "tracks.mp4"
    if out.exists():
        return out
    srt = folder / "english.srt"
    srt.write_text(ENGLISH_SRT)
    cmd = _two_audio_one_text(seconds, size, srt, "mov_text")
    cmd += ["-metadata:s:a:0", "language=eng", "-metadata:s:a:1", "language=fra"]
    cmd += ["-metadata:s:s:0", "language=eng", str(out)]
    subprocess.run(cmd, check=True)
    return out


def french_sidecar(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "french.vtt"
    path.write_text(FRENCH_VTT, encoding="utf-8")
    return path


# metadata a hostile source may carry: a language that walks out of the package folder and
# a title that would add lines (a variant pointing elsewhere) to the master playlist
TRAVERSAL_LANGUAGE = "en-/../../../pwn"
INJECTED_TITLE = 'Evil\n#EXT-X-STREAM-INF:BANDWIDTH=1\nhttp://evil.example/x.m3u8\n"'
BROKEN_AUDIO_LANGUAGE = 'fr"/../../../apwn'


def hostile_metadata_source(folder: Path, seconds: int = 4) -> Path:
    """An MKV whose SubRip stream has TRAVERSAL_LANGUAGE and INJECTED_TITLE, and whose second
    audio stream has BROKEN_AUDIO_LANGUAGE (a quote FFmpeg's DASH muxer would copy into the
    MPD as it is)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / "hostile.mkv"
    if out.exists():
        return out
    srt = folder / "hostile.srt"
    srt.write_text("1\n00:00:00,200 --> 00:00:02,800\nHello\n")  # within the clip
    cmd = _two_audio_one_text(seconds, "320x180", srt, "srt")
    cmd += ["-metadata:s:a:0", "language=eng"]
    cmd += ["-metadata:s:a:1", f"language={BROKEN_AUDIO_LANGUAGE}"]
    cmd += ["-metadata:s:s:0", f"language={TRAVERSAL_LANGUAGE}"]
    cmd += ["-metadata:s:s:0", f"title={INJECTED_TITLE}", str(out)]
    subprocess.run(cmd, check=True)
    return out
