"""Bearer API keys, each with an access policy (its own, or its role's: core/access.py), or the
web console's session cookie standing for one (api/session.py, api/csrf.py): 401 without a
valid key or session; 403 when the policy does not allow the route's action; an asset the
policy may not even read answers 404, as one that does not exist.

    def route(p: Principal = Depends(allow("alarms:Evaluate"))) -> ...   # resource `*`
    def route(asset_id: str, p: Principal = Depends(caller)) -> ...
        asset = readable_asset(rt, p, "assets:Delete", asset_id)           # per asset"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from primevod.api.audit_trail import note_check
from primevod.api.csrf import check_same_site
from primevod.api.deps import RuntimeDep
from primevod.api.rate_limits import limit_key
from primevod.core.access import Decision, Principal, asset_resources
from primevod.core.assets import Asset
from primevod.core.console_sessions import COOKIE
from primevod.core.errors import NotFound
from primevod.pipeline.runtime import Runtime

_bearer = HTTPBearer(auto_error=False)


def caller(
    request: Request,
    rt: RuntimeDep,
    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
) -> Principal:
    """The principal of the request's key, or of its web console session when it sends no
    Authorization header (401 without either, 403 for a cross-site cookie request that
    changes something, 429 over the key's rate)."""
    if credentials is not None:
        principal = rt.catalog.authenticate(credentials.credentials)
        if principal is None:
            raise HTTPException(
                401, "invalid or revoked API key", headers={"WWW-Authenticate": "Bearer"}
            )
    elif "authorization" not in request.headers and COOKIE in request.cookies:
        principal = _session_principal(request, rt)
    else:
        raise HTTPException(
            401,
            "missing API key: send Authorization: Bearer KEY, or sign in to the web console",
            headers={"WWW-Authenticate": "Bearer"},
        )
    limit_key(request, principal.key_id)  # counted once authenticated: an id alone spends nothing
    request.state.principal = principal
    return principal


def _session_principal(request: Request, rt: Runtime) -> Principal:
    session = rt.catalog.console_session(request.cookies[COOKIE])
    if session is None:
        raise HTTPException(
            401,
            "the session has expired or was signed out (or its key revoked): sign in again",
            headers={"WWW-Authenticate": "Bearer"},
        )
    check_same_site(request, rt.settings)
    request.state.console_session = session
    return session.principal


def refusal(principal: Principal, decision: Decision) -> HTTPException:
    """403, saying which key (and role) and why."""
    return HTTPException(
        403, f"key {principal.key_id} (role {principal.role}) may not: {decision.reason}"
    )


def allow(action: str) -> Callable[..., Principal]:
    """A dependency: the caller, if its policy allows `action` (on any resource, `*`)."""

    def check(principal: Principal = Depends(caller)) -> Principal:
        note_check(action)  # for the audit record
        decision = principal.decide(action)
        if not decision.allowed:
            raise refusal(principal, decision)
        return principal

    return check


def readable_asset(rt: Runtime, principal: Principal, action: str, asset_id: str) -> Asset:
    """The asset, if the caller may do `action` on it: 404 when it does not exist or the
    caller may not even read it (no hint that it exists), 403 when it may read but not this."""
    note_check(action, f"asset/{asset_id}")  # for the audit record
    try:
        asset = rt.catalog.get_asset(asset_id)
    except NotFound:
        raise HTTPException(404, f"no asset {asset_id}") from None
    names = asset_resources(asset.id, asset.collection)
    decision = principal.decide(action, names)
    if decision.allowed:
        return asset
    if not principal.decide("assets:Get", names).allowed:
        raise HTTPException(404, f"no asset {asset_id}")
    raise refusal(principal, decision)
