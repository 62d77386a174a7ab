"""Security headers as plain ASGI middleware.

Every response: `X-Content-Type-Options: nosniff` (a browser never guesses a type: an uploaded
or stored object is not run as a script or page) and `Referrer-Policy: no-referrer` (nothing
here reads a Referer, and page URLs stay on this origin).

The web pages (the React app's HTML): a Content-Security-Policy that allows only what the
built app does: scripts and styles from this origin (the build has no inline script or
style), media and images also from blob: (Media Source Extensions, Uppy's previews) and the
playback origin (a CDN in front of the destination bucket), fetches from this origin, the
playback origin and, with the S3 store, the S3 endpoint the browser PUTs presigned parts to,
workers from blob: (hls.js starts its transmuxer from one), and frames from nobody but
`frame_ancestors` ('self' by default: an embeddable player may allow more). The API
documentation pages (/docs, /redoc) load Swagger UI and ReDoc from a CDN with an inline script
and are left without it. A header the application set itself is kept."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders

ALWAYS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
DOC_PAGES = ("/docs", "/redoc")
S3_DEFAULT = "https://*.amazonaws.com"


def origin(url: str | None) -> str | None:
    """scheme://host[:port] of a URL, None without one."""
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def page_policy(settings: Any) -> str:
    """The web pages' Content-Security-Policy (`content_security_policy` replaces it)."""
    if settings.content_security_policy:
        return str(settings.content_security_policy)
    media = [o for o in (origin(settings.playback_base_url), origin(settings.public_url)) if o]
    keys = [o for o in (origin(settings.key_base_url),) if o]  # encrypted HLS's key route
    uploads = []
    if settings.store == "s3":
        uploads.append(origin(settings.s3_endpoint_url) or S3_DEFAULT)
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:", *media],
        "media-src": ["'self'", "blob:", *media],
        "connect-src": ["'self'", *media, *uploads, *keys],
        "worker-src": ["'self'", "blob:"],
        "font-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": [settings.frame_ancestors],
    }
    return "; ".join(f"{name} {' '.join(dict.fromkeys(v))}" for name, v in directives.items())


def frame_options(frame_ancestors: str) -> str | None:
    """The legacy X-Frame-Options equivalent, where there is one (browsers that know
    frame-ancestors ignore it; a list of other origins has none)."""
    return {"'self'": "SAMEORIGIN", "'none'": "DENY"}.get(frame_ancestors.strip())


class SecurityHeaders:
    def __init__(self, app: Any, page_csp: str | None = None, frame_ancestors: str = "'self'"):
        self.app = app
        self.page = {"Content-Security-Policy": page_csp} if page_csp else {}
        legacy = frame_options(frame_ancestors)
        if page_csp and legacy:
            self.page["X-Frame-Options"] = legacy

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope["path"].startswith(DOC_PAGES)

        async def with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                wanted = dict(ALWAYS)
                if not docs and headers.get("content-type", "").startswith("text/html"):
                    wanted.update(self.page)
                for name, value in wanted.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, with_headers)
