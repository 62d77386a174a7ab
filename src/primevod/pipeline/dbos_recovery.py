"""The one place that uses a DBOS internal: re-enqueueing a dead executor's pending
workflows. DBOS 3.4 recovers, at launch, only the workflows of its own executor id; without
its hosted Conductor nothing hands a dead executor's work to a live one. Its internal
`_recover_pending_workflows` re-enqueues each PENDING workflow of the given executors on
DBOS's internal queue, where the atomic ENQUEUED -> PENDING dequeue admits exactly one
runner (two recoveries of the same workflow are harmless)."""

from __future__ import annotations

from dbos import DBOS


def pending_workflows(executor_id: str) -> list[str]:
    """Ids of the executor's workflows still PENDING (public API)."""
    rows = DBOS.list_workflows(
        status=["PENDING"], load_input=False, load_output=False, executor_id=executor_id
    )
    return [w.workflow_id for w in rows]


def recover(executor_ids: list[str]) -> list[str]:
    """Re-enqueue the pending workflows of dead executors; their ids."""
    if not executor_ids:
        return []
    handles = DBOS._recover_pending_workflows(executor_ids)
    return [h.get_workflow_id() for h in handles]
