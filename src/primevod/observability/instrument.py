"""One place that turns a workflow step into a span, a JSON log line and a duration metric."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

from primevod.observability import metrics, tracing
from primevod.observability.logs import log_context

log = logging.getLogger("primevod.pipeline")


@contextmanager
def step(
    name: str,
    asset_id: str,
    execution_id: str,
    trace_id: str | None = None,
    parent_span_id: str | None = None,
) -> Iterator[dict[str, bool]]:
    """Set `ok` to False in the yielded dict for a step that returned a failure."""
    started = time.perf_counter()
    status = "failed"
    outcome = {"ok": True}
    with (
        log_context(asset_id=asset_id, execution_id=execution_id, step=name, trace_id=trace_id),
        tracing.span(
            f"step {name}",
            trace_id,
            parent_span_id,
            **{"asset.id": asset_id, "execution.id": execution_id},
        ),
    ):
        try:
            yield outcome
            status = "succeeded" if outcome["ok"] else "failed"
        finally:
            duration = time.perf_counter() - started
            metrics.observe("primevod_step_duration_seconds", duration, step=name, status=status)
            log.info(
                "step %s %s in %.3f s",
                name,
                status,
                duration,
                extra={"duration": round(duration, 3), "status": status},
            )
