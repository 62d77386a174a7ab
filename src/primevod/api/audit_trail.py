"""The audit trail of the API: every call under /api/ becomes one audit record (core/audit.py)
written after its response has gone out (`GET /api/v1/audit` lists them: api/audit.py).

Recorded: the time the call arrived, the key id (`anonymous` without a valid key), the policy
action the route checked (else `METHOD /route/template`), the resource (the asset when the
route names one), source address, user agent, request id (the client's `X-Request-ID` when
it is plain, else a new one; echoed in the response), outcome and status. Never a header
value other than the user agent, never a query string or a body. Not recorded: media
delivery (/vod/, the edge's access log has it), player beacons (viewer telemetry, stored
and counted by themselves: docs/analytics.md), the web app and its static files, /metrics,
/healthz and CORS preflights."""

from __future__ import annotations

import logging
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from primevod.core.audit import ANONYMOUS, AuditEntry, outcome_of, sane_request_id

log = logging.getLogger("primevod.audit")
AUDITED = ("/api/", "/signin")  # /signin: the one-time sign-in link (api/session.py)
NOT_AUDITED = ("/api/v1/beacons",)
REQUEST_ID_HEADER = b"x-request-id"

# what the route's policy check named, for the record: the middleware puts a fresh dict here
# per request; sync endpoints and dependencies run in threads with a copy of the context,
# which still holds the same dict
_NOTES: ContextVar[dict[str, str] | None] = ContextVar("primevod_audit_notes", default=None)


def note_check(action: str, resource: str = "*") -> None:
    """Called by the policy checks (api/auth.py): the first action checked is the request's,
    the first specific resource its resource."""
    notes = _NOTES.get()
    if notes is None:
        return
    notes.setdefault("action", action)
    if resource != "*":
        notes.setdefault("resource", resource)


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


def _resource(scope: dict[str, Any], notes: dict[str, str]) -> str:
    """The checked resource, else the route's `<thing>_id` parameter as `<thing>/<id>`."""
    if "resource" in notes:
        return notes["resource"]
    for name, value in (scope.get("path_params") or {}).items():
        if name.endswith("_id"):
            return f"{name.removesuffix('_id')}/{value}"
    return "*"


def entry_for(
    scope: dict[str, Any], notes: dict[str, str], status: int, started: datetime, request_id: str
) -> AuditEntry:
    route = scope.get("route")
    template = getattr(route, "path", None) or scope["path"]
    principal = (scope.get("state") or {}).get("principal")
    client = scope.get("client")
    return AuditEntry(
        time=started,
        principal=getattr(principal, "key_id", None) or ANONYMOUS,
        action=notes.get("action") or f"{scope['method']} {template}",
        route=f"{scope['method']} {template}",
        resource=_resource(scope, notes),
        outcome=outcome_of(status),
        status=status,
        request_id=request_id,
        origin="api",
        source_ip=client[0] if client else None,
        user_agent=_header(scope, b"user-agent"),
    )


def _write(entry: AuditEntry) -> None:
    from primevod.pipeline import audit
    from primevod.pipeline.runtime import runtime

    audit.submit(runtime(), entry)  # the batched writer appends it within a fraction of a second


class AuditTrail:
    """Plain ASGI middleware: one record per API call, handed to the batched writer once the
    response is sent (also when the client went away meanwhile: `finally`); the writer's
    pending records are appended when the process exits."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if (
            scope["type"] != "http"
            or not scope["path"].startswith(AUDITED)
            or scope["path"].startswith(NOT_AUDITED)
            or scope["method"] == "OPTIONS"
        ):
            await self.app(scope, receive, send)
            return
        started = datetime.now(UTC)
        request_id = sane_request_id(_header(scope, REQUEST_ID_HEADER)) or uuid.uuid4().hex
        scope.setdefault("state", {})  # shared with request.state: the principal lands here
        notes: dict[str, str] = {}
        token = _NOTES.set(notes)
        status = {"code": 500}

        async def send_wrapper(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                headers = [h for h in message.get("headers", []) if h[0] != REQUEST_ID_HEADER]
                message = {
                    **message,
                    "headers": [*headers, (REQUEST_ID_HEADER, request_id.encode())],
                }
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            _NOTES.reset(token)
            _write(entry_for(scope, notes, status["code"], started, request_id))
