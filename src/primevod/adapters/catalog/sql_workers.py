"""Worker registrations and heartbeats, and the claim on a dead worker's work: a
conditional UPDATE that exactly one claimer wins, so a takeover happens once."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update

from primevod.adapters.catalog.sql_database import SqlDatabase, _aware
from primevod.adapters.catalog.tables import WorkerRow
from primevod.core.workers import WorkerInfo


def _info(row: WorkerRow) -> WorkerInfo:
    return WorkerInfo(
        id=row.id,
        host=row.host,
        pid=row.pid,
        role=row.role,
        version=row.version,
        state=row.state,  # type: ignore[arg-type]
        started_at=_aware(row.started_at),
        last_seen=_aware(row.last_seen),
        lost_at=_aware(row.lost_at),
        taken_over_by=row.taken_over_by,
        recovered=list(row.recovered or []),
    )


class SqlWorkers(SqlDatabase):
    def register_worker(self, worker: WorkerInfo) -> None:
        with self.session() as s:
            s.merge(
                WorkerRow(
                    id=worker.id,
                    host=worker.host,
                    pid=worker.pid,
                    role=worker.role,
                    version=worker.version,
                    state=worker.state,
                    started_at=worker.started_at,
                    last_seen=worker.last_seen,
                    recovered=[],
                )
            )

    def heartbeat(self, worker_id: str, now: datetime) -> bool:
        """False when the worker is no longer live (declared lost while it was stalled)."""
        with self.session() as s:
            done = s.execute(
                update(WorkerRow)
                .where(WorkerRow.id == worker_id, WorkerRow.state == "live")
                .values(last_seen=now)
            )
            return bool(done.rowcount)

    def stop_worker(self, worker_id: str, now: datetime, *, unfinished: bool = False) -> None:
        """A clean stop. With `unfinished` work (a run interrupted by Ctrl-C) the worker stays
        live with no heartbeat at all, so the next takeover claims it at once."""
        values = (
            {"last_seen": datetime.fromtimestamp(0, UTC)}
            if unfinished
            else {
                "state": "stopped",
                "last_seen": now,
            }
        )
        with self.session() as s:
            s.execute(
                update(WorkerRow)
                .where(WorkerRow.id == worker_id, WorkerRow.state == "live")
                .values(**values)
            )

    def claim_worker(
        self, worker_id: str, claimer: str, now: datetime, seen_before: datetime
    ) -> bool:
        """Declare a live worker lost if its last heartbeat is older than `seen_before`;
        True for the one caller whose UPDATE changed the row."""
        with self.session() as s:
            done = s.execute(
                update(WorkerRow)
                .where(
                    WorkerRow.id == worker_id,
                    WorkerRow.state == "live",
                    WorkerRow.last_seen < seen_before,
                )
                .values(state="lost", lost_at=now, taken_over_by=claimer)
            )
            return bool(done.rowcount)

    def record_takeover(self, worker_id: str, recovered: list[str]) -> None:
        with self.session() as s:
            s.execute(
                update(WorkerRow).where(WorkerRow.id == worker_id).values(recovered=recovered)
            )

    def list_workers(self, *, states: tuple[str, ...] | None = None) -> list[WorkerInfo]:
        with self.session() as s:
            query = select(WorkerRow).order_by(WorkerRow.started_at)
            if states:
                query = query.where(WorkerRow.state.in_(states))
            return [_info(r) for r in s.execute(query).scalars().all()]
