"""Request body size limits (413) as plain ASGI middleware: a declared Content-Length over the
limit is refused before the application runs; a body sent without one (chunked) is counted as
it streams and refused as soon as it passes the limit, so no route ever holds more than the
limit in memory.

The JSON API takes small bodies (`body_limit_bytes`); an upload part PUT takes up to the
largest part any accepted upload is given (the part size planned for `upload_max_bytes`:
core/uploads.plan_parts), which its route checks exactly against the session's own part
size."""

from __future__ import annotations

import re
from typing import Any

from starlette.exceptions import HTTPException

from primevod.api.rate_limits import send_json
from primevod.core.uploads import plan_parts

PART_PUT = re.compile(r"^/api/v1/uploads/[^/]+/parts/[^/]+$")


class BodyTooLarge(HTTPException):
    """Raised from `receive` while a body streams in: FastAPI hands an HTTPException raised
    while reading a body on unchanged, so the route answers 413 with this detail."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


def part_limit(settings: Any) -> int:
    """The largest part of the largest accepted upload."""
    size, _ = plan_parts(
        settings.upload_max_bytes, settings.upload_min_part_size, settings.upload_part_size
    )
    return size


class BodyLimit:
    def __init__(self, app: Any, api_limit: int, part_limit: int) -> None:
        self.app = app
        self.api_limit = api_limit
        self.part_limit = part_limit

    def limit_for(self, scope: dict[str, Any]) -> int:
        if scope["method"] == "PUT" and PART_PUT.match(scope["path"]):
            return self.part_limit
        return self.api_limit

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await send_json(send, 413, {"detail": BodyTooLarge(limit).detail}, {})
            return
        received = 0
        started = False

        async def counted() -> dict[str, Any]:
            nonlocal received
            message: dict[str, Any] = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watched(message: dict[str, Any]) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge as exc:  # read outside a route (nothing turned it into a 413)
            if started:
                raise
            await send_json(send, 413, {"detail": exc.detail}, {})


def _content_length(scope: dict[str, Any]) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses a malformed length before the app sees it
    return None
