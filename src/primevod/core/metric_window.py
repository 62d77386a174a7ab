"""Arithmetic over stored 1-minute points of a time range: sums, ratios, means, gauges and
histogram quantiles."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from primevod.core.histograms import histogram_quantile
from primevod.core.metric_definitions import parse_labels

Point = tuple[str, str, int, float]  # series name, label string, minute, value


class Window:
    """Stored 1-minute points of a time range, with the sums a dashboard or alarm needs."""

    def __init__(self, points: Iterable[Point]) -> None:
        self.points: dict[str, list[tuple[dict[str, str], int, float]]] = {}
        for name, labels, minute, value in points:
            self.points.setdefault(name, []).append((parse_labels(labels), minute, value))

    def _rows(
        self, name: str, where: Mapping[str, str] | None, t0: int, t1: int
    ) -> Iterable[tuple[dict[str, str], int, float]]:
        for labels, minute, value in self.points.get(name, ()):
            if t0 <= minute < t1 and all(labels.get(k) == v for k, v in (where or {}).items()):
                yield labels, minute, value

    def has(self, name: str, t0: int, t1: int) -> bool:
        return any(True for _ in self._rows(name, None, t0, t1))

    def total(self, name: str, t0: int, t1: int, where: Mapping[str, str] | None = None) -> float:
        return sum(v for _, _, v in self._rows(name, where, t0, t1))

    def per_minute(
        self, name: str, t0: int, t1: int, where: Mapping[str, str] | None = None
    ) -> dict[int, float]:
        out: dict[int, float] = {}
        for _, minute, value in self._rows(name, where, t0, t1):
            out[minute] = out.get(minute, 0.0) + value
        return out

    def gauge(self, name: str, t0: int, t1: int, how: str = "maximum") -> float | None:
        values = list(self.per_minute(name, t0, t1).values())
        return aggregate(values, how)

    def ratio(
        self, name: str, part: Mapping[str, str], t0: int, t1: int, whole: Mapping[str, str]
    ) -> float | None:
        denominator = self.total(name, t0, t1, whole)
        return None if denominator <= 0 else self.total(name, t0, t1, part) / denominator

    def quantile(self, name: str, q: float, t0: int, t1: int) -> float | None:
        counts: dict[float, float] = {}
        for labels, _, value in self._rows(f"{name}_bucket", None, t0, t1):
            le = labels.get("le", "+Inf")
            bound = math.inf if le == "+Inf" else float(le)
            counts[bound] = counts.get(bound, 0.0) + value
        return histogram_quantile(q, counts)

    def mean(
        self, name: str, t0: int, t1: int, where: Mapping[str, str] | None = None
    ) -> float | None:
        count = self.total(f"{name}_count", t0, t1, where)
        return None if count <= 0 else self.total(f"{name}_sum", t0, t1, where) / count


def aggregate(values: list[float], how: str) -> float | None:
    if not values:
        return None
    if how == "sum":
        return sum(values)
    if how == "average":
        return sum(values) / len(values)
    if how == "maximum":
        return max(values)
    if how == "minimum":
        return min(values)
    if how == "sample_count":
        return float(len(values))
    raise ValueError(f"unknown statistic {how!r}")
