"""Encode one title with several ladder policies and score every rung against the source:
rungs, bytes, per-rung VMAF, bytes saved against the `apple` ladder and BD-rate. Used by
`primevod ladder compare` and the BD-rate benchmark."""

from __future__ import annotations

import resource
import time
from pathlib import Path
from typing import Any

from primevod.adapters.media.ffmpeg_command import EncodeOptions
from primevod.adapters.media.quality_meter import measure_package
from primevod.adapters.media.transcoder import MediaEngine
from primevod.core.codec_families import FAMILY_ORDER, CodecFamily
from primevod.core.ladder import LadderPolicy
from primevod.core.probe import ProbeResult
from primevod.core.quality import bd_rate

# within this many VMAF points of the anchor's top rung counts as "equal" top quality
TOP_QUALITY_TOLERANCE = 0.5


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def encode_and_score(
    source: Path,
    probe: ProbeResult,
    policy: LadderPolicy,
    outdir: Path,
    *,
    options: EncodeOptions,
    segments: int | None = None,
    subsample: int = 2,
    analysis_cache: Path | None = None,
) -> dict[str, Any]:
    """One policy: encode (timed in wall and child CPU seconds), then score every rung."""
    engine = MediaEngine(options, analysis_cache=analysis_cache)
    cpu0, wall0 = _child_cpu(), time.monotonic()
    result = engine.transcode(source, outdir, policy, probe=probe, overwrite=True)
    cpu1, wall1 = _child_cpu(), time.monotonic()
    scores = measure_package(result, source, probe, segments=segments, subsample=subsample)
    video = [r for r in result.renditions if r.kind == "video"]
    rungs = []
    for rendition, score in zip(video, scores, strict=True):
        rungs.append(
            {
                "name": rendition.name,
                "family": str(rendition.family or CodecFamily.H264),
                "size": f"{rendition.width}x{rendition.height}",
                "average_kbps": round(rendition.average_bitrate / 1000, 1),
                "peak_kbps": round(rendition.peak_bitrate / 1000, 1),
                "bytes": rendition.bytes,
                "vmaf": score.vmaf if score.vmaf is not None else score.psnr,
                "metric": score.metric,
            }
        )
    rungs_plan = result.ladder.rungs
    return {
        "policy": policy.name,
        "preset": options.effective_preset,
        "mode": options.mode,
        "rungs": rungs,
        "rate_control": [r.rate_control.value for r in rungs_plan],
        "crf": [r.crf for r in rungs_plan],
        "left_out": result.ladder.left_out,
        "video_bytes": sum(r.bytes for r in video),
        "total_bytes": result.total_bytes,
        "top_vmaf": rungs[-1]["vmaf"] if rungs else None,
        "encode_seconds": result.encode_seconds,
        "analysis_seconds": result.analysis_seconds,
        "wall_seconds": round(wall1 - wall0, 3),
        "cpu_seconds": round(cpu1 - cpu0, 3),
        "auto": result.auto.model_dump(mode="json") if result.auto else None,
        "validation_passed": result.validation.passed,
    }


def points(entry: dict[str, Any]) -> list[tuple[float, float]]:
    return [(r["average_kbps"], r["vmaf"]) for r in entry["rungs"] if r["vmaf"] is not None]


def family_entry(entry: dict[str, Any], family: str) -> dict[str, Any]:
    """The entry narrowed to one codec family's rungs (its bytes, its top rung)."""
    rungs = [r for r in entry["rungs"] if r.get("family", "h264") == family]
    return {
        **entry,
        "rungs": rungs,
        "video_bytes": sum(r["bytes"] for r in rungs),
        "top_vmaf": rungs[-1]["vmaf"] if rungs else None,
    }


def against_anchor_by_family(entry: dict[str, Any], anchor: dict[str, Any]) -> dict[str, Any]:
    """Each family's rungs against the anchor, the H.264 family's figures at the top level
    (the ladder every device plays), and which family a modern device receives: the most
    efficient one in the ladder."""
    present = {r.get("family", "h264") for r in entry["rungs"]}
    families = [str(f) for f in FAMILY_ORDER if str(f) in present] or ["h264"]
    by_family = {f: against_anchor(family_entry(entry, f), anchor) for f in families}
    return {**by_family["h264"], "families": by_family, "best_family": families[-1]}


def against_anchor(entry: dict[str, Any], anchor: dict[str, Any]) -> dict[str, Any]:
    """BD-rate against the anchor, and bytes saved when the top rung is at least as good."""
    bd = bd_rate(points(anchor), points(entry))
    top, anchor_top = entry["top_vmaf"], anchor["top_vmaf"]
    equal_or_better = (
        top is not None and anchor_top is not None and top >= anchor_top - TOP_QUALITY_TOLERANCE
    )
    saved = 1.0 - entry["video_bytes"] / anchor["video_bytes"] if anchor["video_bytes"] else None
    return {
        "bd_rate_percent": round(bd, 2) if bd is not None else None,
        "top_vmaf_delta": round(top - anchor_top, 2)
        if top is not None and anchor_top is not None
        else None,
        "bytes_saved_percent": round(saved * 100, 1)
        if saved is not None and equal_or_better
        else None,
        "bytes_ratio": round(entry["video_bytes"] / anchor["video_bytes"], 3)
        if anchor["video_bytes"]
        else None,
    }
