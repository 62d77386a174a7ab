"""`GET /api/v1/audit`: the audit trail's records for admins (policy action `audit:Get`),
newest first, filtered by principal, action and time, paged by seq. The records are written
by api/audit_trail.py (API calls) and cli/audited.py (state-changing commands)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query

from primevod.api.auth import allow
from primevod.api.deps import RuntimeDep
from primevod.core.access import Principal
from primevod.core.audit import parse_time

router = APIRouter()


@router.get("/api/v1/audit", tags=["audit"])
def list_audit(
    rt: RuntimeDep,
    principal: str | None = Query(None, description="a key id, or local:<user> for the CLI"),
    action: str | None = Query(None, description="e.g. assets:Delete, or assets:* (a prefix)"),
    since: str | None = Query(None, description="ISO time or an age: 90m, 24h, 7d"),
    before: int | None = Query(None, ge=1, description="records before this seq (next page)"),
    limit: int = Query(100, ge=1, le=1000),
    _: Principal = Depends(allow("audit:Get")),
) -> dict[str, Any]:
    """Audit records, newest first (admins: `audit:Get`)."""
    from primevod.pipeline import audit

    try:
        start = parse_time(since, datetime.now(UTC)) if since else None
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    items = audit.search(
        rt, principal=principal, action=action, since=start, before=before, limit=limit
    )
    return {
        "items": items,
        "next_before": items[-1]["seq"] if len(items) == limit else None,
    }
