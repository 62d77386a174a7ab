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

from primevod.core.assets import TERMINAL, AssetError, AssetStatus
from primevod.core.execution import PlanOutcome, StagedPackage
from primevod.core.layout import asset_prefix, package_prefix
from primevod.core.metrics import failure_outcome
from primevod.observability import metrics
from primevod.pipeline import budget_step as budget_checks
from primevod.pipeline import chunked, package_store, steps, subtitle_sidecars
from primevod.pipeline import quality_step as quality_checks
from primevod.pipeline.chunked_workflows import failure, plan_step, process_in_chunks
from primevod.pipeline.runtime import Runtime, runtime
from primevod.pipeline.step_policy import RETRY, cancelled, transient

QUEUE = "encode"
EXECUTIONS = "primevod_workflow_executions_total"
log = logging.getLogger("primevod.pipeline")


# Each DBOS step returns its outcome as JSON (the recorded output a recovered workflow
# replays), and takes the earlier steps' outputs it needs as arguments.
@DBOS.step(name="ingest", should_retry=transient, **RETRY)
def ingest_step(asset_id: str, execution_id: str) -> dict[str, Any]:
    return steps.ingest(runtime(), asset_id, execution_id).model_dump(mode="json")


@DBOS.step(name="budget", should_retry=transient, **RETRY)
def budget_step(asset_id: str, execution_id: str) -> dict[str, Any]:
    return budget_checks.budget(runtime(), asset_id, execution_id).model_dump(mode="json")


@DBOS.step(name="process", should_retry=transient, **RETRY)
def process_step(asset_id: str, execution_id: str) -> dict[str, Any]:
    return steps.process(runtime(), asset_id, execution_id, cancelled).model_dump(mode="json")


@DBOS.step(name="quality", should_retry=transient, **RETRY)
def quality_step(asset_id: str, execution_id: str, package: dict[str, Any]) -> dict[str, Any]:
    staged = StagedPackage.model_validate(package)
    return quality_checks.quality(runtime(), asset_id, execution_id, staged).model_dump(mode="json")


@DBOS.step(name="publish", should_retry=transient, **RETRY)
def publish_step(asset_id: str, execution_id: str, package: dict[str, Any]) -> dict[str, Any]:
    staged = StagedPackage.model_validate(package)
    outcome = steps.publish(runtime(), asset_id, execution_id, staged, cancelled)
    return outcome.model_dump(mode="json")


@DBOS.step(name="record_failure")
def failure_step(asset_id: str, execution_id: str, error: dict[str, Any]) -> None:
    failure = AssetError.model_validate(error)
    steps.record_failure(runtime(), asset_id, execution_id, failure)
    outcome = failure_outcome(failure.code)  # a refused source is no pipeline failure
    metrics.inc(EXECUTIONS, status=outcome, stage=str(failure.step or ""), code=failure.code)
    log.warning(
        "asset %s failed in %s: %s: %s",
        asset_id,
        failure.step,
        failure.code,
        failure.message,
        extra={"asset_id": asset_id, "execution_id": execution_id, "code": failure.code},
    )


@DBOS.step(name="start")
def start_step(asset_id: str, execution_id: str) -> None:
    runtime().catalog.start_execution(execution_id, asset_id)
    metrics.inc(EXECUTIONS, status="started", stage="", code="")


@DBOS.step(name="finish")
def finish_step(execution_id: str) -> None:
    runtime().catalog.finish_execution(execution_id, "succeeded")
    metrics.inc(EXECUTIONS, status="succeeded", stage="", code="")


def _failed(asset_id: str, execution_id: str, error: dict[str, Any]) -> dict[str, Any]:
    failure_step(asset_id, execution_id, error)
    return {"asset_id": asset_id, "status": "failed", "error": error}


def _process(asset_id: str, execution_id: str) -> dict[str, Any]:
    """The encode: planned first, then in chunks across workers or in one pass here."""
    planned = plan_step(asset_id, execution_id)
    if not planned["ok"]:
        return planned
    if PlanOutcome.model_validate(planned).chunked:
        return process_in_chunks(asset_id, execution_id, planned)
    return process_step(asset_id, execution_id)


@DBOS.workflow(name="asset_pipeline")
def asset_pipeline(asset_id: str) -> dict[str, Any]:
    """ingest -> budget -> process (or plan, chunks, stitch) -> quality -> publish; the encode's
    outcome (where the staged package is) is the input of quality and publish."""
    execution_id = DBOS.workflow_id or asset_id
    start_step(asset_id, execution_id)
    stage = "ingest"
    try:
        outcome = ingest_step(asset_id, execution_id)
        if outcome["ok"]:
            stage = "budget"
            outcome = budget_step(asset_id, execution_id)
        if outcome["ok"]:
            stage = "process"
            outcome = _process(asset_id, execution_id)
        if outcome["ok"]:
            package = outcome["package"]
            stage = "quality"
            outcome = quality_step(asset_id, execution_id, package)
        if outcome["ok"]:
            stage = "publish"
            outcome = publish_step(asset_id, execution_id, package)
        if not outcome["ok"]:
            return _failed(asset_id, execution_id, outcome["error"])
    except DBOSWorkflowCancelledError:
        raise
    except Exception as exc:  # retries exhausted on a transient error
        return _failed(asset_id, execution_id, failure(stage, exc))
    finish_step(execution_id)
    return {"asset_id": asset_id, "status": "ready", "error": None}


def execution_ids(rt: Runtime, asset_id: str) -> list[str]:
    return [e.id for e in rt.catalog.list_executions(asset_id)]


def next_attempt(rt: Runtime, asset_id: str) -> int:
    """The next execution's number: past the recorded executions and past the workflow the
    asset last pointed at (one cancelled while still queued never recorded an execution)."""
    n = len(execution_ids(rt, asset_id))
    current = rt.catalog.get_asset(asset_id).execution_id or ""
    head, _, tail = current.rpartition(".")
    if head == asset_id and tail.isdigit():
        n = max(n, int(tail))
    return n + 1


def start(rt: Runtime, asset_id: str, *, attempt: int | None = None) -> str:
    """Enqueue the asset's workflow; its id is `<asset>.<n>` so a repeat start of the same
    attempt returns the same workflow (DBOS deduplicates by id)."""
    n = attempt or next_attempt(rt, asset_id)
    workflow_id = f"{asset_id}.{n}"
    rt.workflows.enqueue(workflow_id, asset_id)
    rt.catalog.update_asset(asset_id, execution_id=workflow_id)
    return workflow_id


def cancel(rt: Runtime, asset_id: str) -> str | None:
    """Cancel the asset's running workflow; the encode stops within about a second."""
    asset = rt.catalog.get_asset(asset_id)
    if asset.status in TERMINAL or not asset.execution_id:
        return None
    rt.workflows.cancel(asset.execution_id)
    error = AssetError(
        code="workflow.cancelled", step=asset.status.value, message="cancelled on request"
    )
    rt.catalog.update_asset(
        asset_id, status=AssetStatus.FAILED, error=error, event_type="asset.failed"
    )
    rt.catalog.finish_execution(asset.execution_id, "cancelled", error)
    metrics.inc(EXECUTIONS, status="cancelled", stage=asset.status.value, code=error.code)
    package_store.drop_unpublished(
        rt.store,
        rt.settings.destination_bucket,
        package_prefix(asset_id, asset.execution_id),
        rt.catalog.get_asset(asset_id).output_prefix,
    )
    chunked.drop_chunks(rt, asset_id, asset.execution_id)
    return asset.execution_id


def retry(rt: Runtime, asset_id: str) -> str:
    """A new execution of a failed (or cancelled) asset from the start."""
    from primevod.pipeline.lifecycle import require_source

    asset = rt.catalog.get_asset(asset_id)
    require_source(rt, asset)  # MediaError source.expired: the lifecycle removed it
    if asset.status is not AssetStatus.FAILED:
        raise ValueError(f"asset {asset_id} is {asset.status.value}; only failed assets retry")
    rt.catalog.update_asset(
        asset_id,
        status=AssetStatus.INGESTING,
        error=None,
        progress=0.0,
        event_type="asset.retrying",
    )
    return start(rt, asset_id)


def run_here(rt: Runtime, asset_id: str) -> Any:
    """Start the asset's workflow in this process now (no queue wait); still durable: a
    crash leaves it to be recovered by the next worker that starts. Returns the handle."""
    from dbos import SetWorkflowID

    workflow_id = f"{asset_id}.{next_attempt(rt, asset_id)}"
    rt.catalog.update_asset(asset_id, execution_id=workflow_id)
    with SetWorkflowID(workflow_id):
        return DBOS.start_workflow(asset_pipeline, asset_id)


def delete(rt: Runtime, asset_id: str) -> int:
    """Cancel if running, then remove published outputs, the source, its sidecar subtitle
    files and the record."""
    asset = rt.catalog.get_asset(asset_id)
    if asset.status not in TERMINAL:
        cancel(rt, asset_id)
    removed = 0
    if asset.output_prefix:
        removed += rt.store.delete_prefix(
            asset.output_bucket or rt.settings.destination_bucket, asset.output_prefix
        )
    removed += rt.store.delete_prefix(rt.settings.destination_bucket, asset_prefix(asset_id))
    if rt.store.exists(asset.source_bucket, asset.source_key):
        rt.store.delete(asset.source_bucket, asset.source_key)
        removed += 1
    removed += subtitle_sidecars.remove(rt, asset.metadata)
    rt.catalog.delete_asset(asset_id)
    rt.catalog.delete_content_key(asset_id)  # encrypted HLS: its key goes with it
    return removed
