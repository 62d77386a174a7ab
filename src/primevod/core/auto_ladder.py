"""The content-adaptive (`auto`) ladder: the rungs picked from the envelope of the title's
probe encodes, and the concrete capped-CRF policy they make."""

from __future__ import annotations

import math
from collections.abc import Sequence

from primevod.core.codec_families import CodecFamily, parse_codecs
from primevod.core.errors import MediaError
from primevod.core.family_reach import left_out_families
from primevod.core.ladder import AutoLadderConfig, LadderPolicy, RateControl, RungTemplate
from primevod.core.probe_encodes import ComplexityAnalysis, ProbePoint
from primevod.core.quality_report import Metric, in_metric, target_quality
from primevod.core.rate_quality import (
    RateQualityCurve,
    RungChoice,
    frontier,
    quality_ceiling,
    rung_cap,
)


def select_rungs(
    points: Sequence[ProbePoint], config: AutoLadderConfig, metric: Metric = "vmaf"
) -> list[RungChoice]:
    """Pick the ladder from the envelope, ascending:

    - top rung: the cheapest encode that reaches the target quality (at least the minimum
      bitrate, at most the maximum); when the target is out of reach, the cheapest one
      within `knee_vmaf` of the best reachable (the last bits of a saturating curve buy
      nothing a viewer sees);
    - walking down: each rung the richest envelope point at least `min_vmaf_step` worse and
      `min_bitrate_ratio` cheaper than the rung above, until the minimum bitrate;
    - a bottom rung near the minimum bitrate when the walk stopped well above it;
    - gaps wider than `max_bitrate_ratio` filled from the envelope (a flat curve makes the
      quality steps far apart in bitrate, and a player cannot step between them);
    - more than `max_renditions`: rungs evenly spaced in log-bitrate between bottom and top;
    - resolution never falls as the bitrate rises (a rung's size is at most the next's).
    """
    if not points:
        raise MediaError("ladder.empty", "the analysis measured no probe encode")
    target, step = target_quality(config, metric)
    hull = frontier(points, config, metric)
    usable = [c for c in hull if c.kbps <= config.max_bitrate_kbps] or hull[:1]
    top = _top_rung(usable, target, in_metric(config.knee_vmaf, metric), config)
    below = [c for c in usable if c.kbps < top.kbps]
    rungs = _rungs_below(top, below, step, config)
    rungs.reverse()
    rungs = _fill_gaps(rungs, below, config)
    if len(rungs) > config.max_renditions:
        rungs = _respace(usable, rungs[0], rungs[-1], config.max_renditions)
    rungs = _monotone_sizes(rungs, points, config, metric)
    return _rising_caps(rungs)


def _top_rung(
    usable: list[RungChoice], target: float, knee: float, config: AutoLadderConfig
) -> RungChoice:
    reach = [c for c in usable if c.quality >= target]
    if not reach:
        best = usable[-1]
        knee_points = (c for c in usable if c.quality >= best.quality - knee)
        return next((c for c in knee_points if c.kbps >= config.min_bitrate_kbps), best)
    top = reach[0]
    if top.kbps < config.min_bitrate_kbps:  # so easy the target costs less than the floor
        top = next((c for c in usable if c.kbps >= config.min_bitrate_kbps), usable[-1])
    # where bits are this cheap, more quality costs nothing worth saving: climb
    cheap = [c for c in usable if top.kbps < c.kbps <= config.easy_top_kbps]
    if cheap:
        top = cheap[-1]
    return top


def _rungs_below(
    top: RungChoice, below: list[RungChoice], step: float, config: AutoLadderConfig
) -> list[RungChoice]:
    """The rungs from the top down (descending): the walk, then the bottom rung if any."""
    lo_b = config.min_bitrate_kbps
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
    return rungs


def _fill_gaps(
    rungs: list[RungChoice], hull: list[RungChoice], config: AutoLadderConfig
) -> list[RungChoice]:
    """Rungs (ascending) with every gap wider than `max_bitrate_ratio` split at the
    envelope point nearest its log-middle, as long as one lies `min_bitrate_ratio` from
    both ends."""
    filled = rungs[:1]
    for upper in rungs[1:]:
        filled += _between(filled[-1], upper, hull, config)
        filled.append(upper)
    return filled


def _between(
    lower: RungChoice, upper: RungChoice, hull: list[RungChoice], config: AutoLadderConfig
) -> list[RungChoice]:
    if upper.kbps <= lower.kbps * config.max_bitrate_ratio:
        return []
    inner = [
        c
        for c in hull
        if lower.kbps * config.min_bitrate_ratio <= c.kbps <= upper.kbps / config.min_bitrate_ratio
        and lower.quality < c.quality < upper.quality
    ]
    if not inner:
        return []
    middle = math.sqrt(lower.kbps * upper.kbps)
    pick = min(inner, key=lambda c: abs(math.log(c.kbps / middle)))
    return [
        *_between(lower, pick, hull, config),
        pick,
        *_between(pick, upper, hull, config),
    ]


def _rising_caps(rungs: list[RungChoice]) -> list[RungChoice]:
    """Caps rise with the ladder (the clamp to the maximum could make two equal)."""
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
    ceiling = quality_ceiling(metric)
    curves: dict[tuple[int, int], RateQualityCurve] = {}
    for p in points:
        curves.setdefault((p.width, p.height), RateQualityCurve([]))
    for size in curves:
        curves[size] = RateQualityCurve([p for p in points if (p.width, p.height) == size])
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
                max_bitrate_kbps=rung_cap(kbps, config),
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
    """The concrete capped-CRF policy for one title: each codec family's rungs picked from
    that codec's own probes (a family the analysis did not probe is left to the H.264 rungs
    scaled by its efficiency; one that saturates below H.264 is left out, with the reason
    in `left_out`), as exact boxes with their CRF and cap for `plan_ladder`."""
    config = policy.auto or AutoLadderConfig()
    left_out = left_out_families(analysis.points, analysis.reach, config, analysis.metric)
    kept = [f for f in parse_codecs(policy.codecs) if f not in left_out]
    h264 = family_choices(analysis, config, CodecFamily.H264)
    others = {
        family: family_choices(analysis, config, family, reach_kbps=h264[0].kbps)
        for family in kept
        if family is not CodecFamily.H264 and analysis.family_points(family)
    }
    concrete = policy.model_copy(
        update={
            "codecs": kept,
            "left_out": {str(f): why for f, why in left_out.items()},
            "rungs": _templates(h264, audio_bitrates),
            "family_rungs": {f: _templates(c, audio_bitrates) for f, c in others.items()},
            "rate_control": RateControl.CAPPED_CRF,
            "auto": None,
            # the exact boxes must not be merged again by the bitrate rule
            "dedup_ratio": 1.0,
        }
    )
    return concrete, [c for choices in (h264, *others.values()) for c in choices]


def family_choices(
    analysis: ComplexityAnalysis,
    config: AutoLadderConfig,
    family: CodecFamily,
    *,
    reach_kbps: float | None = None,
) -> list[RungChoice]:
    """One family's rungs from its own probes, with the knobs in its CRF scale; reaching
    down to `reach_kbps` (the H.264 family's bottom rung) when the hull allows."""
    points = analysis.family_points(family)
    knobs = config.for_family(family)
    if family is not CodecFamily.H264:
        # the knee saves the fallback's costly top bits; a modern family's top costs a
        # fraction of them, and its viewers should not get less than the best it reaches
        knobs = knobs.model_copy(update={"knee_vmaf": 0.0})
    choices = select_rungs(points, knobs, analysis.metric)
    if reach_kbps is not None:
        choices = _reach_down(choices, frontier(points, knobs, analysis.metric), reach_kbps, knobs)
    return [c.model_copy(update={"codec": family}) for c in choices]


def _reach_down(
    choices: list[RungChoice], hull: list[RungChoice], reach_kbps: float, config: AutoLadderConfig
) -> list[RungChoice]:
    """A player never switches codec family mid-play, so a family whose bottom rung sits
    well above the H.264 family's would strand its viewers on a slow network: it gets one
    more rung at (or just under) the H.264 bottom rate, no larger than its own bottom."""
    bottom = choices[0]
    if bottom.kbps <= reach_kbps * config.min_bitrate_ratio:
        return choices
    if len(choices) >= config.max_renditions:
        return choices
    below = [
        c
        for c in hull
        if c.kbps <= bottom.kbps / config.min_bitrate_ratio
        and c.width * c.height <= bottom.width * bottom.height
    ]
    if not below:
        return choices
    under = [c for c in below if c.kbps <= reach_kbps]
    pick = max(under, key=lambda c: c.kbps) if under else min(below, key=lambda c: c.kbps)
    cap = min(pick.max_bitrate_kbps, bottom.max_bitrate_kbps - 1)
    return [pick.model_copy(update={"max_bitrate_kbps": max(cap, math.ceil(pick.kbps))}), *choices]


def _templates(choices: list[RungChoice], audio_bitrates: tuple[int, int]) -> list[RungTemplate]:
    low_audio, high_audio = audio_bitrates
    return [
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
