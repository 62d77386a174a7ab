"""The event log route: what happened to assets, after an id (for pollers)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from primevod.api.auth import allow
from primevod.api.deps import RuntimeDep
from primevod.core.access import Principal

router = APIRouter()


@router.get("/api/v1/events", tags=["events"])
def list_events(
    rt: RuntimeDep,
    after: int = 0,
    asset_id: str | None = None,
    limit: int = Query(100, ge=1, le=1000),
    _: Principal = Depends(allow("events:List")),
) -> list[dict[str, Any]]:
    events = rt.catalog.list_events(asset_id=asset_id, after_id=after, limit=limit)
    return [e.model_dump(mode="json") for e in events]
