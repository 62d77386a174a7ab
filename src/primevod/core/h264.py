"""H.264 facts: level selection and RFC 6381 codec strings."""

from __future__ import annotations

import math

# level -> (max macroblocks per second, max frame size in macroblocks, max bitrate kbit/s and
# max CPB kbit for Baseline/Main; High allows 1.25x of both). ITU-T H.264 Table A-1.
_LEVELS: list[tuple[str, int, int, int, int]] = [
    ("1", 1485, 99, 64, 175),
    ("1.1", 3000, 396, 192, 500),
    ("1.2", 6000, 396, 384, 1000),
    ("1.3", 11880, 396, 768, 2000),
    ("2", 11880, 396, 2000, 2000),
    ("2.1", 19800, 792, 4000, 4000),
    ("2.2", 20250, 1620, 4000, 4000),
    ("3", 40500, 1620, 10000, 10000),
    ("3.1", 108000, 3600, 14000, 14000),
    ("3.2", 216000, 5120, 20000, 20000),
    ("4", 245760, 8192, 20000, 25000),
    ("4.1", 245760, 8192, 50000, 62500),
    ("4.2", 522240, 8704, 50000, 62500),
    ("5", 589824, 22080, 135000, 135000),
    ("5.1", 983040, 36864, 240000, 240000),
    ("5.2", 2073600, 36864, 240000, 240000),
    ("6", 4177920, 139264, 240000, 240000),
    ("6.1", 8355840, 139264, 480000, 480000),
    ("6.2", 16711680, 139264, 800000, 800000),
]


def h264_level(
    width: int,
    height: int,
    fps: float,
    max_kbps: int,
    profile: str = "high",
    buffer_kbits: int = 0,
) -> str:
    """The lowest level whose limits admit this picture size, frame rate, peak bitrate and
    VBV buffer."""
    mbs_w = math.ceil(width / 16)
    mbs_h = math.ceil(height / 16)
    frame_mbs = mbs_w * mbs_h
    mbps = frame_mbs * fps
    factor = 1.25 if profile == "high" else 1.0
    for name, max_mbps, max_fs, max_br, max_cpb in _LEVELS:
        side_limit = math.sqrt(max_fs * 8)
        if (
            frame_mbs <= max_fs
            and mbs_w <= side_limit
            and mbs_h <= side_limit
            and mbps <= max_mbps
            and max_kbps <= max_br * factor
            and buffer_kbits <= max_cpb * factor
        ):
            return name
    return _LEVELS[-1][0]


def avc_codec_string(profile_idc: int, constraint_flags: int, level_idc: int) -> str:
    """RFC 6381 `avc1.PPCCLL` from the three SPS bytes."""
    return f"avc1.{profile_idc:02x}{constraint_flags:02x}{level_idc:02x}"


def avc_codec_string_from_avcc(extradata: bytes) -> str | None:
    """Codec string from an `avcC` box payload (AVCDecoderConfigurationRecord)."""
    if len(extradata) >= 4 and extradata[0] == 1:
        return avc_codec_string(extradata[1], extradata[2], extradata[3])
    return None
