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
    api_docs,
    api_keys,
    asset_stream,
    assets,
    audit,
    beacons,
    content_keys,
    edge,
    events,
    health,
    observability,
    playback,
    search,
    session,
    share,
    subscriptions,
    uploads,
)
from primevod.api.audit_trail import AuditTrail
from primevod.api.beacons import BeaconFastPath
from primevod.api.body_limit import BodyLimit, part_limit
from primevod.api.rate_limits import AddressRateLimit, RateLimits
from primevod.api.security_headers import SecurityHeaders, page_policy
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
            "Retry-After",  # a refused (429) cross-origin caller learns when to try again
        ],
        max_age=3600,
    )


def _add_limits(app: FastAPI) -> None:
    """Rate limits per address (and per key: api/auth.py) and body size limits, inside CORS so
    that a refused cross-origin caller can still read its 429 or 413 and preflights are not
    counted."""
    settings = runtime().settings
    app.state.rate_limits = RateLimits.from_settings(settings)
    app.add_middleware(
        BodyLimit, api_limit=settings.body_limit_bytes, part_limit=part_limit(settings)
    )
    app.add_middleware(AddressRateLimit, limits=app.state.rate_limits)


def _add_security_headers(app: FastAPI, *, pages: bool) -> None:
    """nosniff and the referrer policy on every response; the CSP on the web pages."""
    settings = runtime().settings
    app.add_middleware(
        SecurityHeaders,
        page_csp=page_policy(settings) if pages else None,
        frame_ancestors=settings.frame_ancestors,
        embed_csp=page_policy(settings, settings.embed_frame_ancestors) if pages else None,
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
    _add_security_headers(app, pages=False)
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
        "`Authorization: Bearer KEY` (`primevod keys create`), or with the web console's "
        "session cookie (`POST /api/v1/session`).",
        docs_url=None,  # served by api/api_docs.py from the app's own files, not a CDN
        redoc_url=None,
        **_native_telemetry_off(),
    )
    _add_limits(app)
    _add_cors(app, ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
    _add_security_headers(app, pages=True)
    app.add_middleware(ApiTelemetry)
    app.add_middleware(AuditTrail)  # outermost: refused and rate-limited calls are audited
    # player telemetry: answered before all the API's middleware, with its own budget
    app.add_middleware(BeaconFastPath, limits=app.state.rate_limits)
    for router in (
        uploads.router,
        edge.router,
        playback.router,
        share.router,
        content_keys.router,
        observability.router,
        alarms.router,
        health.router,
        assets.router,
        asset_stream.router,
        search.router,
        beacons.router,
        events.router,
        subscriptions.router,
        audit.router,
        session.router,
        api_keys.router,
        api_docs.router,
    ):
        app.include_router(router)
    mount_web(app)
    return app
