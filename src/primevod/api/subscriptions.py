"""Subscription routes: webhooks, pull queues and log rules; deliveries, replay of dead
letters, receiving and deleting queue messages."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Response
from pydantic import BaseModel, Field

from primevod.api.auth import allow
from primevod.api.deps import RuntimeDep
from primevod.core.access import Principal
from primevod.core.errors import NotFound
from primevod.pipeline.runtime import Runtime
from primevod.pipeline.webhook_target import check_url

router = APIRouter()


class SubscriptionIn(BaseModel):
    kind: Literal["webhook", "queue", "log"] = "webhook"
    url: str | None = Field(None, description="webhook: where events are POSTed")
    name: str | None = None
    event_types: list[str] = Field(default_factory=lambda: ["*"])
    pattern: dict[str, Any] | None = Field(
        None,
        description='event pattern, e.g. {"data": {"error": {"code": [{"prefix": "source."}]}}}',
    )
    secret: str | None = Field(None, description="webhook: HMAC secret (generated if absent)")


class ReceiveIn(BaseModel):
    max_messages: int = Field(10, ge=1, le=100)
    visibility_timeout: float = Field(30.0, ge=0, le=43200)


class DeleteMessageIn(BaseModel):
    receipt: str


@router.get("/api/v1/subscriptions", tags=["subscriptions"])
def list_subscriptions(
    rt: RuntimeDep, _: Principal = Depends(allow("subscriptions:List"))
) -> list[dict[str, Any]]:
    return rt.subscriptions.list()


@router.post("/api/v1/subscriptions", status_code=201, tags=["subscriptions"])
def add_subscription(
    rt: RuntimeDep, body: SubscriptionIn, _: Principal = Depends(allow("subscriptions:Create"))
) -> dict[str, Any]:
    try:
        if body.kind == "webhook":
            if not body.url:
                raise ValueError("a webhook subscription needs a url")
            refuse_inward(rt, body.url)
            return rt.subscriptions.add_webhook(
                body.url, body.event_types, body.secret, body.name, body.pattern
            )
        if body.kind == "log":
            return rt.subscriptions.add_log(body.name or "log", body.event_types, body.pattern)
        return rt.subscriptions.add_queue(body.name or "queue", body.event_types, body.pattern)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None


def refuse_inward(rt: Runtime, url: str) -> None:
    """400 for a webhook URL whose host resolves inward (core/net_guard.py)."""
    try:
        check_url(url, rt.settings.webhook_allowed)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None


def _sub(rt: Runtime, sub_id: str) -> dict[str, Any]:
    try:
        return rt.subscriptions.get(sub_id)
    except NotFound:
        raise HTTPException(404, f"no subscription {sub_id}") from None


@router.delete("/api/v1/subscriptions/{sub_id}", status_code=204, tags=["subscriptions"])
def remove_subscription(
    rt: RuntimeDep, sub_id: str, _: Principal = Depends(allow("subscriptions:Delete"))
) -> Response:
    _sub(rt, sub_id)
    rt.subscriptions.remove(sub_id)
    return Response(status_code=204)


@router.get("/api/v1/subscriptions/{sub_id}/deliveries", tags=["subscriptions"])
def deliveries(
    rt: RuntimeDep,
    sub_id: str,
    status: str | None = None,
    _: Principal = Depends(allow("subscriptions:List")),
) -> list[dict[str, Any]]:
    _sub(rt, sub_id)
    return rt.subscriptions.deliveries(sub_id, status)


@router.post("/api/v1/subscriptions/{sub_id}/replay", tags=["subscriptions"])
def replay(
    rt: RuntimeDep, sub_id: str, _: Principal = Depends(allow("subscriptions:Replay"))
) -> dict[str, int]:
    _sub(rt, sub_id)
    return {"replayed": rt.subscriptions.replay_dead(sub_id)}


@router.post("/api/v1/subscriptions/{sub_id}/receive", tags=["subscriptions"])
def receive(
    rt: RuntimeDep,
    sub_id: str,
    body: ReceiveIn,
    _: Principal = Depends(allow("subscriptions:Receive")),
) -> list[dict[str, Any]]:
    sub = _sub(rt, sub_id)
    if sub["kind"] != "queue":
        raise HTTPException(409, "only queue subscriptions can be received from")
    return rt.subscriptions.receive(
        sub_id,
        max_messages=body.max_messages,
        visibility_timeout=body.visibility_timeout,
        max_receives=rt.settings.queue_max_receives,
    )


@router.post("/api/v1/subscriptions/{sub_id}/delete", status_code=204, tags=["subscriptions"])
def delete_message(
    rt: RuntimeDep,
    sub_id: str,
    body: DeleteMessageIn,
    _: Principal = Depends(allow("subscriptions:Receive")),
) -> Response:
    _sub(rt, sub_id)
    if not rt.subscriptions.delete_message(sub_id, body.receipt):
        raise HTTPException(404, "no visible message with that receipt")
    return Response(status_code=204)
