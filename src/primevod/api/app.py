"""The application: assets, executions, events, subscriptions; health; OpenAPI at /docs."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Query, Response
from fastapi.middleware.cors import CORSMiddleware
from pydantic import BaseModel, Field

from primevod import __version__
from primevod.adapters.catalog.sql_catalog import NotFound
from primevod.api.auth import ADMIN, UPLOAD, VIEW, require
from primevod.api.edge import router as edge_router
from primevod.api.observability import router as observability_router
from primevod.api.telemetry import ApiTelemetry
from primevod.api.uploads import router as uploads_router
from primevod.core.assets import Asset, AssetStatus, Execution
from primevod.pipeline import workflows
from primevod.pipeline.runtime import runtime


class AssetPage(BaseModel):
    items: list[Asset]
    next_cursor: str | None


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


def _asset(asset_id: str) -> Asset:
    try:
        return runtime().catalog.get_asset(asset_id)
    except NotFound:
        raise HTTPException(404, f"no asset {asset_id}") from None


def _add_cors(app: FastAPI, methods: list[str]) -> None:
    """Players and uploaders on other origins: Range and conditional requests allowed, the
    headers they must read (ETag for Uppy, Content-Range for players) exposed."""
    app.add_middleware(
        CORSMiddleware,
        allow_origins=runtime().settings.cors_origins,
        allow_credentials=False,
        allow_methods=methods,
        allow_headers=[
            "Authorization",
            "Content-Type",
            "x-amz-checksum-sha256",
            "Range",
            "If-None-Match",
        ],
        expose_headers=[
            "ETag",
            "Content-Range",
            "Content-Length",
            "Accept-Ranges",
            "X-PrimeVOD-Reason",
        ],
        max_age=3600,
    )


def _native_telemetry_off() -> dict[str, Any]:
    """Recent FastAPI releases trace natively as soon as an OpenTelemetry tracer provider is
    set: a request span plus spans for dependency resolution, the endpoint and serialization,
    five per request. The API already has one span per request (api/telemetry.py) and that
    is the granularity the tracing budget allows (docs/observability.md), so FastAPI's own
    telemetry stays off where the installed FastAPI has it."""
    if "telemetry" not in inspect.signature(FastAPI.__init__).parameters:
        return {}
    off = {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}
    return {"telemetry": off}


def create_edge_app(*, lifespan: Any = None) -> FastAPI:
    """The delivery edge alone (`primevod edge`): signed /vod/ routes, nothing else."""
    app = FastAPI(
        title="prime-vod edge",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        **_native_telemetry_off(),
    )
    _add_cors(app, ["GET", "HEAD", "OPTIONS"])
    app.include_router(edge_router)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    return app


def create_app(*, lifespan: Any = None) -> FastAPI:
    app = FastAPI(
        title="prime-vod",
        version=__version__,
        lifespan=lifespan,
        description="Video-on-demand pipeline API. Authenticate with "
        "`Authorization: Bearer KEY` (`primevod keys create`).",
        **_native_telemetry_off(),
    )

    _add_cors(app, ["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS"])
    app.add_middleware(ApiTelemetry)
    app.include_router(uploads_router)
    app.include_router(edge_router)
    app.include_router(observability_router)

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, Any]:
        rt = runtime()
        checks = {"catalog": "ok", "store": "ok"}
        try:
            rt.catalog.count_assets(status=AssetStatus.READY.value)
        except Exception as exc:  # report, do not raise: this is the health route
            checks["catalog"] = f"error: {type(exc).__name__}"
        try:
            rt.store.exists(rt.settings.destination_bucket, "healthz")
        except Exception as exc:
            checks["store"] = f"error: {type(exc).__name__}"
        ok = all(v == "ok" for v in checks.values())
        return {"status": "ok" if ok else "degraded", "version": __version__, **checks}

    @app.get("/api/v1/assets", response_model=AssetPage, tags=["assets"])
    def list_assets(
        status: AssetStatus | None = None,
        limit: int = Query(50, ge=1, le=500),
        cursor: str | None = None,
        _: str = Depends(require(VIEW)),
    ) -> AssetPage:
        try:
            page = runtime().catalog.list_assets(
                status=status.value if status else None, limit=limit, cursor=cursor
            )
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None
        return AssetPage(items=page.items, next_cursor=page.next_cursor)

    @app.get("/api/v1/assets/{asset_id}", response_model=Asset, tags=["assets"])
    def get_asset(asset_id: str, _: str = Depends(require(VIEW))) -> Asset:
        return _asset(asset_id)

    @app.get(
        "/api/v1/assets/{asset_id}/executions", response_model=list[Execution], tags=["assets"]
    )
    def asset_executions(asset_id: str, _: str = Depends(require(VIEW))) -> list[Execution]:
        _asset(asset_id)
        return runtime().catalog.list_executions(asset_id)

    @app.post("/api/v1/assets/{asset_id}/retry", status_code=202, tags=["assets"])
    def retry_asset(asset_id: str, _: str = Depends(require(UPLOAD))) -> dict[str, str]:
        _asset(asset_id)
        try:
            execution = workflows.retry(asset_id)
        except ValueError as exc:
            raise HTTPException(409, str(exc)) from None
        return {"asset_id": asset_id, "execution_id": execution}

    @app.post("/api/v1/assets/{asset_id}/cancel", tags=["assets"])
    def cancel_asset(asset_id: str, _: str = Depends(require(UPLOAD))) -> dict[str, str]:
        _asset(asset_id)
        execution = workflows.cancel(asset_id)
        if execution is None:
            raise HTTPException(409, f"asset {asset_id} has no running workflow")
        return {"asset_id": asset_id, "cancelled": execution}

    @app.delete("/api/v1/assets/{asset_id}", status_code=204, tags=["assets"])
    def delete_asset(asset_id: str, _: str = Depends(require(ADMIN))) -> Response:
        _asset(asset_id)
        workflows.delete(asset_id)
        return Response(status_code=204)

    @app.get("/api/v1/executions/{execution_id}", response_model=Execution, tags=["executions"])
    def get_execution(execution_id: str, _: str = Depends(require(VIEW))) -> Execution:
        try:
            return runtime().catalog.get_execution(execution_id)
        except NotFound:
            raise HTTPException(404, f"no execution {execution_id}") from None

    @app.get("/api/v1/events", tags=["events"])
    def list_events(
        after: int = 0,
        asset_id: str | None = None,
        limit: int = Query(100, ge=1, le=1000),
        _: str = Depends(require(VIEW)),
    ) -> list[dict[str, Any]]:
        events = runtime().catalog.list_events(asset_id=asset_id, after_id=after, limit=limit)
        return [e.model_dump(mode="json") for e in events]

    subs = lambda: runtime().subscriptions  # noqa: E731

    @app.get("/api/v1/subscriptions", tags=["subscriptions"])
    def list_subscriptions(_: str = Depends(require(ADMIN))) -> list[dict[str, Any]]:
        return subs().list()

    @app.post("/api/v1/subscriptions", status_code=201, tags=["subscriptions"])
    def add_subscription(body: SubscriptionIn, _: str = Depends(require(ADMIN))) -> dict[str, Any]:
        try:
            if body.kind == "webhook":
                if not body.url:
                    raise ValueError("a webhook subscription needs a url")
                return subs().add_webhook(
                    body.url, body.event_types, body.secret, body.name, body.pattern
                )
            if body.kind == "log":
                return subs().add_log(body.name or "log", body.event_types, body.pattern)
            return subs().add_queue(body.name or "queue", body.event_types, body.pattern)
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None

    def _sub(sub_id: str) -> dict[str, Any]:
        try:
            return subs().get(sub_id)
        except NotFound:
            raise HTTPException(404, f"no subscription {sub_id}") from None

    @app.delete("/api/v1/subscriptions/{sub_id}", status_code=204, tags=["subscriptions"])
    def remove_subscription(sub_id: str, _: str = Depends(require(ADMIN))) -> Response:
        _sub(sub_id)
        subs().remove(sub_id)
        return Response(status_code=204)

    @app.get("/api/v1/subscriptions/{sub_id}/deliveries", tags=["subscriptions"])
    def deliveries(
        sub_id: str, status: str | None = None, _: str = Depends(require(ADMIN))
    ) -> list[dict[str, Any]]:
        _sub(sub_id)
        return subs().deliveries(sub_id, status)

    @app.post("/api/v1/subscriptions/{sub_id}/replay", tags=["subscriptions"])
    def replay(sub_id: str, _: str = Depends(require(ADMIN))) -> dict[str, int]:
        _sub(sub_id)
        return {"replayed": subs().replay_dead(sub_id)}

    @app.post("/api/v1/subscriptions/{sub_id}/receive", tags=["subscriptions"])
    def receive(
        sub_id: str, body: ReceiveIn, _: str = Depends(require(ADMIN))
    ) -> list[dict[str, Any]]:
        sub = _sub(sub_id)
        if sub["kind"] != "queue":
            raise HTTPException(409, "only queue subscriptions can be received from")
        return subs().receive(
            sub_id,
            max_messages=body.max_messages,
            visibility_timeout=body.visibility_timeout,
            max_receives=runtime().settings.queue_max_receives,
        )

    @app.post("/api/v1/subscriptions/{sub_id}/delete", status_code=204, tags=["subscriptions"])
    def delete_message(
        sub_id: str, body: DeleteMessageIn, _: str = Depends(require(ADMIN))
    ) -> Response:
        _sub(sub_id)
        if not subs().delete_message(sub_id, body.receipt):
            raise HTTPException(404, "no visible message with that receipt")
        return Response(status_code=204)

    _mount_web(app)
    return app


WEB_DIST = Path(__file__).resolve().parent.parent / "web_dist"


def _mount_web(app: FastAPI) -> None:
    """The React app, built into the package (no Node needed at run time). Client-side
    routes (/watch/...) get index.html; API routes keep their own 404s."""
    if not (WEB_DIST / "index.html").is_file():
        return
    from fastapi.responses import FileResponse
    from fastapi.staticfiles import StaticFiles

    app.mount("/assets", StaticFiles(directory=WEB_DIST / "assets"), name="web-assets")

    @app.get("/", include_in_schema=False)
    @app.get("/upload", include_in_schema=False)
    @app.get("/library", include_in_schema=False)
    @app.get("/dashboard", include_in_schema=False)
    @app.get("/watch/{rest:path}", include_in_schema=False)
    def index(rest: str = "") -> FileResponse:
        return FileResponse(WEB_DIST / "index.html", headers={"Cache-Control": "no-cache"})
