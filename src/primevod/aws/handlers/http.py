"""API Gateway HTTP API (payload format 2.0) requests and responses for the handlers behind
it: the method and path, the JSON body, and errors as the local API writes them
(`{"detail": ...}` with a 4xx status)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any


class HttpError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    path_parameters: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def json(self) -> dict[str, Any]:
        try:
            data = json.loads(self.body or b"{}")
        except ValueError:
            raise HttpError(400, "the body is not JSON") from None
        if not isinstance(data, dict):
            raise HttpError(400, "the body must be a JSON object")
        return data


def request(event: dict[str, Any]) -> Request:
    http = (event.get("requestContext") or {}).get("http") or {}
    raw = event.get("body") or ""
    body = base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode()
    return Request(
        method=str(http.get("method") or "GET").upper(),
        path=str(event.get("rawPath") or http.get("path") or "/"),
        query=dict(event.get("queryStringParameters") or {}),
        path_parameters=dict(event.get("pathParameters") or {}),
        body=body,
    )


def response(status: int, body: Any = None, *, cookies: list[str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"statusCode": status, "headers": {"content-type": "application/json"}}
    if body is not None:
        out["body"] = json.dumps(body)
    if cookies:
        out["cookies"] = cookies
    return out


def error(exc: HttpError) -> dict[str, Any]:
    return response(exc.status, {"detail": exc.detail})


def field_of(data: dict[str, Any], name: str, kind: type, **bounds: int) -> Any:
    """A required body field of the given type (ints within `low`..`high`), else a 422 as
    the local API's validation gives."""
    value = data.get(name)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise HttpError(422, f"{name}: a {kind.__name__} is required")
    if kind is int and not bounds.get("low", value) <= value <= bounds.get("high", value):
        raise HttpError(422, f"{name}: {value} is out of range")
    return value
