"""OpenTelemetry tracing (the X-Ray role). Off by default; `tracing = "console"` prints spans,
`tracing = "otlp"` sends them to `otlp_endpoint` (OTLP over HTTP). API requests and every
workflow step are spans; an asset's spans share one trace id (kept in the asset's metadata
as `trace_id`), so its upload, workflow steps and publish are one trace.

OpenTelemetry is imported only when tracing is on, so the default costs nothing."""

from __future__ import annotations

import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_state: dict[str, Any] = {"on": False, "tracer": None, "provider": None}


def enabled() -> bool:
    return bool(_state["on"])


def setup_tracing(mode: str, endpoint: str | None = None, service: str = "prime-vod") -> None:
    if mode == "off" or _state["on"]:
        return
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        ConsoleSpanExporter,
        SimpleSpanProcessor,
    )

    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    if mode == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        url = (endpoint or "http://127.0.0.1:4318").rstrip("/")
        if not url.endswith("/v1/traces"):
            url += "/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=url)))
    else:
        # one JSON object per line on stderr (stdout carries commands' --json output)
        exporter = ConsoleSpanExporter(
            out=sys.stderr, formatter=lambda span: span.to_json(indent=None) + "\n"
        )
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    _state.update(on=True, tracer=trace.get_tracer("primevod"), provider=provider)


def shutdown() -> None:
    provider = _state.get("provider")
    if provider is not None:
        provider.shutdown()


def origin() -> dict[str, str | None]:
    """Where an asset's trace starts, for its metadata: `trace_id` (the current span's trace
    when there is one, an API request or a `primevod process` run, else a new id) and
    `trace_parent` (that span's id, the parent of the asset's step spans in any process;
    None without an active span)."""
    if _state["on"]:
        from opentelemetry import trace

        ctx = trace.get_current_span().get_span_context()
        if ctx.is_valid:
            return {"trace_id": f"{ctx.trace_id:032x}", "trace_parent": f"{ctx.span_id:016x}"}
    return {"trace_id": secrets.token_hex(16), "trace_parent": None}


@contextmanager
def span(
    name: str, trace_id: str | None = None, parent_span_id: str | None = None, **attributes: Any
) -> Iterator[Any]:
    """A span, child of the current one, or else of `parent_span_id` in `trace_id`'s trace
    (the span that started the asset: its upload request or its `primevod process` run)."""
    if not _state["on"]:
        yield None
        return
    from opentelemetry import trace
    from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

    context = None
    current = trace.get_current_span().get_span_context()
    if trace_id and not current.is_valid:
        parent = SpanContext(
            trace_id=int(trace_id, 16),
            span_id=int(parent_span_id or secrets.token_hex(8), 16),
            is_remote=True,
            trace_flags=TraceFlags(TraceFlags.SAMPLED),
        )
        context = trace.set_span_in_context(NonRecordingSpan(parent))
    attrs = {k: v for k, v in attributes.items() if v is not None}
    with _state["tracer"].start_as_current_span(name, context=context, attributes=attrs) as sp:
        yield sp
