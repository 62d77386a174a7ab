"""The probe result: what a source file holds (the `mediainfo` equivalent), as typed models."""

from __future__ import annotations

from fractions import Fraction
from typing import Literal

from pydantic import BaseModel, Field

# transfers of high-dynamic-range video: PQ (SMPTE ST 2084, HDR10 and Dolby Vision) and
# HLG (ARIB STD-B67, phones' HDR); the ladder tone-maps them to SDR (docs/media.md)
HDR_TRANSFERS = ("smpte2084", "arib-std-b67")


class VideoStreamInfo(BaseModel):
    index: int
    codec: str
    profile: str | None = None
    width: int
    height: int
    rotation: int = Field(0, description="display rotation in degrees, one of 0, 90, 180, 270")
    sample_aspect_ratio: str = "1:1"
    display_aspect_ratio: str | None = None
    frame_rate: float | None = Field(None, description="average frames per second")
    variable_frame_rate: bool = False
    pixel_format: str | None = None
    bit_depth: int | None = None
    chroma_subsampling: str | None = Field(None, description="4:2:0, 4:2:2, 4:4:4 or None")
    scan_type: Literal["progressive", "interlaced"] = "progressive"
    bit_rate: int | None = None
    frame_count: int | None = None
    duration: float | None = None
    language: str | None = None
    default: bool = False
    color_transfer: str | None = Field(
        None, description="FFmpeg's name: bt709, smpte2084 (HDR10's PQ), arib-std-b67 (HLG)"
    )
    color_primaries: str | None = Field(None, description="FFmpeg's name: bt709, bt2020, ...")
    color_matrix: str | None = Field(None, description="FFmpeg's name: bt709, bt2020nc, ...")

    @property
    def hdr_transfer(self) -> str | None:
        """The high-dynamic-range transfer the picture is coded with (PQ or HLG), if any."""
        return self.color_transfer if self.color_transfer in HDR_TRANSFERS else None

    @property
    def sar(self) -> Fraction:
        num, _, den = self.sample_aspect_ratio.partition(":")
        try:
            value = Fraction(int(num), int(den or 1))
        except (ValueError, ZeroDivisionError):
            return Fraction(1)
        return value if value > 0 else Fraction(1)

    @property
    def display_size(self) -> tuple[int, int]:
        """Width and height as shown: square pixels, rotation applied."""
        sar = self.sar
        width, height = self.width, self.height
        if sar > 1:
            width = round(width * sar)
        elif sar < 1:
            height = round(height / sar)
        if self.rotation in (90, 270):
            width, height = height, width
        return width, height


class AudioStreamInfo(BaseModel):
    index: int
    codec: str
    profile: str | None = None
    channels: int
    channel_layout: str | None = None
    sample_rate: int
    bit_rate: int | None = None
    language: str | None = None
    duration: float | None = None
    default: bool = False


class SubtitleStreamInfo(BaseModel):
    index: int
    codec: str
    language: str | None = None
    title: str | None = None
    default: bool = False


class ProbeResult(BaseModel):
    """Everything the pipeline needs to know about a source before it plans a ladder."""

    path: str
    format_name: str
    format_long_name: str | None = None
    size: int
    duration: float | None = None
    bit_rate: int | None = None
    video: list[VideoStreamInfo] = Field(default_factory=list)
    audio: list[AudioStreamInfo] = Field(default_factory=list)
    subtitles: list[SubtitleStreamInfo] = Field(default_factory=list)
    tags: dict[str, str] = Field(default_factory=dict)

    @property
    def primary_video(self) -> VideoStreamInfo | None:
        """The stream a player would pick: the default-flagged one, else the first."""
        for stream in self.video:
            if stream.default:
                return stream
        return self.video[0] if self.video else None

    @property
    def primary_audio(self) -> AudioStreamInfo | None:
        for stream in self.audio:
            if stream.default:
                return stream
        return self.audio[0] if self.audio else None
