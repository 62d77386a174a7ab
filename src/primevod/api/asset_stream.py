"""The asset page's live feed: `GET /api/v1/assets/{id}/events/stream`, Server-Sent Events.

It sends the asset's events from the catalog (`event: event`, `id:` the event's id) and its
state (`event: state`: status, stage, progress, what the step is doing, the error) whenever
that changes. The catalog is the only channel: every API process polls the one asset row
(and, while something changes, its events and step records), so a worker on another machine
or another API process behind the same PostgreSQL is heard just the same.

A reconnecting client sends `Last-Event-ID` (EventSource does by itself) and gets the events
after it. A comment every 15 s keeps proxies from closing a quiet stream. A stream ends once
the asset is ready or failed and its final state and events are sent (nothing more comes
until someone retries it: the page then opens a new stream), when the asset is deleted, after
a few minutes (the client reconnects, and its key or session is checked again), when the
client goes away, or when the server stops (sse-starlette ends open streams on shutdown)."""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Depends, Header, HTTPException
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from primevod.api.auth import caller, readable_asset
from primevod.api.deps import RuntimeDep
from primevod.core.access import Principal
from primevod.core.asset_state import asset_state, state_document
from primevod.core.assets import TERMINAL, Asset, Event, Execution
from primevod.core.errors import NotFound
from primevod.pipeline.runtime import Runtime

router = APIRouter()

POLL_SECONDS = 0.5
HEARTBEAT_SECONDS = 15
EVENTS_AT_LEAST_EVERY = 5.0  # seconds; otherwise the events are read when the row changes
LIFETIME_SECONDS = 300.0
SETTLE_SECONDS = 5.0  # a finished asset's last step record lands within this, or is not coming
RECONNECT_MS = 2000
EVENT_PAGE = 500


@dataclass
class _Watch:
    """What one stream has read and sent so far."""

    asset_id: str
    last_event_id: int
    updated_at: Any = None
    events_read_at: float = -math.inf
    execution: Execution | None = None
    sent_state: dict[str, Any] | None = None
    pending: list[Event] = field(default_factory=list)


def _poll(rt: Runtime, watch: _Watch) -> Asset | None:
    """One look at the catalog (in a worker thread): the asset, and when it changed (or a
    while passed) its new events and its execution's step records. None: it is gone."""
    try:
        asset = rt.catalog.get_asset(watch.asset_id)
    except NotFound:
        asset = None
    changed = asset is None or asset.updated_at != watch.updated_at
    now = time.monotonic()
    if changed or now - watch.events_read_at >= EVENTS_AT_LEAST_EVERY:
        watch.events_read_at = now
        watch.pending = rt.catalog.list_events(
            asset_id=watch.asset_id, after_id=watch.last_event_id, limit=EVENT_PAGE
        )
    if asset is not None and (changed or not _settled(watch)):
        # a step starts (and ends) without touching the asset row: read its records until
        # the asset is finished and no step is still running
        watch.execution = _execution(rt, asset.execution_id)
    watch.updated_at = asset.updated_at if asset else None
    return asset


def _settled(watch: _Watch) -> bool:
    """The last state sent is final: ready or failed, with no stage still running."""
    state = watch.sent_state
    return (
        state is not None
        and state["status"] in TERMINAL
        and "running" not in state["stages"].values()
    )


def _execution(rt: Runtime, execution_id: str | None) -> Execution | None:
    if not execution_id:
        return None
    try:
        return rt.catalog.get_execution(execution_id)
    except NotFound:  # queued: the workflow has not recorded its start yet
        return None


def _messages(watch: _Watch, asset: Asset | None) -> list[ServerSentEvent]:
    messages = []
    for event in watch.pending:
        watch.last_event_id = max(watch.last_event_id, event.id or 0)
        data = json.dumps(event.model_dump(mode="json"))
        messages.append(ServerSentEvent(data=data, event="event", id=str(event.id)))
    watch.pending = []
    if asset is not None:
        state = state_document(asset_state(asset, watch.execution))
        if state != watch.sent_state:
            watch.sent_state = state
            data = json.dumps(state)
            messages.append(ServerSentEvent(data=data, event="state", id=str(watch.last_event_id)))
    return messages


async def _feed(rt: Runtime, watch: _Watch) -> AsyncIterator[ServerSentEvent]:
    yield ServerSentEvent(comment="asset feed", retry=RECONNECT_MS)
    ends = time.monotonic() + LIFETIME_SECONDS
    settle_by: float | None = None  # when a finished asset's stream ends at the latest
    while time.monotonic() < ends:
        asset = await run_in_threadpool(_poll, rt, watch)
        messages = _messages(watch, asset)
        for message in messages:
            yield message
        if asset is None:  # deleted: its last events are sent, nothing more will come
            return
        if asset.status not in TERMINAL:
            settle_by = None
        elif settle_by is None:  # finished: one more look at its events, then the end
            settle_by = time.monotonic() + SETTLE_SECONDS
            watch.events_read_at = -math.inf
        elif not messages and (_settled(watch) or time.monotonic() >= settle_by):
            return  # the final state and events are sent; a retry opens a new stream
        await asyncio.sleep(POLL_SECONDS)


def _resume_after(last_event_id: str | None) -> int:
    if last_event_id is None or not last_event_id.strip():
        return 0
    try:
        value = int(last_event_id)
    except ValueError:
        value = -1
    if value < 0:
        raise HTTPException(400, "Last-Event-ID must be an event id (a whole number) or absent")
    return value


@router.get(
    "/api/v1/assets/{asset_id}/events/stream",
    tags=["events"],
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "the live feed"}},
)
def asset_stream(
    rt: RuntimeDep,
    asset_id: str,
    last_event_id: str | None = Header(None, alias="Last-Event-ID"),
    principal: Principal = Depends(caller),
) -> EventSourceResponse:
    """The asset's events and live state as Server-Sent Events: `event: event` (one catalog
    event, its `id:` the event id) and `event: state` (status, stage, stages, progress,
    percent, activity, error), sent at once and whenever it changes. `Last-Event-ID`
    resumes after that event."""
    readable_asset(rt, principal, "assets:Get", asset_id)
    watch = _Watch(asset_id=asset_id, last_event_id=_resume_after(last_event_id))
    return EventSourceResponse(
        _feed(rt, watch),
        ping=HEARTBEAT_SECONDS,
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
