"""Workers and their liveness: who runs workflows, and when one counts as dead. Pure."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field

WorkerState = Literal["live", "stopped", "lost"]


def new_worker_id(host: str, pid: int) -> str:
    """Unique per process: the host and pid say where it ran, the token that a restarted
    process (even with the same pid) is a new worker."""
    return f"{host}-{pid}-{secrets.token_hex(3)}"


class WorkerInfo(BaseModel):
    id: str
    host: str
    pid: int
    role: str = Field(description="worker (serve, worker) or process (a `primevod process` run)")
    version: str
    state: WorkerState = "live"
    started_at: datetime
    last_seen: datetime
    lost_at: datetime | None = None
    taken_over_by: str | None = None
    recovered: list[str] = Field(default_factory=list, description="workflows taken over")


def dead_cutoff(now: datetime, dead_after_seconds: float) -> datetime:
    """A live worker whose last heartbeat is older than this is dead."""
    return now - timedelta(seconds=dead_after_seconds)


def is_dead(worker: WorkerInfo, now: datetime, dead_after_seconds: float) -> bool:
    return worker.state == "live" and worker.last_seen < dead_cutoff(now, dead_after_seconds)
