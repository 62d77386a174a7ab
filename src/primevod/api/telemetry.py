"""API request telemetry as plain ASGI middleware: a latency histogram and a count by status
class per request, and a server span when tracing is on. Delivery (/vod/) is counted by the
edge itself."""

from __future__ import annotations

import time
from typing import Any

from primevod.core.metrics import status_class
from primevod.observability import metrics, tracing

SKIP = ("/vod/", "/static/", "/metrics")
# a live feed stays open for minutes: no request latency to speak of
LIVE_FEEDS = ("/events/stream",)


class ApiTelemetry:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(SKIP) or path.endswith(LIVE_FEEDS):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def send_wrapper(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            if tracing.enabled():
                with tracing.span(
                    f"{scope['method']} {scope['path']}",
                    **{"http.method": scope["method"], "http.target": scope["path"]},
                ) as span:
                    await self.app(scope, receive, send_wrapper)
                    span.set_attribute("http.status_code", status["code"])
                    route = scope.get("route")  # named by its template: ids stay attributes
                    if route is not None and getattr(route, "path", None):
                        span.update_name(f"{scope['method']} {route.path}")
                        span.set_attribute("http.route", route.path)
            else:
                await self.app(scope, receive, send_wrapper)
        finally:
            metrics.inc("primevod_api_requests_total", **{"class": status_class(status["code"])})
            metrics.observe("primevod_api_latency_seconds", time.perf_counter() - started)
