"""The React app at /, built into the package (no Node needed at run time)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

WEB_DIST = Path(__file__).resolve().parent.parent / "web_dist"


def mount_web(app: FastAPI) -> None:
    """The React app, built into the package (no Node needed at run time). Client-side
    routes (/watch/..., /assets/{id}) get index.html; API routes keep their own 404s."""
    if not (WEB_DIST / "index.html").is_file():
        return
    from fastapi.responses import FileResponse
    from fastapi.staticfiles import StaticFiles

    # the bundle under /static: /assets/{id} is the asset page
    app.mount("/static", StaticFiles(directory=WEB_DIST / "static"), name="web-static")

    @app.get("/", include_in_schema=False)
    @app.get("/upload", include_in_schema=False)
    @app.get("/library", include_in_schema=False)
    @app.get("/dashboard", include_in_schema=False)
    @app.get("/keys", include_in_schema=False)
    @app.get("/assets/{rest:path}", include_in_schema=False)
    @app.get("/watch/{rest:path}", include_in_schema=False)
    @app.get("/embed/{rest:path}", include_in_schema=False)
    def index(rest: str = "") -> FileResponse:
        return FileResponse(WEB_DIST / "index.html", headers={"Cache-Control": "no-cache"})
