"""Signing in to the web console: a key is pasted once (`POST /api/v1/session`) and traded for
a session cookie, so no key stays in the browser; `GET` says who is signed in (WhoAmI, for a
cookie or a Bearer key); `DELETE` signs out. `primevod demo` prints a one-time link,
`GET /signin?token=...`, that signs the browser in as the demo's admin key.

The cookie holds a random token (only its SHA-256 is stored: adapters/catalog/sql_sessions.py);
it is HttpOnly (no script reads it), SameSite=Strict, Path=/, Secure over TLS, and lives as long
as the session (`session_hours`). Attempts are rate limited per address (`rate_limit_signin`);
api/csrf.py refuses cookie-authenticated changes from other sites' pages."""

from __future__ import annotations

from datetime import datetime
from html import escape

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field

from primevod.api.auth import caller
from primevod.api.csrf import check_same_site
from primevod.api.deps import RuntimeDep
from primevod.api.rate_limits import limit_signin
from primevod.core.access import ACTIONS, Principal
from primevod.core.console_sessions import COOKIE, SIGNIN_PATH, ConsoleSession
from primevod.pipeline.runtime import Runtime

router = APIRouter(tags=["session"])


class SignIn(BaseModel):
    key: str = Field(min_length=1, max_length=512, description="an API key (pv_<id>_<secret>)")


class WhoAmI(BaseModel):
    key_id: str
    name: str | None = Field(description="the key's name (the note given when it was created)")
    role: str
    expires_at: datetime | None = Field(description="when the session ends; None: a Bearer key")
    demo: bool = Field(description="signed in through `primevod demo`'s one-time link")
    allowed: dict[str, bool] = Field(description="each policy action: allowed on any resource")


def who_am_i(principal: Principal, name: str | None, session: ConsoleSession | None) -> WhoAmI:
    return WhoAmI(
        key_id=principal.key_id,
        name=name,
        role=principal.role,
        expires_at=session.expires_at if session else None,
        demo=session.demo if session else False,
        allowed={action: principal.decide(action).allowed for action in ACTIONS},
    )


def _secure(request: Request, rt: Runtime) -> bool:
    """Served over TLS (directly, or behind a proxy whose forwarded scheme uvicorn trusts),
    or reached at an https public URL."""
    return request.url.scheme == "https" or (rt.settings.public_url or "").startswith("https:")


def _session_seconds(rt: Runtime) -> int:
    return int(rt.settings.session_hours * 3600)


def set_session_cookie(response: Response, request: Request, rt: Runtime, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=_session_seconds(rt),
        path="/",
        httponly=True,
        samesite="strict",
        secure=_secure(request, rt),
    )


def clear_session_cookie(response: Response, request: Request, rt: Runtime) -> None:
    response.delete_cookie(
        COOKIE, path="/", httponly=True, samesite="strict", secure=_secure(request, rt)
    )


@router.post("/api/v1/session")
def sign_in(body: SignIn, request: Request, response: Response, rt: RuntimeDep) -> WhoAmI:
    """Trade an API key for a web console session: sets the HttpOnly session cookie and answers
    who is signed in. Only from this site's pages (its Origin); limited per address."""
    limit_signin(request)
    check_same_site(request, rt.settings)
    principal = rt.catalog.authenticate(body.key.strip())
    if principal is None:
        raise HTTPException(401, "invalid or revoked API key")
    request.state.principal = principal  # the audit record's principal
    previous = request.cookies.get(COOKIE)
    if previous:
        rt.catalog.end_session(previous)  # signing in again replaces the old session
    token, _ = rt.catalog.create_session(principal.key_id, _session_seconds(rt))
    session = rt.catalog.console_session(token)
    set_session_cookie(response, request, rt, token)
    return who_am_i(principal, rt.catalog.key_name(principal.key_id), session)


@router.get("/api/v1/session", responses={401: {"description": "not signed in"}})
def current_session(
    request: Request, rt: RuntimeDep, principal: Principal = Depends(caller)
) -> WhoAmI:
    """Who is signed in (the session cookie's key, or the Bearer key) and what it may do."""
    session: ConsoleSession | None = getattr(request.state, "console_session", None)
    name = session.name if session else rt.catalog.key_name(principal.key_id)
    return who_am_i(principal, name, session)


@router.delete("/api/v1/session", status_code=204)
def sign_out(request: Request, response: Response, rt: RuntimeDep) -> None:
    """Sign out: the session ends on the server and the cookie is cleared (also when it had
    already expired)."""
    token = request.cookies.get(COOKIE)
    session = rt.catalog.console_session(token) if token else None
    if token and session is not None:
        check_same_site(request, rt.settings)
        request.state.principal = session.principal
        rt.catalog.end_session(token)
    clear_session_cookie(response, request, rt)


def _link_problem(status: int, message: str) -> HTMLResponse:
    """A plain page (the web pages' CSP applies: no script, no inline style)."""
    page = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<title>Sign-in link - prime-vod</title></head><body><main>"
        f"<h1>Cannot sign in with this link</h1><p>{escape(message)}</p>"
        "<p>Run <code>primevod demo</code> again for a new link, or "
        "<a href='/'>sign in with an API key</a>.</p></main></body></html>"
    )
    return HTMLResponse(page, status_code=status, headers={"Cache-Control": "no-store"})


@router.get(SIGNIN_PATH, include_in_schema=False)
def sign_in_link(
    request: Request, rt: RuntimeDep, token: str = Query("", max_length=200)
) -> Response:
    """A one-time sign-in link (`primevod demo`): used once, it signs the browser in as its
    admin key and opens the console; used again or after 15 minutes it explains why not."""
    limit_signin(request)
    redeemed = rt.catalog.redeem_signin_link(token) if token else None
    if redeemed is None or redeemed.key_id is None:
        message = redeemed.problem if redeemed else "This sign-in link has no token."
        status = 410 if redeemed and redeemed.outcome in ("used", "expired") else 404
        return _link_problem(status, message)
    new_token, _ = rt.catalog.create_session(redeemed.key_id, _session_seconds(rt), demo=True)
    session = rt.catalog.console_session(new_token)
    if session is None:  # the key was revoked since the link was made
        rt.catalog.end_session(new_token)
        return _link_problem(410, "The key this link signs in with has been revoked.")
    request.state.principal = session.principal
    response = RedirectResponse("/", status_code=303, headers={"Cache-Control": "no-store"})
    set_session_cookie(response, request, rt, new_token)
    return response
