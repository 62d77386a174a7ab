"""Executions (one per workflow run of an asset) and their steps (one row per attempt)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, update

from primevod.adapters.catalog.sql_database import SqlDatabase, _aware
from primevod.adapters.catalog.tables import AssetRow, ExecutionRow, StepRow
from primevod.core.assets import TERMINAL, AssetError, Execution, StepRecord, utcnow
from primevod.core.errors import NotFound


class SqlExecutions(SqlDatabase):
    def start_execution(self, execution_id: str, asset_id: str) -> None:
        with self.session() as s:
            row = s.get(ExecutionRow, execution_id)
            if row is None:
                s.add(
                    ExecutionRow(
                        id=execution_id, asset_id=asset_id, status="running", started_at=utcnow()
                    )
                )
            else:  # resumed after a crash
                row.status = "running"
                row.finished_at = None

    def finish_execution(
        self, execution_id: str, status: str, error: AssetError | None = None
    ) -> None:
        with self.session() as s:
            row = s.get(ExecutionRow, execution_id)
            if row is not None:
                row.status = status
                row.finished_at = utcnow()
                row.error = error.model_dump() if error else None
                if status in ("failed", "cancelled"):
                    s.execute(
                        update(StepRow)
                        .where(StepRow.execution_id == execution_id, StepRow.status == "running")
                        .values(status="interrupted", finished_at=utcnow())
                    )

    def step_started(self, execution_id: str, name: str) -> int:
        with self.session() as s:
            attempts = s.execute(
                select(func.count())
                .select_from(StepRow)
                .where(StepRow.execution_id == execution_id, StepRow.name == name)
            ).scalar_one()
            # an earlier attempt still marked running died with its process
            s.execute(
                update(StepRow)
                .where(
                    StepRow.execution_id == execution_id,
                    StepRow.name == name,
                    StepRow.status == "running",
                )
                .values(status="interrupted", finished_at=utcnow())
            )
            row = StepRow(
                execution_id=execution_id,
                name=name,
                attempt=int(attempts) + 1,
                status="running",
                started_at=utcnow(),
            )
            s.add(row)
            s.flush()
            return int(row.id)

    def step_finished(self, step_id: int, status: str, error: str | None = None) -> None:
        with self.session() as s:
            row = s.get(StepRow, step_id)
            if row is not None:
                row.status = status
                row.finished_at = utcnow()
                row.duration = (row.finished_at - _aware(row.started_at)).total_seconds()
                row.error = error

    def get_execution(self, execution_id: str) -> Execution:
        with self.session() as s:
            row = s.get(ExecutionRow, execution_id)
            if row is None:
                raise NotFound(f"no execution {execution_id}")
            steps = (
                s.execute(
                    select(StepRow).where(StepRow.execution_id == execution_id).order_by(StepRow.id)
                )
                .scalars()
                .all()
            )
            return Execution(
                id=row.id,
                asset_id=row.asset_id,
                status=row.status,
                started_at=_aware(row.started_at),
                finished_at=_aware(row.finished_at),
                error=AssetError.model_validate(row.error) if row.error else None,
                steps=[
                    StepRecord(
                        name=st.name,
                        attempt=st.attempt,
                        status=st.status,
                        started_at=_aware(st.started_at),
                        finished_at=_aware(st.finished_at),
                        duration=st.duration,
                        error=st.error,
                    )
                    for st in steps
                ],
            )

    def list_executions(self, asset_id: str) -> list[Execution]:
        with self.session() as s:
            ids = (
                s.execute(
                    select(ExecutionRow.id)
                    .where(ExecutionRow.asset_id == asset_id)
                    .order_by(ExecutionRow.started_at)
                )
                .scalars()
                .all()
            )
        return [self.get_execution(i) for i in ids]

    def prune_executions(self, before: datetime) -> tuple[int, int]:
        """Remove executions that ended before `before`, with their steps. Kept whatever
        their age: running ones, every asset's current execution (the next attempt's number
        counts on it) and all of an asset still in its workflow. Returns (executions,
        steps) removed."""
        with self.session() as s:
            current = select(AssetRow.execution_id).where(AssetRow.execution_id.is_not(None))
            busy = select(AssetRow.id).where(AssetRow.status.not_in([t.value for t in TERMINAL]))
            old = select(ExecutionRow.id).where(
                ExecutionRow.status != "running",
                func.coalesce(ExecutionRow.finished_at, ExecutionRow.started_at) < before,
                ExecutionRow.id.not_in(current),
                ExecutionRow.asset_id.not_in(busy),
            )
            quiet = {"synchronize_session": False}
            steps = s.execute(
                delete(StepRow).where(StepRow.execution_id.in_(old)).execution_options(**quiet)
            ).rowcount
            executions = s.execute(
                delete(ExecutionRow).where(ExecutionRow.id.in_(old)).execution_options(**quiet)
            ).rowcount
        return int(executions or 0), int(steps or 0)
