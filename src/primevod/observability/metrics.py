"""This process's metrics: record with `inc`/`observe`/`set_gauge` (cheap, in memory), and a
flusher thread that writes the per-minute deltas to the store every few seconds."""

from __future__ import annotations

import logging
import threading
from typing import Any

from primevod.core.metrics import Aggregator

log = logging.getLogger("primevod.metrics")
AGGREGATOR = Aggregator()
_enabled = [True]


def disable() -> None:
    """`metrics_enabled = false`: recording becomes a no-op (for overhead comparisons)."""
    _enabled[0] = False


def inc(name: str, value: float = 1.0, **labels: str) -> None:
    if _enabled[0]:
        AGGREGATOR.inc(name, value, **labels)


def observe(name: str, value: float, **labels: str) -> None:
    if _enabled[0]:
        AGGREGATOR.observe(name, value, **labels)


def set_gauge(name: str, value: float, **labels: str) -> None:
    if _enabled[0]:
        AGGREGATOR.set(name, value, **labels)


def flush(store: Any) -> None:
    """Write what this process counted; on a database error keep it for the next flush."""
    pending = AGGREGATOR.drain()
    if not pending:
        return
    try:
        store.write(pending)
    except Exception:
        AGGREGATOR.restore(pending)
        raise


class MetricsFlusher(threading.Thread):
    """Flushes every `interval` seconds and once more when stopped."""

    def __init__(self, store: Any, interval: float) -> None:
        super().__init__(name="primevod-metrics", daemon=True)
        self.store = store
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            self._flush()
        self._flush()

    def _flush(self) -> None:
        try:
            flush(self.store)
        except Exception as exc:  # the database may be busy; the deltas are kept
            log.warning("metrics flush failed, will retry: %s", exc)

    def stop(self) -> None:
        self.stopped.set()
        if self.is_alive():
            self.join(timeout=10)
