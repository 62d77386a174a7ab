"""The applications: the whole server (create_app) and the edge alone (create_edge_app),
assembled from one router per resource; OpenAPI at /docs."""

from __future__ import annotations

import inspect
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from primevod import __version__
from primevod.api import (
    alarms,
    assets,
    edge,
    events,
    health,
    observability,
    playback,
    subscriptions,
    uploads,
)
from primevod.api.telemetry import ApiTelemetry
from primevod.api.web import mount_web
from primevod.pipeline.runtime import runtime


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
    app.include_router(edge.router)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    return app


def create_app(*, lifespan: Any = None) -> FastAPI:
    """The whole server: the API (one router per resource), the signed edge, /metrics and
    the dashboard's data, health, and the web app."""
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
    for router in (
        uploads.router,
        edge.router,
        playback.router,
        observability.router,
        alarms.router,
        health.router,
        assets.router,
        events.router,
        subscriptions.router,
    ):
        app.include_router(router)
    mount_web(app)
    return app
