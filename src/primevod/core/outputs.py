"""What an encode produced: renditions with measured figures, files, and the validation
report. Serialises to JSON for the CLI and the catalog."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from primevod.core.codec_families import CodecFamily
from primevod.core.ladder import Ladder
from primevod.core.quality import ComplexityAnalysis, RungChoice
from primevod.core.thumbnails import ThumbnailPlan

Severity = Literal["error", "warning"]


class RuleResult(BaseModel):
    rule: str  # stable id, e.g. "segment.keyframe"
    target: str  # what was checked: "master", a playlist or the MPD
    passed: bool
    severity: Severity = "error"
    message: str = ""


class ValidationReport(BaseModel):
    passed: bool = True
    results: list[RuleResult] = Field(default_factory=list)

    def add(
        self, rule: str, target: str, passed: bool, message: str = "", severity: Severity = "error"
    ) -> None:
        self.results.append(
            RuleResult(rule=rule, target=target, passed=passed, message=message, severity=severity)
        )
        if not passed and severity == "error":
            self.passed = False

    @property
    def failures(self) -> list[RuleResult]:
        return [r for r in self.results if not r.passed and r.severity == "error"]

    def summary(self) -> dict[str, int]:
        return {
            "checked": len(self.results),
            "failed": len(self.failures),
            "warnings": sum(1 for r in self.results if not r.passed and r.severity == "warning"),
        }


class RenditionOutput(BaseModel):
    kind: Literal["video", "audio"]
    name: str
    representation_id: str
    playlist: str
    init_segment: str | None
    codecs: str
    family: CodecFamily | None = Field(None, description="video: the rung's codec family")
    width: int | None = None
    height: int | None = None
    frame_rate: float | None = None
    channels: int | None = None
    audio_group: str | None = None
    language: str | None = Field(None, description="audio: RFC 5646 tag (several languages)")
    target_bitrate: int | None = Field(None, description="bit/s planned (cap for capped CRF)")
    average_bitrate: int = Field(description="bit/s measured over all segments")
    peak_bitrate: int = Field(description="bit/s of the heaviest segment")
    segments: int
    bytes: int


class VariantOutput(BaseModel):
    playlist: str
    bandwidth: int
    average_bandwidth: int
    codecs: str
    resolution: str | None
    audio_group: str | None


class SubtitleOutput(BaseModel):
    """A WebVTT rendition: HLS segments on the video's grid and one whole file for DASH."""

    language: str
    name: str
    origin: str = Field(description="sidecar or embedded")
    playlist: str
    vtt: str = Field(description="the whole-title WebVTT file")
    cues: int


class AutoPlan(BaseModel):
    """How the `auto` ladder was chosen: the probe measurements and each rung's prediction."""

    analysis: ComplexityAnalysis
    rungs: list[RungChoice]


class EncodePlan(BaseModel):
    """What a title is encoded to: the ladder (per title for an `auto` policy, with how it
    was chosen), the thumbnails, and the duration they were planned for."""

    ladder: Ladder
    thumbs: ThumbnailPlan | None = None
    duration: float
    auto: AutoPlan | None = None
    analysis_seconds: float = 0.0


class PackageResult(BaseModel):
    output_dir: str
    master: str
    manifest: str | None = Field(description="the DASH MPD; None: HLS only (encrypted)")
    duration: float
    ladder: Ladder
    renditions: list[RenditionOutput]
    variants: list[VariantOutput]
    poster: str | None = None
    thumbnails: list[str] = Field(default_factory=list)
    sprites: list[str] = Field(default_factory=list)
    storyboard: str | None = None
    subtitles: list[SubtitleOutput] = Field(default_factory=list)
    iframe_playlists: list[str] = Field(
        default_factory=list, description="HLS EXT-X-I-FRAME-STREAM-INF playlists"
    )
    skipped_subtitles: list[str] = Field(
        default_factory=list, description="source subtitle streams left out, and why"
    )
    total_bytes: int = 0
    encode_seconds: float = Field(0.0, description="the FFmpeg run(s) alone")
    encode_cpu_seconds: float = Field(0.0, description="CPU time (user + system) of those runs")
    analysis_seconds: float = Field(0.0, description="the auto ladder's complexity analysis")
    auto: AutoPlan | None = None
    total_seconds: float = Field(0.0, description="probe to validated package in place")
    realtime_factor: float = Field(0.0, description="duration / total_seconds")
    validation: ValidationReport = Field(default_factory=ValidationReport)
    encryption: str | None = Field(None, description="aes-128: HLS segments encrypted")
