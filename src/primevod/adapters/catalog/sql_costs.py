"""The cost ledger in the catalog database: per job, the estimate made before its encode and
the actual after, for the budget check, the cost report and the local model's calibration.

The budget check and the job's reservation are one transaction that writes first (SQLite
then holds its write lock until commit) or takes an advisory lock (PostgreSQL), so two jobs
starting at once cannot both fit under the same dollars."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select, text
from sqlalchemy.orm import Session

from primevod.adapters.catalog.sql_catalog import SqlCatalog
from primevod.adapters.catalog.sql_database import _aware
from primevod.adapters.catalog.tables import CostRow
from primevod.core.assets import utcnow
from primevod.core.budget import BudgetDecision, decide, month_of
from primevod.core.local_cost import RECENT, EncodeRecord

_BUDGET_LOCK = 0x70726D62  # "prmb": the advisory lock of the budget check on PostgreSQL
COUNTED = ("running", "done")


class SqlCosts:
    def __init__(self, catalog: SqlCatalog) -> None:
        self.catalog = catalog
        self.engine = catalog.engine

    def reserve(
        self,
        *,
        execution_id: str,
        asset_id: str,
        target: str,
        estimate: dict[str, Any],
        estimate_usd: float,
        budget_usd: float | None,
        override: bool = False,
        now: datetime | None = None,
    ) -> BudgetDecision:
        """Record the job's estimate and decide against the month's budget, at once; a
        refused job is kept as `refused` (it counts for nothing)."""
        now = now or utcnow()
        month = month_of(now)
        with self.catalog.session() as s:
            if s.bind is not None and s.bind.dialect.name == "postgresql":
                s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _BUDGET_LOCK})
            row = s.get(CostRow, execution_id) or CostRow(execution_id=execution_id)
            row.asset_id, row.target, row.month, row.state = asset_id, target, month, "running"
            row.estimate, row.estimate_usd, row.override = estimate, estimate_usd, override
            row.actual, row.actual_usd, row.created_at, row.finished_at = None, None, now, None
            s.add(row)
            s.flush()
            spent = self._spent(s, month, exclude=execution_id)
            decision = decide(
                budget_usd=budget_usd,
                spent_usd=spent,
                estimate_usd=estimate_usd,
                override=override,
            )
            if not decision.allowed:
                row.state = "refused"
        return decision

    def record_actual(
        self, execution_id: str, actual: dict[str, Any], usd: float, now: datetime | None = None
    ) -> None:
        with self.catalog.session() as s:
            row = s.get(CostRow, execution_id)
            if row is None:  # a job started before the ledger existed
                return
            row.actual, row.actual_usd, row.state = actual, usd, "done"
            row.finished_at = now or utcnow()

    def mark_failed(self, execution_id: str) -> None:
        """A failed job's estimate stops counting (what it spent before failing is unknown)."""
        with self.catalog.session() as s:
            row = s.get(CostRow, execution_id)
            if row is not None and row.state == "running":
                row.state, row.finished_at = "failed", utcnow()

    def month_spend(self, month: str) -> float:
        with self.catalog.session() as s:
            return self._spent(s, month)

    @staticmethod
    def _spent(s: Session, month: str, exclude: str | None = None) -> float:
        usd = case(
            (CostRow.state == "done", func.coalesce(CostRow.actual_usd, CostRow.estimate_usd)),
            else_=CostRow.estimate_usd,
        )
        query = select(func.coalesce(func.sum(usd), 0.0)).where(
            CostRow.month == month, CostRow.state.in_(COUNTED)
        )
        if exclude is not None:
            query = query.where(CostRow.execution_id != exclude)
        return float(s.execute(query).scalar_one())

    def encode_records(self, limit: int = RECENT) -> list[EncodeRecord]:
        """The newest finished local jobs' measurements, for the model's calibration."""
        with self.catalog.session() as s:
            rows = s.execute(
                select(CostRow.actual)
                .where(CostRow.state == "done", CostRow.target == "local")
                .order_by(CostRow.finished_at.desc())
                .limit(limit)
            ).scalars()
            return [
                EncodeRecord(
                    preset=str(a.get("preset", "")),
                    megapixels=float(a.get("megapixels", 0.0)),
                    cpu_seconds=float(a.get("cpu_seconds", 0.0)),
                    package_bytes=int(a.get("package_bytes", 0)),
                    bytes_at_caps=int(a.get("bytes_at_caps", 0)),
                    projected_cpu_seconds=float(a.get("projected_cpu_seconds", 0.0)),
                    projected_bytes=int(a.get("projected_bytes", 0)),
                )
                for a in rows
                if a
            ]

    def list_costs(self, since: datetime | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        """Jobs newest first (those created at `since` or later)."""
        with self.catalog.session() as s:
            query = select(CostRow).order_by(CostRow.created_at.desc()).limit(limit)
            if since is not None:
                query = query.where(CostRow.created_at >= since)
            return [_as_dict(r) for r in s.execute(query).scalars()]


def _as_dict(row: CostRow) -> dict[str, Any]:
    return {
        "execution_id": row.execution_id,
        "asset_id": row.asset_id,
        "target": row.target,
        "month": row.month,
        "state": row.state,
        "override": row.override,
        "estimate_usd": row.estimate_usd,
        "actual_usd": row.actual_usd,
        "estimate": row.estimate,
        "actual": row.actual,
        "created_at": _aware(row.created_at),
        "finished_at": _aware(row.finished_at),
    }
