"""Cross-site request forgery: a browser sends the session cookie with any request to this
site, also one a page on another site makes it send. So a cookie-authenticated request that
changes something (POST, PUT, PATCH, DELETE) must say it comes from this site's own pages:
its Origin (or, without one, its Referer) names the host the request went to, or the
server's `public_url`. Bearer requests carry their key themselves and are not checked (a
browser never adds an Authorization header on its own). The cookie is also SameSite=Strict:
this check is the second lock, for browsers and proxies that drop the attribute."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, Request

from primevod.api.security_headers import origin

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def claimed_origin(request: Request) -> str | None:
    """The page origin the browser says the request comes from (`Origin: null`, sent from
    sandboxed frames and some redirects, says nothing)."""
    sent = request.headers.get("origin")
    if sent and sent != "null":
        return sent
    return origin(request.headers.get("referer"))


def same_site(request: Request, settings: Any) -> bool:
    claimed = claimed_origin(request)
    if claimed is None:
        return False
    host = request.headers.get("host")
    if host and claimed.split("://", 1)[-1].lower() == host.lower():
        return True
    public = origin(getattr(settings, "public_url", None))
    return public is not None and claimed.lower() == public.lower()


def check_same_site(request: Request, settings: Any) -> None:
    """403 for an unsafe cookie-authenticated request from another site's page."""
    if request.method not in UNSAFE or same_site(request, settings):
        return
    claimed = claimed_origin(request) or "none"
    raise HTTPException(
        403,
        f"cross-site request refused: a {request.method} signed in with the session cookie "
        f"must come from this site's pages (its Origin is {claimed}, the site is "
        f"{request.headers.get('host', 'unknown')}); API clients send Authorization: Bearer KEY",
    )
