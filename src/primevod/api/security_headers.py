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
`frame_ancestors` ('self' by default). The embeddable player pages (/embed/<asset id>, and
nothing else under /embed/) are the exception: the same policy with `embed_frame_ancestors`
(any site by default) and no X-Frame-Options, so other sites may frame the player but never
the console. The API
documentation pages (/docs, /redoc: api/api_docs.py) load Swagger UI and ReDoc from this origin
too, under the same policy with inline styles allowed (`docs_policy`). A header the application
set itself is kept."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders

ALWAYS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
DOC_PAGES = ("/docs", "/redoc")
EMBED_PAGE = re.compile(r"^/embed/[0-9a-f-]{36}$")  # one asset's player, the only framable page
S3_DEFAULT = "https://*.amazonaws.com"


def origin(url: str | None) -> str | None:
    """scheme://host[:port] of a URL, None without one."""
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def page_policy(settings: Any, frame_ancestors: str | None = None) -> str:
    """The web pages' Content-Security-Policy (`content_security_policy` replaces it);
    `frame_ancestors` in place of the setting's (the embed pages')."""
    if settings.content_security_policy:
        policy = str(settings.content_security_policy)
        if frame_ancestors is None:
            return policy
        kept = [d for d in policy.split(";") if not d.strip().startswith("frame-ancestors")]
        kept = [d.strip() for d in kept if d.strip()]
        return "; ".join([*kept, f"frame-ancestors {frame_ancestors}"])
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
        "frame-ancestors": [frame_ancestors or settings.frame_ancestors],
    }
    return "; ".join(f"{name} {' '.join(dict.fromkeys(v))}" for name, v in directives.items())


def docs_policy(page_csp: str) -> str:
    """The API documentation pages' policy: the web pages' own, with inline styles allowed
    (Swagger UI and ReDoc style their elements from script: style attributes and, in ReDoc,
    generated <style> elements). Scripts stay 'self' only: both load from this origin."""
    directives = [d.strip() for d in page_csp.split(";") if d.strip()]
    styled = [
        f"{d} 'unsafe-inline'" if d.split()[0] == "style-src" and "'unsafe-inline'" not in d else d
        for d in directives
    ]
    if not any(d.split()[0] == "style-src" for d in styled):
        styled.append("style-src 'self' 'unsafe-inline'")
    return "; ".join(styled)


def frame_options(frame_ancestors: str) -> str | None:
    """The legacy X-Frame-Options equivalent, where there is one (browsers that know
    frame-ancestors ignore it; a list of other origins has none)."""
    return {"'self'": "SAMEORIGIN", "'none'": "DENY"}.get(frame_ancestors.strip())


class SecurityHeaders:
    def __init__(
        self,
        app: Any,
        page_csp: str | None = None,
        frame_ancestors: str = "'self'",
        embed_csp: str | None = None,
    ):
        self.app = app
        self.page = {"Content-Security-Policy": page_csp} if page_csp else {}
        legacy = frame_options(frame_ancestors)
        if page_csp and legacy:
            self.page["X-Frame-Options"] = legacy
        self.embed = {"Content-Security-Policy": embed_csp} if embed_csp else self.page
        self.docs = dict(self.page)
        if page_csp:
            self.docs["Content-Security-Policy"] = docs_policy(page_csp)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        page = self.embed if EMBED_PAGE.fullmatch(scope["path"]) else self.page
        if scope["path"] in DOC_PAGES:
            page = self.docs

        async def with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                wanted = dict(ALWAYS)
                if headers.get("content-type", "").startswith("text/html"):
                    wanted.update(page)
                for name, value in wanted.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, with_headers)
