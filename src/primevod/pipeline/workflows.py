"""The durable asset workflow on DBOS: ingest -> process -> publish, each a step with
Step-Functions-style retries (interval, attempts, backoff) that never retries a permanent
error. Workflows run from the `encode` queue, whose per-worker concurrency is the number of
encodes a machine runs at once. DBOS records every step's result, so after a crash (even
kill -9) a restarted worker resumes the workflow at the step that was running."""

from __future__ import annotations

import logging
from typing import Any

from dbos import DBOS
from dbos._error import DBOSWorkflowCancelledError

from primevod.core.assets import AssetError, AssetStatus
from primevod.core.errors import MediaError
from primevod.observability import instrument, metrics
from primevod.pipeline import quality_step as quality_checks
from primevod.pipeline import steps
from primevod.pipeline.runtime import runtime

QUEUE = "encode"
EXECUTIONS = "primevod_workflow_executions_total"
log = logging.getLogger("primevod.pipeline")
_RETRY = {"retries_allowed": True, "interval_seconds": 2.0, "max_attempts": 3, "backoff_rate": 2.0}


def _transient(exc: BaseException) -> bool:
    return not (isinstance(exc, MediaError) and exc.permanent)


def _cancelled() -> bool:
    workflow_id = DBOS.workflow_id
    if workflow_id is None:
        return False
    status = DBOS.get_workflow_status(workflow_id)
    return status is not None and status.status == "CANCELLED"


def _trace(asset_id: str) -> tuple[str | None, str | None]:
    """The asset's trace id and the span that started it (see observability/tracing.py)."""
    try:
        meta = runtime().catalog.get_asset(asset_id).metadata
    except Exception:
        return None, None
    return meta.get("trace_id"), meta.get("trace_parent")


def _instrumented(name: str, asset_id: str, execution_id: str, run: Any) -> dict[str, Any]:
    """A span, a log line and a duration for the step; `ok: False` counts as failed."""
    with instrument.step(name, asset_id, execution_id, *_trace(asset_id)) as outcome:
        result: dict[str, Any] = run()
        outcome["ok"] = bool(result.get("ok"))
    return result


@DBOS.step(name="ingest", should_retry=_transient, **_RETRY)
def ingest_step(asset_id: str, execution_id: str) -> dict[str, Any]:
    return _instrumented(
        "ingest", asset_id, execution_id, lambda: steps.ingest(asset_id, execution_id)
    )


@DBOS.step(name="process", should_retry=_transient, **_RETRY)
def process_step(asset_id: str, execution_id: str) -> dict[str, Any]:
    return _instrumented(
        "process",
        asset_id,
        execution_id,
        lambda: steps.process(asset_id, execution_id, _cancelled),
    )


@DBOS.step(name="quality", should_retry=_transient, **_RETRY)
def quality_step(asset_id: str, execution_id: str) -> dict[str, Any]:
    return _instrumented(
        "quality",
        asset_id,
        execution_id,
        lambda: quality_checks.quality(asset_id, execution_id),
    )


@DBOS.step(name="publish", should_retry=_transient, **_RETRY)
def publish_step(asset_id: str, execution_id: str) -> dict[str, Any]:
    return _instrumented(
        "publish", asset_id, execution_id, lambda: steps.publish(asset_id, execution_id, _cancelled)
    )


@DBOS.step(name="record_failure")
def failure_step(asset_id: str, execution_id: str, error: dict[str, Any]) -> None:
    steps.record_failure(asset_id, execution_id, error)
    metrics.inc(
        EXECUTIONS,
        status="failed",
        stage=str(error.get("step") or ""),
        code=str(error.get("code") or "unknown"),
    )
    log.warning(
        "asset %s failed in %s: %s: %s",
        asset_id,
        error.get("step"),
        error.get("code"),
        error.get("message"),
        extra={"asset_id": asset_id, "execution_id": execution_id, "code": error.get("code")},
    )


@DBOS.step(name="start")
def start_step(asset_id: str, execution_id: str) -> None:
    runtime().catalog.start_execution(execution_id, asset_id)
    metrics.inc(EXECUTIONS, status="started", stage="", code="")


@DBOS.step(name="finish")
def finish_step(execution_id: str) -> None:
    runtime().catalog.finish_execution(execution_id, "succeeded")
    metrics.inc(EXECUTIONS, status="succeeded", stage="", code="")


@DBOS.workflow(name="asset_pipeline")
def asset_pipeline(asset_id: str) -> dict[str, Any]:
    execution_id = DBOS.workflow_id or asset_id
    start_step(asset_id, execution_id)
    stage = "ingest"
    try:
        for name, run in (
            ("ingest", ingest_step),
            ("process", process_step),
            ("quality", quality_step),
            ("publish", publish_step),
        ):
            stage = name
            outcome = run(asset_id, execution_id)
            if not outcome.get("ok"):
                failure_step(asset_id, execution_id, outcome["error"])
                return {"asset_id": asset_id, "status": "failed", "error": outcome["error"]}
    except DBOSWorkflowCancelledError:
        raise
    except Exception as exc:  # retries exhausted on a transient error
        code = exc.code if isinstance(exc, MediaError) else "workflow.step_failed"
        message = (
            exc.message
            if isinstance(exc, MediaError)
            else (f"{stage} failed after retries: {type(exc).__name__}: {exc}")
        )
        error = AssetError(code=code, step=stage, message=message).model_dump()
        failure_step(asset_id, execution_id, error)
        return {"asset_id": asset_id, "status": "failed", "error": error}
    finish_step(execution_id)
    return {"asset_id": asset_id, "status": "ready", "error": None}


def execution_ids(asset_id: str) -> list[str]:
    return [e.id for e in runtime().catalog.list_executions(asset_id)]


def next_attempt(asset_id: str) -> int:
    """The next execution's number: past the recorded executions and past the workflow the
    asset last pointed at (one cancelled while still queued never recorded an execution)."""
    n = len(execution_ids(asset_id))
    current = runtime().catalog.get_asset(asset_id).execution_id or ""
    head, _, tail = current.rpartition(".")
    if head == asset_id and tail.isdigit():
        n = max(n, int(tail))
    return n + 1


def start(asset_id: str, *, attempt: int | None = None) -> str:
    """Enqueue the asset's workflow; its id is `<asset>.<n>` so a repeat start of the same
    attempt returns the same workflow (DBOS deduplicates by id)."""
    n = attempt or next_attempt(asset_id)
    workflow_id = f"{asset_id}.{n}"
    runtime().extras["enqueue"](workflow_id, asset_id)  # type: ignore[operator]
    runtime().catalog.update_asset(asset_id, execution_id=workflow_id)
    return workflow_id


def cancel(asset_id: str) -> str | None:
    """Cancel the asset's running workflow; the encode stops within about a second."""
    asset = runtime().catalog.get_asset(asset_id)
    if asset.status in (AssetStatus.READY, AssetStatus.FAILED) or not asset.execution_id:
        return None
    runtime().extras["cancel"](asset.execution_id)  # type: ignore[operator]
    error = AssetError(
        code="workflow.cancelled", step=asset.status.value, message="cancelled on request"
    )
    runtime().catalog.update_asset(
        asset_id, status=AssetStatus.FAILED, error=error, event_type="asset.failed"
    )
    runtime().catalog.finish_execution(asset.execution_id, "cancelled", error)
    metrics.inc(EXECUTIONS, status="cancelled", stage=asset.status.value, code=error.code)
    return asset.execution_id


def retry(asset_id: str) -> str:
    """A new execution of a failed (or cancelled) asset from the start."""
    asset = runtime().catalog.get_asset(asset_id)
    if asset.status is not AssetStatus.FAILED:
        raise ValueError(f"asset {asset_id} is {asset.status.value}; only failed assets retry")
    runtime().catalog.update_asset(
        asset_id,
        status=AssetStatus.INGESTING,
        error=None,
        progress=0.0,
        event_type="asset.retrying",
    )
    return start(asset_id)


def run_here(asset_id: str) -> Any:
    """Start the asset's workflow in this process now (no queue wait); still durable: a
    crash leaves it to be recovered by the next worker that starts. Returns the handle."""
    from dbos import SetWorkflowID

    workflow_id = f"{asset_id}.{next_attempt(asset_id)}"
    runtime().catalog.update_asset(asset_id, execution_id=workflow_id)
    with SetWorkflowID(workflow_id):
        return DBOS.start_workflow(asset_pipeline, asset_id)


def delete(asset_id: str) -> int:
    """Cancel if running, then remove published outputs, the source and the record."""
    rt = runtime()
    asset = rt.catalog.get_asset(asset_id)
    if asset.status not in (AssetStatus.READY, AssetStatus.FAILED):
        cancel(asset_id)
    removed = 0
    if asset.output_prefix:
        removed += rt.store.delete_prefix(
            asset.output_bucket or rt.settings.destination_bucket, asset.output_prefix
        )
    removed += rt.store.delete_prefix(rt.settings.destination_bucket, f"assets/{asset_id}/")
    if rt.store.exists(asset.source_bucket, asset.source_key):
        rt.store.delete(asset.source_bucket, asset.source_key)
        removed += 1
    rt.catalog.delete_asset(asset_id)
    return removed
