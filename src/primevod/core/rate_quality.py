"""Rate-quality curves of the probe encodes and their upper envelope: at each bitrate, the
(resolution, CRF) encode with the best predicted quality, which the auto ladder picks from."""

from __future__ import annotations

import math
from collections.abc import Sequence

from pydantic import BaseModel, Field

from primevod.core.codec_families import CodecFamily
from primevod.core.ladder import AutoLadderConfig
from primevod.core.probe_encodes import ProbePoint
from primevod.core.quality_report import Metric


class RungChoice(BaseModel):
    """A rung of the auto ladder with what the analysis predicts for it."""

    width: int
    height: int
    crf: int
    kbps: float = Field(description="predicted average bitrate (kb/s)")
    quality: float = Field(description="predicted VMAF (or PSNR) against the source")
    max_bitrate_kbps: int
    codec: CodecFamily = CodecFamily.H264


def quality_ceiling(metric: Metric) -> float:
    """The best score a prediction may claim: VMAF's top, or a PSNR no real encode passes."""
    return 100.0 if metric == "vmaf" else 60.0


class RateQualityCurve:
    """One resolution's measured points, interpolated in CRF: log-rate and quality are close
    to linear in CRF, so a few probes span the whole useful range."""

    def __init__(self, points: Sequence[ProbePoint]) -> None:
        ordered = sorted(points, key=lambda p: p.crf)
        self.crfs = [p.crf for p in ordered]
        self.log_rates = [math.log(max(p.kbps, 1e-3)) for p in ordered]
        self.qualities = [p.quality for p in ordered]

    def _interp(self, ys: list[float], crf: float) -> float:
        xs = self.crfs
        if len(xs) == 1:
            return ys[0]
        if crf <= xs[0]:
            i = 0
        elif crf >= xs[-1]:
            i = len(xs) - 2
        else:
            i = max(j for j in range(len(xs) - 1) if xs[j] <= crf)
        x0, x1, y0, y1 = xs[i], xs[i + 1], ys[i], ys[i + 1]
        return y0 + (y1 - y0) * (crf - x0) / (x1 - x0) if x1 != x0 else y0

    def kbps(self, crf: float) -> float:
        return math.exp(self._interp(self.log_rates, crf))

    def quality(self, crf: float, ceiling: float) -> float:
        """Interpolated; below the lowest probed CRF the gain is taken at half the measured
        slope (quality saturates as the CRF falls), and never past the metric's ceiling."""
        if len(self.crfs) > 1 and crf < self.crfs[0]:
            first = self.qualities[0]
            slope = (self.qualities[0] - self.qualities[1]) / (self.crfs[1] - self.crfs[0])
            return min(ceiling, first + max(0.0, slope) * 0.5 * (self.crfs[0] - crf))
        return min(ceiling, self._interp(self.qualities, crf))

    def crf_for_kbps(self, kbps: float, lo: int, hi: int) -> int:
        """The integer CRF whose predicted rate is closest to `kbps` (in log terms)."""
        target = math.log(max(kbps, 1e-3))
        return min(range(lo, hi + 1), key=lambda c: abs(math.log(self.kbps(c)) - target))


def rung_cap(kbps: float, config: AutoLadderConfig) -> int:
    """The rung's maxrate: `maxrate_factor` over its predicted average, but never above the
    maximum average bitrate (unless the rung itself is predicted above it), so that the
    capped-CRF encode cannot exceed the ladder's maximum however hard the content."""
    return max(32, round(min(kbps * config.maxrate_factor, max(kbps, config.max_bitrate_kbps))))


def frontier(
    points: Sequence[ProbePoint], config: AutoLadderConfig, metric: Metric = "vmaf"
) -> list[RungChoice]:
    """Candidate (resolution, CRF) encodes on the upper envelope of the measured curves: at
    each bitrate, the resolution with the best quality. Ascending in bitrate and quality."""
    candidates = _candidates(points, config, metric)
    candidates.sort(key=lambda c: (c.kbps, -c.quality))
    staircase: list[RungChoice] = []
    for c in candidates:
        if not staircase or c.quality > staircase[-1].quality + 1e-9:
            staircase.append(c)
    hull = _concave_hull(staircase)
    tie = config.resolution_tie_vmaf if metric == "vmaf" else config.resolution_tie_vmaf / 4
    if tie <= 0:
        return hull
    return _prefer_larger_pictures(hull, candidates, tie)


def _candidates(
    points: Sequence[ProbePoint], config: AutoLadderConfig, metric: Metric
) -> list[RungChoice]:
    """Every integer CRF of each probed size, predicted from that size's curve."""
    ceiling = quality_ceiling(metric)
    lo, hi = config.crf_range
    by_size: dict[tuple[int, int], list[ProbePoint]] = {}
    for p in points:
        by_size.setdefault((p.width, p.height), []).append(p)
    candidates: list[RungChoice] = []
    for (w, h), pts in by_size.items():
        curve = RateQualityCurve(pts)
        below, above = config.crf_extrapolation
        c_lo = max(lo, math.floor(min(curve.crfs)) - below)
        c_hi = min(hi, math.ceil(max(curve.crfs)) + above)
        for crf in range(c_lo, c_hi + 1):
            kbps = curve.kbps(crf)
            candidates.append(
                RungChoice(
                    width=w,
                    height=h,
                    crf=crf,
                    kbps=kbps,
                    quality=curve.quality(crf, ceiling),
                    max_bitrate_kbps=rung_cap(kbps, config),
                )
            )
    return candidates


def _prefer_larger_pictures(
    hull: list[RungChoice], candidates: list[RungChoice], tie: float
) -> list[RungChoice]:
    """Near-ties go to the larger picture: within `tie` of the best quality for no more bits
    (the probes run at a fast preset, which undersells large pictures at slower presets)."""
    out: list[RungChoice] = []
    for c in hull:
        bigger = [
            o
            for o in candidates
            if o.width * o.height > c.width * c.height
            and o.kbps <= c.kbps
            and o.quality >= c.quality - tie
        ]
        pick = max(bigger, key=lambda o: (o.width * o.height, o.quality)) if bigger else c
        if out and pick.kbps <= out[-1].kbps:
            continue
        if out and pick.quality <= out[-1].quality:
            continue
        out.append(pick)
    return out


_HULL_SPAN = math.log(1.3)  # the hull is taken over neighbours at most 1.3x apart in bitrate


def _concave_hull(points: list[RungChoice]) -> list[RungChoice]:
    """The upper convex hull of quality over log-bitrate (points ascending in both), taken
    locally: a point under the chord of neighbours at most 1.3x apart is dropped. Where two
    sizes' curves cross, the smaller size's last points before the crossing are cheaper
    only by a hair and worse by more; the hull goes straight to the larger size. (A global
    hull would leave gaps no rung can fill: a rung is one encode, not a mix of two.)"""
    hull: list[RungChoice] = []
    for p in points:
        x = math.log(p.kbps)
        while len(hull) >= 2:
            a, b = hull[-2], hull[-1]
            xa, xb = math.log(a.kbps), math.log(b.kbps)
            # b lies under the chord a -> p: not on the hull (points on it stay: each size's
            # curve is straight between two probed CRFs)
            chord = a.quality + (p.quality - a.quality) * (xb - xa) / (x - xa)
            if x - xa <= _HULL_SPAN and b.quality < chord - 0.05:
                hull.pop()
            else:
                break
        hull.append(p)
    return hull
