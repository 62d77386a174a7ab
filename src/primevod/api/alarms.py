"""Alarm routes: every alarm's rule and state, one alarm, evaluate now."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException

from primevod.api.auth import allow
from primevod.api.deps import RuntimeDep
from primevod.api.observability import _flushed_store
from primevod.core.access import Principal
from primevod.pipeline import schedules as observer

router = APIRouter()


@router.get("/api/v1/alarms", tags=["observability"])
def list_alarms(
    rt: RuntimeDep, _: Principal = Depends(allow("alarms:Get"))
) -> list[dict[str, Any]]:
    return observer.alarm_rows(rt)


@router.get("/api/v1/alarms/{name}", tags=["observability"])
def show_alarm(
    rt: RuntimeDep, name: str, _: Principal = Depends(allow("alarms:Get"))
) -> dict[str, Any]:
    for row in observer.alarm_rows(rt):
        if row["name"] == name:
            return row
    raise HTTPException(404, f"no alarm {name}")


@router.post("/api/v1/alarms/evaluate", tags=["observability"])
def evaluate_now(
    rt: RuntimeDep, _: Principal = Depends(allow("alarms:Evaluate"))
) -> list[dict[str, Any]]:
    """Evaluate every alarm now (the schedule does it every minute)."""
    _flushed_store(rt)
    observer.evaluate_alarms(rt)
    return observer.alarm_rows(rt)
