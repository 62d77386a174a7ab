"""Histogram buckets: the upper bounds the metrics count in, their label text, and quantiles
estimated from the counts."""

from __future__ import annotations

import math
from collections.abc import Mapping

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
DURATION_BUCKETS = (0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0)
SPEED_BUCKETS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)


def bucket_label(bound: float) -> str:
    return "+Inf" if math.isinf(bound) else repr(float(bound))


def histogram_quantile(q: float, counts: Mapping[float, float]) -> float | None:
    """Prometheus' histogram_quantile on non-cumulative bucket counts {upper bound: count}:
    linear interpolation inside the bucket holding the q-th observation."""
    total = sum(counts.values())
    if total <= 0:
        return None
    rank = q * total
    seen = 0.0
    lower = 0.0
    finite = [b for b in sorted(counts) if not math.isinf(b)]
    for bound in sorted(counts):
        count = counts[bound]
        if seen + count >= rank and count > 0:
            if math.isinf(bound):
                return finite[-1] if finite else None
            return lower + (bound - lower) * (rank - seen) / count
        seen += count
        lower = bound
    return finite[-1] if finite else None
