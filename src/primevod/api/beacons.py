"""`POST /api/v1/beacons`: players report how playback went (core/qoe.py). No API key: a
beacon carries the signed playback URL its player was given, and is accepted only when that
signature is valid, unexpired and covers the beacon's asset, so nobody can report for an
asset they were not allowed to watch. Any content type is read as JSON (navigator.sendBeacon
sends text/plain, which needs no CORS preflight). Refusals are counted by reason, never
stored: 400 malformed or too large, 403 unsigned or for another asset, 503 when the
writer is behind (with Retry-After)."""

from __future__ import annotations

import atexit
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from primevod.api.deps import RuntimeDep
from primevod.api.edge import _cached, _verifier, delivery_layout
from primevod.api.rate_limits import RateLimits, too_many
from primevod.core.errors import NotFound
from primevod.core.qoe import MAX_BEACON_BYTES, Beacon, rows
from primevod.core.signing import Rejected, split_signed_url
from primevod.observability import metrics
from primevod.pipeline.batch_writer import BatchWriter
from primevod.pipeline.runtime import Runtime

router = APIRouter()
BEACON_PATH = "/api/v1/beacons"
_sinks: dict[int, BatchWriter[tuple[object, ...]]] = {}
MAX_PENDING = 200_000  # events; past it the writer is behind and beacons get 503


def sink(rt: Runtime) -> BatchWriter[tuple[object, ...]]:
    """This process's sink for the runtime's catalog (started on first use, drained at
    exit)."""
    found = _sinks.get(id(rt))
    if found is None:
        found = _sinks[id(rt)] = BatchWriter(
            rt.catalog.append_beacon_events, name="beacon-writer", max_pending=MAX_PENDING
        )
        found.start()
        atexit.register(found.stop)
    return found


def _refuse(result: str, status: int, detail: str, **headers: str) -> Response:
    metrics.inc("primevod_beacons_total", result=result)
    return JSONResponse({"detail": detail}, status_code=status, headers=headers or None)


def _signed_for(rt: Runtime, request: Request, beacon: Beacon) -> str | None:
    """None when the beacon's playback URL is a valid signature for its asset, else why not.
    The verdict is reused for the edge's cache time (two seconds): a session's beacons, and a
    burst of them, cost one check (an expiry or a retired key shows within that time)."""
    client = request.client.host if request.client else None
    key = ("beacon", beacon.asset_id, beacon.playback, request.headers.get("host", ""), client)
    return _cached(key, lambda: _check_signature(rt, request, beacon))  # type: ignore[no-any-return]


def _check_signature(rt: Runtime, request: Request, beacon: Beacon) -> str | None:
    try:
        prefix = _cached(("asset-prefix", beacon.asset_id), lambda: _prefix(rt, beacon.asset_id))
    except NotFound:
        return "no such asset"
    if not prefix:
        return "asset not published"
    _, signing = split_signed_url(beacon.playback)
    try:
        _verifier(rt).check(
            delivery_layout(rt, request, beacon.asset_id, prefix)[0],
            params=signing,
            client_ip=request.client.host if request.client else None,
            now=time.time(),
        )
    except Rejected as exc:
        return str(exc)
    return None


def _prefix(rt: Runtime, asset_id: str) -> str | None:
    return rt.catalog.get_asset(asset_id).output_prefix


def _inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """A model's JSON schema with its `$defs` written in place: its `#/$defs/...` references
    would otherwise point at the root of the OpenAPI document, where ReDoc finds nothing."""
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(value) for value in node]
        return node

    return dict(resolve(schema))


BEACON_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": _inlined(Beacon.model_json_schema())}},
    }
}


async def _capped_body(request: Request) -> bytes | None:
    """The body, or None past MAX_BEACON_BYTES (read no further: chunked bodies too)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BEACON_BYTES:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BEACON_BYTES:
            return None
    return bytes(body)


def _cors(request: Request, rt: Runtime) -> dict[str, str]:
    """A cross-origin player may read the answer (sendBeacon does not need to)."""
    origin = request.headers.get("origin")
    allowed = rt.settings.cors_origins
    if origin and ("*" in allowed or origin in allowed):
        return {"Access-Control-Allow-Origin": "*" if "*" in allowed else origin}
    return {}


async def ingest(rt: Runtime, request: Request) -> Response:
    """The whole handling of one beacon: size, shape, signature, then the sink."""
    body = await _capped_body(request)
    if body is None:
        return _refuse("oversized", 400, f"a beacon is at most {MAX_BEACON_BYTES} bytes")
    try:
        beacon = Beacon.model_validate_json(body)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()[:5]
        )
        return _refuse("malformed", 400, f"beacon.invalid: {problems}")
    reason = _signed_for(rt, request, beacon)
    if reason is not None:
        return _refuse("unsigned", 403, f"beacon.unsigned: {reason}")
    if not sink(rt).offer(rows(beacon, time.time())):
        return _refuse("busy", 503, "beacon.busy: try again shortly", **{"Retry-After": "1"})
    metrics.inc("primevod_beacons_total", result="accepted")
    return Response(status_code=202)


@router.post(BEACON_PATH, status_code=202, tags=["analytics"], openapi_extra=BEACON_BODY)
async def post_beacon(request: Request, rt: RuntimeDep) -> Response:
    """Store a batch of playback events of one session (202), if signed for its asset.
    (Served by BeaconFastPath in front of the API's middleware; documented here.)"""
    return await ingest(rt, request)


class BeaconFastPath:
    """Plain ASGI, outermost: `POST /api/v1/beacons` answered here, before the API's
    middleware (audit, key rate limits, telemetry spans), which a player's telemetry does
    not need and which would cost several times the beacon's own handling. It has its own
    limits (a per-address budget, size, signature, the sink's back-pressure) and the headers
    the others add."""

    def __init__(self, app: Any, limits: RateLimits | None = None) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != BEACON_PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        from primevod.pipeline.runtime import runtime

        request = Request(scope, receive)
        rt = runtime()
        address = request.client.host if request.client else "unknown"
        refusal = self.limits.check_beacon(address) if self.limits else None
        if refusal is not None:
            body, headers = too_many(refusal, f"address {address}")
            response: Response = _refuse("limited", 429, body["detail"], **headers)
        else:
            response = await ingest(rt, request)
        response.headers.update({"X-Content-Type-Options": "nosniff", **_cors(request, rt)})
        await response(scope, receive, send)
