"""Request body size limits (413) as plain ASGI middleware: a declared Content-Length over the
limit is refused before the application runs; a body sent without one (chunked) is counted as
it streams and refused as soon as it passes the limit, so no route ever holds more than the
limit in memory.

The JSON API takes small bodies (`body_limit_bytes`); an upload part PUT takes up to the
largest part any accepted upload is given (the part size planned for `upload_max_bytes`:
core/uploads.plan_parts), which its route checks exactly against the session's own part
size; an upload init takes `body_limit_bytes` more room for the sidecar subtitles it may
carry inline (MAX_SIDECAR_TOTAL_BYTES of text, twice over for JSON escaping), so the route
answers a 422 naming the subtitle limit rather than this 413."""

from __future__ import annotations

import re
from typing import Any

from starlette.exceptions import HTTPException

from primevod.api.rate_limits import send_json
from primevod.core.subtitles import MAX_SIDECAR_TOTAL_BYTES
from primevod.core.uploads import plan_parts

PART_PUT = re.compile(r"^/api/v1/uploads/[^/]+/parts/[^/]+$")
UPLOAD_INIT = "/api/v1/uploads/init"
# JSON escaping at most doubles subtitle text as clients send it: `\n` for a line break,
# `\uXXXX` (6 bytes) for a 3-byte UTF-8 character when a client escapes non-ASCII
INIT_SUBTITLE_ROOM = 2 * MAX_SIDECAR_TOTAL_BYTES


class BodyTooLarge(HTTPException):
    """Raised from `receive` while a body streams in: FastAPI hands an HTTPException raised
    while reading a body on unchanged, so the route answers 413 with this detail."""

    def __init__(self, limit: int, hint: str = "") -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes{hint}")


def part_limit(settings: Any) -> int:
    """The largest part of the largest accepted upload."""
    size, _ = plan_parts(
        settings.upload_max_bytes, settings.upload_min_part_size, settings.upload_part_size
    )
    return size


def init_limit(api_limit: int) -> int:
    """The body limit of an upload init: the API's, plus room for inline subtitles."""
    return api_limit + INIT_SUBTITLE_ROOM


class BodyLimit:
    def __init__(self, app: Any, api_limit: int, part_limit: int) -> None:
        self.app = app
        self.api_limit = api_limit
        self.part_limit = part_limit
        self.init_limit = init_limit(api_limit)

    def limit_for(self, scope: dict[str, Any]) -> int:
        if scope["method"] == "PUT" and PART_PUT.match(scope["path"]):
            return self.part_limit
        if scope["method"] == "POST" and scope["path"] == UPLOAD_INIT:
            return self.init_limit
        return self.api_limit

    def hint_for(self, scope: dict[str, Any]) -> str:
        """What a refused upload init most likely carried too much of."""
        if scope["path"] != UPLOAD_INIT:
            return ""
        return f" (inline subtitles: at most {MAX_SIDECAR_TOTAL_BYTES} bytes of text in all)"

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, hint = self.limit_for(scope), self.hint_for(scope)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await send_json(send, 413, {"detail": BodyTooLarge(limit, hint).detail}, {})
            return
        received = 0
        started = False

        async def counted() -> dict[str, Any]:
            nonlocal received
            message: dict[str, Any] = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit, hint)
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
