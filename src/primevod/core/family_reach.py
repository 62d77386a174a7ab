"""Whether a newer codec family can reach the H.264 family's top quality on a title. A player
never switches family mid-play and takes the newest one it decodes, so a family that
saturates below H.264 (SVT-AV1 smooths away camera grain that VMAF rewards) would give
every modern device a worse top picture than the fallback: such a family is left out of
that title's ladder. A family that reaches the target quality is kept whatever H.264 does
above it: both families' top rungs then sit at the target. Pure."""

from __future__ import annotations

from collections.abc import Sequence

from primevod.core.codec_families import CodecFamily, family_crf
from primevod.core.ladder import AutoLadderConfig
from primevod.core.probe_encodes import ProbePoint
from primevod.core.quality_report import Metric, target_quality

# The reach probe sits this many x264 CRF steps below the lowest H.264 probe CRF, mapped to
# the family's scale (x264 19 -> 13 -> SVT-AV1 15): about 6 steps more quality than the
# H.264 probe it must match, far above the ladder's own range.
REACH_CRF_STEPS = 6


def _largest(points: Sequence[ProbePoint]) -> tuple[int, int] | None:
    h264 = [p for p in points if p.codec is CodecFamily.H264]
    if not h264:
        return None
    top = max(h264, key=lambda p: p.width * p.height)
    return top.width, top.height


def _best(points: Sequence[ProbePoint], family: CodecFamily, size: tuple[int, int]) -> float | None:
    scores = [p.quality for p in points if p.codec == family and (p.width, p.height) == size]
    return max(scores) if scores else None


def _bar(
    points: Sequence[ProbePoint], config: AutoLadderConfig, metric: Metric
) -> tuple[tuple[int, int], float] | None:
    """(the largest size H.264 was probed at, the quality a family must reach there): H.264's
    best at that size, or the target when H.264 goes past it."""
    size = _largest(points)
    if size is None:
        return None
    anchor = _best(points, CodecFamily.H264, size)
    assert anchor is not None
    return size, min(anchor, target_quality(config, metric)[0])


def reach_probes(
    points: Sequence[ProbePoint],
    config: AutoLadderConfig,
    codecs: Sequence[CodecFamily],
    metric: Metric = "vmaf",
) -> list[tuple[CodecFamily, int, int, int]]:
    """(family, width, height, CRF) of the reach probes the grid's points call for: one at
    the largest size H.264 was probed at, for each other family whose best point there
    stayed under the bar."""
    bar = _bar(points, config, metric)
    if bar is None:
        return []
    size, needed = bar
    crf = max(0, min(config.probe_crfs) - REACH_CRF_STEPS)
    wanted = []
    for family in codecs:
        best = _best(points, family, size) if family is not CodecFamily.H264 else None
        if best is not None and best < needed:
            wanted.append((family, *size, family_crf(family, crf)))
    return wanted


def left_out_families(
    points: Sequence[ProbePoint],
    reach: Sequence[ProbePoint],
    config: AutoLadderConfig,
    metric: Metric = "vmaf",
) -> dict[CodecFamily, str]:
    """The families that stay under the bar even at their reach probe's CRF, each with the
    reason in words."""
    bar = _bar(points, config, metric)
    if bar is None:
        return {}
    size, needed = bar
    unit = "VMAF" if metric == "vmaf" else "dB PSNR"
    left: dict[CodecFamily, str] = {}
    for family in {p.codec for p in reach}:
        best = _best([*points, *reach], family, size)
        if best is None or best >= needed:
            continue
        left[family] = (
            f"{family} tops out at {best:.1f} {unit} at {size[0]}x{size[1]} where h264 "
            f"reaches {needed:.1f}: its viewers would get a worse top picture than the fallback"
        )
    return dict(sorted(left.items()))
