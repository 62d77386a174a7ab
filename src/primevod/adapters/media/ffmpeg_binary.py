"""Where the FFmpeg executable comes from: the imageio-ffmpeg wheel, or PRIMEVOD_FFMPEG."""

from __future__ import annotations

import functools
import os
import subprocess


@functools.cache
def ffmpeg_exe() -> str:
    override = os.environ.get("PRIMEVOD_FFMPEG")
    if override:
        return override
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


@functools.cache
def ffmpeg_version() -> str:
    out = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-version"], capture_output=True, text=True, check=False
    ).stdout
    first = out.splitlines()[0] if out else ""
    return first.split(" ")[2] if first.startswith("ffmpeg version") else first
