"""The in-process aggregator: each process counts per minute in memory and flushes the deltas to
the shared store, so the figures read back are the whole installation's."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from primevod.core.histograms import bucket_label
from primevod.core.metric_definitions import BY_NAME, Kind, MetricDef, label_string, minute_of

# (series name, label string) -> value; a series name is a metric name or, for histograms,
# name_bucket (one per upper bound `le`, counts NOT cumulative), name_sum, name_count.
SeriesKey = tuple[str, str]


@dataclass
class Flush:
    counters: dict[tuple[int, str, str], float] = field(default_factory=dict)
    gauges: dict[tuple[int, str, str], float] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.counters or self.gauges)


class Aggregator:
    """Per-minute counts in memory until drained. Thread-safe and cheap: one lock, one dict
    update per call, no I/O."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._counters: dict[tuple[int, str, str], float] = {}
        self._gauges: dict[tuple[int, str, str], float] = {}

    def _check(self, name: str, kind: Kind, labels: Mapping[str, str]) -> MetricDef:
        d = BY_NAME.get(name)
        if d is None or d.kind is not kind:
            raise KeyError(f"{name} is not a {kind.value} metric")
        if set(labels) != set(d.labels):
            raise KeyError(f"{name} takes labels {d.labels}, got {tuple(labels)}")
        return d

    def inc(self, name: str, value: float = 1.0, **labels: str) -> None:
        self._check(name, Kind.COUNTER, labels)
        key = (minute_of(self._clock()), name, label_string(labels))
        with self._lock:
            self._counters[key] = self._counters.get(key, 0.0) + value

    def observe(self, name: str, value: float, **labels: str) -> None:
        d = self._check(name, Kind.HISTOGRAM, labels)
        minute = minute_of(self._clock())
        bound = next((b for b in d.buckets if value <= b), math.inf)
        base = label_string(labels)
        bucket = label_string({**labels, "le": bucket_label(bound)})
        with self._lock:
            for key, add in (
                ((minute, f"{name}_bucket", bucket), 1.0),
                ((minute, f"{name}_sum", base), value),
                ((minute, f"{name}_count", base), 1.0),
            ):
                self._counters[key] = self._counters.get(key, 0.0) + add

    def set(self, name: str, value: float, **labels: str) -> None:
        self._check(name, Kind.GAUGE, labels)
        key = (minute_of(self._clock()), name, label_string(labels))
        with self._lock:
            self._gauges[key] = value

    def drain(self) -> Flush:
        with self._lock:
            flush = Flush(self._counters, self._gauges)
            self._counters, self._gauges = {}, {}
        return flush

    def restore(self, flush: Flush) -> None:
        """Put back what could not be stored, so a failed flush loses nothing."""
        with self._lock:
            for key, value in flush.counters.items():
                self._counters[key] = self._counters.get(key, 0.0) + value
            for key, value in flush.gauges.items():
                self._gauges.setdefault(key, value)
