"""Quality rules, pure: the content-adaptive (`auto`) ladder picked from probe encodes, the
Bjøntegaard delta rate between two ladders, and the quality-check verdict."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, Field

from primevod.core.errors import MediaError
from primevod.core.ladder import AutoLadderConfig, LadderPolicy, RateControl, RungTemplate

Metric = Literal["vmaf", "psnr"]
# Without libvmaf the analysis falls back to PSNR (dB); targets and steps are converted with
# this rough rule (VMAF 95 ~ 42 dB, one VMAF point ~ 0.25 dB on typical 8-bit content).
_PSNR_AT_VMAF_95 = 42.0
_PSNR_PER_VMAF = 0.25


class ProbePoint(BaseModel):
    """One probe encode of the samples: a resolution and CRF, what it cost, what it scored."""

    width: int
    height: int
    crf: float
    kbps: float
    quality: float = Field(description="VMAF (0-100), or PSNR in dB when metric is psnr")


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
    points: list[ProbePoint]
    seconds: float = Field(0.0, description="wall time the analysis took")
    timing: dict[str, float] = Field(default_factory=dict, description="seconds per stage")
    cached: bool = False


class RungChoice(BaseModel):
    """A rung of the auto ladder with what the analysis predicts for it."""

    width: int
    height: int
    crf: int
    kbps: float = Field(description="predicted average bitrate (kb/s)")
    quality: float = Field(description="predicted VMAF (or PSNR) against the source")
    max_bitrate_kbps: int


def target_quality(config: AutoLadderConfig, metric: Metric) -> tuple[float, float]:
    """(top-rung target, minimal step between rungs) in the metric's own unit."""
    if metric == "vmaf":
        return config.target_vmaf, config.min_vmaf_step
    return (
        _PSNR_AT_VMAF_95 + (config.target_vmaf - 95.0) * _PSNR_PER_VMAF,
        config.min_vmaf_step * _PSNR_PER_VMAF,
    )


# ---------------------------------------------------------------- rate-quality curves


class _Curve:
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


def frontier(
    points: Sequence[ProbePoint], config: AutoLadderConfig, metric: Metric = "vmaf"
) -> list[RungChoice]:
    """Candidate (resolution, CRF) encodes on the upper envelope of the measured curves: at
    each bitrate, the resolution with the best quality. Ascending in bitrate and quality."""
    ceiling = 100.0 if metric == "vmaf" else 60.0
    lo, hi = config.crf_range
    by_size: dict[tuple[int, int], list[ProbePoint]] = {}
    for p in points:
        by_size.setdefault((p.width, p.height), []).append(p)
    candidates: list[RungChoice] = []
    for (w, h), pts in by_size.items():
        curve = _Curve(pts)
        # extrapolate at most 3 CRF steps below the probes and 4 above
        c_lo = max(lo, math.floor(min(curve.crfs)) - 3)
        c_hi = min(hi, math.ceil(max(curve.crfs)) + 4)
        for crf in range(c_lo, c_hi + 1):
            kbps = curve.kbps(crf)
            candidates.append(
                RungChoice(
                    width=w,
                    height=h,
                    crf=crf,
                    kbps=kbps,
                    quality=curve.quality(crf, ceiling),
                    max_bitrate_kbps=_cap(kbps, config),
                )
            )
    candidates.sort(key=lambda c: (c.kbps, -c.quality))
    staircase: list[RungChoice] = []
    for c in candidates:
        if not staircase or c.quality > staircase[-1].quality + 1e-9:
            staircase.append(c)
    hull = _concave_hull(staircase)
    tie = config.resolution_tie_vmaf if metric == "vmaf" else config.resolution_tie_vmaf / 4
    if tie <= 0:
        return hull
    # near-ties go to the larger picture: within `tie` of the best quality for no more bits
    # (the probes run at a fast preset, which undersells large pictures at slower presets)
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


def _cap(kbps: float, config: AutoLadderConfig) -> int:
    """The rung's maxrate: `maxrate_factor` over its predicted average, but never above the
    maximum average bitrate (unless the rung itself is predicted above it), so that the
    capped-CRF encode cannot exceed the ladder's maximum however hard the content."""
    return max(32, round(min(kbps * config.maxrate_factor, max(kbps, config.max_bitrate_kbps))))


def select_rungs(
    points: Sequence[ProbePoint], config: AutoLadderConfig, metric: Metric = "vmaf"
) -> list[RungChoice]:
    """Pick the ladder from the envelope, ascending:

    - top rung: the cheapest encode that reaches the target quality (at least the minimum
      bitrate, at most the maximum; the best reachable one when the target is out of reach);
    - walking down: each rung the richest envelope point at least `min_vmaf_step` worse and
      `min_bitrate_ratio` cheaper than the rung above, until the minimum bitrate;
    - a bottom rung near the minimum bitrate when the walk stopped well above it;
    - more than `max_renditions`: rungs evenly spaced in log-bitrate between bottom and top;
    - resolution never falls as the bitrate rises (a rung's size is at most the next's).
    """
    if not points:
        raise MediaError("ladder.empty", "the analysis measured no probe encode")
    target, step = target_quality(config, metric)
    hull = frontier(points, config, metric)
    lo_b, hi_b = config.min_bitrate_kbps, config.max_bitrate_kbps
    usable = [c for c in hull if c.kbps <= hi_b] or hull[:1]
    reach = [c for c in usable if c.quality >= target]
    if reach:
        top = reach[0]
        if top.kbps < lo_b:  # so easy the target costs less than the floor
            top = next((c for c in usable if c.kbps >= lo_b), usable[-1])
        # where bits are this cheap, more quality costs nothing worth saving: climb
        cheap = [c for c in usable if top.kbps < c.kbps <= config.easy_top_kbps]
        if cheap:
            top = cheap[-1]
    else:
        top = usable[-1]
    below = [c for c in usable if c.kbps < top.kbps]
    rungs = [top]
    while True:
        prev = rungs[-1]
        cands = [
            c
            for c in below
            if c.kbps >= lo_b
            and c.kbps <= prev.kbps / config.min_bitrate_ratio
            and c.quality <= prev.quality - step
        ]
        if not cands:
            break
        rungs.append(max(cands, key=lambda c: c.kbps))
    lowest = rungs[-1]
    if lowest.kbps > lo_b * config.min_bitrate_ratio:
        floor = [
            c
            for c in below
            if c.kbps <= lowest.kbps / config.min_bitrate_ratio
            and c.quality <= lowest.quality - step / 2
        ]
        at_least = [c for c in floor if c.kbps >= lo_b]
        if at_least:  # the point nearest the minimum bitrate, not below it
            rungs.append(at_least[0])
    rungs.reverse()
    if len(rungs) > config.max_renditions:
        rungs = _respace(usable, rungs[0], rungs[-1], config.max_renditions)
    rungs = _monotone_sizes(rungs, points, config, metric)
    # caps rise with the ladder (the clamp to the maximum could make two equal)
    for i in range(len(rungs) - 2, -1, -1):
        cap = min(rungs[i].max_bitrate_kbps, rungs[i + 1].max_bitrate_kbps - 1)
        rungs[i] = rungs[i].model_copy(
            update={"max_bitrate_kbps": max(cap, math.ceil(rungs[i].kbps))}
        )
    return rungs


def _respace(
    hull: list[RungChoice], bottom: RungChoice, top: RungChoice, n: int
) -> list[RungChoice]:
    if n == 1:
        return [top]
    lb, lt = math.log(bottom.kbps), math.log(top.kbps)
    chosen = [bottom]
    for i in range(1, n - 1):
        want = math.exp(lb + (lt - lb) * i / (n - 1))
        pick = min(hull, key=lambda c: abs(math.log(c.kbps) - math.log(want)))
        if pick.kbps > chosen[-1].kbps and pick.kbps < top.kbps:
            chosen.append(pick)
    chosen.append(top)
    return chosen


def _monotone_sizes(
    rungs: list[RungChoice],
    points: Sequence[ProbePoint],
    config: AutoLadderConfig,
    metric: Metric,
) -> list[RungChoice]:
    """Measurement noise can put a bigger picture below a smaller one on the envelope; such a
    rung takes the size above it and the CRF that spends its bitrate at that size."""
    ceiling = 100.0 if metric == "vmaf" else 60.0
    curves: dict[tuple[int, int], _Curve] = {}
    for p in points:
        curves.setdefault((p.width, p.height), _Curve([]))
    for size in curves:
        curves[size] = _Curve([p for p in points if (p.width, p.height) == size])
    out = list(rungs)
    for i in range(len(out) - 2, -1, -1):
        above, rung = out[i + 1], out[i]
        if rung.width * rung.height > above.width * above.height:
            curve = curves[(above.width, above.height)]
            crf = curve.crf_for_kbps(rung.kbps, *config.crf_range)
            kbps = curve.kbps(crf)
            out[i] = RungChoice(
                width=above.width,
                height=above.height,
                crf=crf,
                kbps=kbps,
                quality=curve.quality(crf, ceiling),
                max_bitrate_kbps=_cap(kbps, config),
            )
    # keep a strictly rising ladder after the moves
    kept: list[RungChoice] = []
    for rung in out:
        if kept and (
            rung.kbps <= kept[-1].kbps * 1.05
            or (
                ((rung.width, rung.height) == (kept[-1].width, kept[-1].height))
                and rung.crf >= kept[-1].crf
            )
        ):
            kept[-1] = rung if rung.kbps > kept[-1].kbps else kept[-1]
            continue
        kept.append(rung)
    return kept


def auto_policy(
    policy: LadderPolicy,
    analysis: ComplexityAnalysis,
    *,
    audio_bitrates: tuple[int, int] = (64, 128),
) -> tuple[LadderPolicy, list[RungChoice]]:
    """The concrete capped-CRF policy for one title: the chosen rungs as exact boxes with
    their CRF and cap, for `plan_ladder` to turn into rungs."""
    config = policy.auto or AutoLadderConfig()
    choices = select_rungs(analysis.points, config, analysis.metric)
    low_audio, high_audio = audio_bitrates
    templates = [
        RungTemplate(
            width=c.width,
            height=c.height,
            bitrate_kbps=c.max_bitrate_kbps,
            max_bitrate_kbps=c.max_bitrate_kbps,
            crf=c.crf,
            profile="main" if min(c.width, c.height) < 432 else "high",
            audio_bitrate_kbps=low_audio if c.kbps < 600 else high_audio,
        )
        for c in choices
    ]
    concrete = policy.model_copy(
        update={
            "rungs": templates,
            "rate_control": RateControl.CAPPED_CRF,
            "auto": None,
            # the exact boxes must not be merged again by the bitrate rule
            "dedup_ratio": 1.0,
        }
    )
    return concrete, choices


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


# ---------------------------------------------------------------- Bjøntegaard delta rate


def _pchip_integral(xs: list[float], ys: list[float], lo: float, hi: float) -> float:
    """Integral of the monotone piecewise-cubic (PCHIP, Fritsch-Carlson) interpolant of
    (xs, ys) from lo to hi, by Simpson's rule on a fine grid. xs ascending."""
    n = len(xs)
    h = [xs[i + 1] - xs[i] for i in range(n - 1)]
    d = [(ys[i + 1] - ys[i]) / h[i] for i in range(n - 1)]
    m = [0.0] * n
    if n == 2:
        m = [d[0], d[0]]
    else:
        for i in range(1, n - 1):
            if d[i - 1] * d[i] <= 0:
                m[i] = 0.0
            else:
                w1, w2 = 2 * h[i] + h[i - 1], h[i] + 2 * h[i - 1]
                m[i] = (w1 + w2) / (w1 / d[i - 1] + w2 / d[i])
        m[0] = _end_slope(h[0], h[1], d[0], d[1])
        m[-1] = _end_slope(h[-1], h[-2], d[-1], d[-2])

    def value(x: float) -> float:
        i = min(max(0, next((j for j in range(n - 1) if x <= xs[j + 1]), n - 2)), n - 2)
        t = (x - xs[i]) / h[i]
        h00, h10 = 2 * t**3 - 3 * t**2 + 1, t**3 - 2 * t**2 + t
        h01, h11 = -2 * t**3 + 3 * t**2, t**3 - t**2
        return h00 * ys[i] + h10 * h[i] * m[i] + h01 * ys[i + 1] + h11 * h[i] * m[i + 1]

    steps = 400
    width = (hi - lo) / steps
    total = value(lo) + value(hi)
    for k in range(1, steps):
        total += (4 if k % 2 else 2) * value(lo + k * width)
    return total * width / 3


def _end_slope(h0: float, h1: float, d0: float, d1: float) -> float:
    slope = ((2 * h0 + h1) * d0 - h0 * d1) / (h0 + h1)
    if slope * d0 <= 0:
        return 0.0
    if d0 * d1 <= 0 and abs(slope) > abs(3 * d0):
        return 3 * d0
    return slope


def _curve_points(points: Sequence[tuple[float, float]]) -> tuple[list[float], list[float]]:
    """(kbps, quality) -> quality ascending, log-rate; a point no better than a cheaper one is
    dropped (the ladder's envelope) and equal qualities keep the cheaper rate."""
    ordered = sorted((q, math.log(r)) for r, q in points if r > 0)
    qs: list[float] = []
    lrs: list[float] = []
    for q, lr in ordered:
        if qs and q <= qs[-1] + 1e-6:
            lrs[-1] = min(lrs[-1], lr)
            continue
        if lrs and lr <= lrs[-1]:
            # a better quality for fewer bits: the cheaper rung before it is dominated
            while lrs and lr <= lrs[-1]:
                qs.pop()
                lrs.pop()
        qs.append(q)
        lrs.append(lr)
    return qs, lrs


def bd_rate(
    anchor: Sequence[tuple[float, float]], test: Sequence[tuple[float, float]]
) -> float | None:
    """Bjøntegaard delta rate in percent: the average bitrate difference of `test` against
    `anchor` at equal quality, over the quality range both cover. Each argument is a list of
    (bitrate, quality) points (one per rung). Log-rate is interpolated as a monotone
    piecewise-cubic function of quality (the PCHIP variant of the Bjøntegaard method, as in
    the JVET/AOM tools). Negative: `test` needs fewer bits. None when the quality ranges do
    not overlap or a ladder has fewer than two distinct points."""
    qa, ra = _curve_points(anchor)
    qt, rt = _curve_points(test)
    if len(qa) < 2 or len(qt) < 2:
        return None
    lo, hi = max(qa[0], qt[0]), min(qa[-1], qt[-1])
    if hi - lo <= 1e-6:
        return None
    area_a = _pchip_integral(qa, ra, lo, hi)
    area_t = _pchip_integral(qt, rt, lo, hi)
    return (math.exp((area_t - area_a) / (hi - lo)) - 1.0) * 100.0


# ---------------------------------------------------------------- quality check verdict


class RungQuality(BaseModel):
    name: str
    width: int
    height: int
    average_kbps: float
    peak_kbps: float
    vmaf: float | None = None
    vmaf_min: float | None = Field(None, description="lowest sampled segment's mean VMAF")
    psnr: float | None = None
    metric: Metric = "vmaf"


class QualityReport(BaseModel):
    """The quality step's record: per-rung scores against the source and the verdict."""

    metric: Metric
    target: float
    mode: Literal["off", "warn", "fail"]
    rungs: list[RungQuality]
    top_quality: float | None
    passed: bool
    message: str
    sampled_segments: int
    seconds: float


def verdict(top: float | None, target: float, metric: Metric) -> tuple[bool, str]:
    if top is None:
        return False, "no video rung was measured"
    unit = "VMAF" if metric == "vmaf" else "dB PSNR"
    if top + 1e-9 >= target:
        return True, f"top rung {top:.2f} {unit} meets the target {target:g}"
    return False, f"top rung {top:.2f} {unit} is below the target {target:g}"
