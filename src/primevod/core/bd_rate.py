"""The Bjøntegaard delta rate between two ladders: how many more (or fewer) bits one needs
than the other for the same quality."""

from __future__ import annotations

import math
from collections.abc import Sequence


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
