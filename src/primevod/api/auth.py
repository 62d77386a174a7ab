"""Bearer API keys with roles: 401 without a valid key, 403 with a role the route refuses."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from primevod.api.deps import RuntimeDep
from primevod.core.api_keys import ADMIN, UPLOAD, VIEW

__all__ = ["ADMIN", "UPLOAD", "VIEW", "require"]

_bearer = HTTPBearer(auto_error=False)


def require(roles: tuple[str, ...]) -> Callable[..., str]:
    def check(
        request: Request,
        rt: RuntimeDep,
        credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
    ) -> str:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise HTTPException(
                401,
                "missing API key: send Authorization: Bearer KEY",
                headers={"WWW-Authenticate": "Bearer"},
            )
        role = rt.catalog.check_key(credentials.credentials)
        if role is None:
            raise HTTPException(
                401, "invalid or revoked API key", headers={"WWW-Authenticate": "Bearer"}
            )
        if role not in roles:
            raise HTTPException(403, f"role {role} may not do this (needs {' or '.join(roles)})")
        request.state.role = role
        return role

    return check
