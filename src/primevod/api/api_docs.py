"""The API documentation pages, /docs (Swagger UI) and /redoc (ReDoc), served entirely by the
app: their scripts and styles are files of the built web app (web_dist/static/api-docs, copied
from the npm packages swagger-ui-dist and redoc at build time), so the pages render with no
internet, and with no inline script (Swagger UI starts from its own small file) under the web
pages' Content-Security-Policy (api/security_headers.py: docs_policy)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)
ASSETS = "/static/api-docs"
NO_CACHE = {"Cache-Control": "no-cache"}


def _page(title: str, head: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{title}</title>{head}</head><body>{body}</body></html>",
        headers=NO_CACHE,
    )


@router.get("/docs")
def swagger_ui() -> HTMLResponse:
    return _page(
        "prime-vod API - Swagger UI",
        f"<link rel='stylesheet' href='{ASSETS}/swagger-ui.css'>",
        f"<div id='swagger-ui'></div><script src='{ASSETS}/swagger-ui-bundle.js'></script>"
        f"<script src='{ASSETS}/swagger-init.js'></script>",
    )


@router.get("/redoc")
def redoc() -> HTMLResponse:
    return _page(
        "prime-vod API - ReDoc",
        "",
        "<redoc spec-url='/openapi.json'></redoc>"
        f"<script src='{ASSETS}/redoc.standalone.js'></script>",
    )
