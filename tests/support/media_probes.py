"""Probe results of typical sources, built by hand (no file needed): the MediaConvert job
tests run every ladder policy over them."""

from __future__ import annotations

from primevod.core.probe import AudioStreamInfo, ProbeResult, VideoStreamInfo

ROLE = "arn:aws:iam::123456789012:role/MediaConvertRole"
INPUT = "s3://source-bucket/uploads/a1/clip.mp4"
DESTINATION = "s3://destination-bucket/assets/a1/1/"
NTSC, FILM = 30000 / 1001, 24000 / 1001


def source(
    width: int = 1920,
    height: int = 1080,
    fps: float = 25.0,
    *,
    audio: bool = True,
    channels: int = 2,
    scan: str = "progressive",
    rotation: int = 0,
    duration: float | None = 60.0,
    video: bool = True,
    transfer: str | None = None,
) -> ProbeResult:
    stream = VideoStreamInfo(
        index=0,
        codec="hevc" if transfer else "h264",
        width=width,
        height=height,
        frame_rate=fps,
        scan_type=scan,
        rotation=rotation,
        color_transfer=transfer,
        color_primaries="bt2020" if transfer else None,
        color_matrix="bt2020nc" if transfer else None,
    )
    sound = AudioStreamInfo(index=1, codec="aac", channels=channels, sample_rate=48000)
    return ProbeResult(
        path="clip.mp4",
        format_name="mov,mp4,m4a,3gp,3g2,mj2",
        size=10_000_000,
        duration=duration,
        video=[stream] if video else [],
        audio=[sound] if audio else [],
    )


PROBES: dict[str, ProbeResult] = {
    "1080p25": source(),
    "720p29.97": source(1280, 720, NTSC),
    "2160p23.976": source(3840, 2160, FILM),
    "portrait-1080x1920-30": source(1080, 1920, 30.0),
    "sd-640x480i-29.97": source(640, 480, NTSC, scan="interlaced"),
    "1080p60": source(fps=60.0),
    "1080p25-silent": source(audio=False),
    "720p25-mono": source(1280, 720, channels=1),
    "phone-rotated-90": source(1920, 1080, 30.0, rotation=90),
    "phone-hlg-1080x1920-30": source(1080, 1920, 30.0, transfer="arib-std-b67"),
    "hdr10-2160p23.976": source(3840, 2160, FILM, transfer="smpte2084"),
}
