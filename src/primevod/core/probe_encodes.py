"""The probe encodes of the content-adaptive ladder: the sizes they run at, and what they
measured of one title (cached per source checksum)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from primevod.core.codec_families import CodecFamily
from primevod.core.ladder import AutoLadderConfig
from primevod.core.quality_report import Metric


class ProbePoint(BaseModel):
    """One probe encode of the samples: a resolution and CRF, what it cost, what it scored."""

    width: int
    height: int
    crf: float = Field(description="in the codec's own scale")
    kbps: float
    quality: float = Field(description="VMAF (0-100), or PSNR in dB when metric is psnr")
    codec: CodecFamily = CodecFamily.H264


class ComplexityAnalysis(BaseModel):
    """What the probe encodes of one title measured; cached per source checksum."""

    version: int = 1
    checksum: str | None = None
    metric: Metric = "vmaf"
    duration: float
    source_size: tuple[int, int]
    frame_rate: str
    samples: list[tuple[float, float]] = Field(description="(start, seconds) of each sample")
    scene_cuts: list[float] = Field(default_factory=list)
    static: bool = Field(False, description="still pictures: the largest, smallest size probed")
    preset: str
    codecs: list[CodecFamily] = Field(
        default_factory=lambda: [CodecFamily.H264], description="the families probed"
    )
    points: list[ProbePoint]
    reach: list[ProbePoint] = Field(
        default_factory=list,
        description="reach probes: a family whose grid stayed under H.264's best (or the "
        "target) at the largest size, probed once far above its range (core.family_reach)",
    )
    seconds: float = Field(0.0, description="wall time the analysis took")
    timing: dict[str, float] = Field(default_factory=dict, description="seconds per stage")
    cached: bool = False

    def family_points(self, family: CodecFamily) -> list[ProbePoint]:
        return [p for p in self.points if p.codec == family]


def probe_sizes(source: tuple[int, int], config: AutoLadderConfig) -> list[tuple[int, int]]:
    """Landscape 16:9 boxes to probe: the largest allowed height the source fills, then each
    next allowed height at most 1/1.2 of the last, up to `probe_heights` of them."""
    src_short = min(source)
    heights = sorted({h for h in config.heights if h <= src_short * 1.1}, reverse=True)
    if not heights:
        return [(even(src_short * 16 / 9), even(src_short))]
    chosen = [heights[0]]
    for h in heights[1:]:
        if len(chosen) >= config.probe_heights:
            break
        if h <= chosen[-1] / 1.2:
            chosen.append(h)
    return [(even(h * 16 / 9), h) for h in chosen]


def even(value: float) -> int:
    return max(2, round(value / 2.0) * 2)
