"""What every DBOS step of the pipeline shares: the retry policy (Step-Functions style:
interval, attempts, backoff; a permanent error is never retried) and the cancel check that
stops a running encode."""

from __future__ import annotations

from typing import Any

from dbos import DBOS

from primevod.core.errors import MediaError

RETRY: dict[str, Any] = {
    "retries_allowed": True,
    "interval_seconds": 2.0,
    "max_attempts": 3,
    "backoff_rate": 2.0,
}


def transient(exc: BaseException) -> bool:
    return not (isinstance(exc, MediaError) and exc.permanent)


def cancelled(*workflow_ids: str | None) -> bool:
    """Whether this workflow, or any of `workflow_ids` (the asset's own workflow, for a
    chunk of it), has been cancelled."""
    for workflow_id in (DBOS.workflow_id, *workflow_ids):
        if workflow_id is None:
            continue
        status = DBOS.get_workflow_status(workflow_id)
        if status is not None and status.status == "CANCELLED":
            return True
    return False
