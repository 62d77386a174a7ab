"""API keys over HTTP, for the web console's keys page: list, create (with a role or a policy
document of its own: core/access.py), revoke. The same rules as `primevod keys create`
(core/access.py `key_grant`); a new key's secret is in the creating response only. A key grants
no more than it has, and the last admin key is not revoked (core/key_grants.py). Under
/api/v1/api-keys: /api/v1/keys is encrypted HLS's key route (api/content_keys.py)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field

from primevod.api.audit_trail import note_check
from primevod.api.auth import allow
from primevod.api.deps import RuntimeDep
from primevod.core.access import Policy, Principal, key_grant, principal_of
from primevod.core.api_keys import split_key
from primevod.core.errors import NotFound
from primevod.core.key_grants import LAST_ADMIN, grant_excess, last_admin
from primevod.pipeline.runtime import Runtime

router = APIRouter(tags=["keys"])


class KeyRequest(BaseModel):
    role: str | None = Field(None, description="admin, uploader or viewer (with a policy: a label)")
    policy: dict[str, Any] | None = Field(
        None, description="a policy document (docs/security.md) instead of a role"
    )
    name: str | None = Field(None, max_length=200, description="a note to recognise the key")


class CreatedKey(BaseModel):
    id: str
    key: str = Field(description="the secret: shown this once, stored only as a hash")
    role: str
    name: str | None
    policy: str = Field(description="own: the key's own policy; role: its role's")


@router.get("/api/v1/api-keys")
def list_api_keys(
    rt: RuntimeDep, _: Principal = Depends(allow("keys:List"))
) -> dict[str, list[dict[str, Any]]]:
    """Every key's id, role, name, whether it has a policy of its own and whether it is
    revoked, oldest first (never a secret)."""
    return {"keys": rt.catalog.list_keys()}


@router.post("/api/v1/api-keys", status_code=201)
def create_api_key(
    body: KeyRequest, rt: RuntimeDep, principal: Principal = Depends(allow("keys:Create"))
) -> CreatedKey:
    """A new key with a role, or with a policy document of its own; 403 when it would allow
    something the calling key may not do itself."""
    text = json.dumps(body.policy) if body.policy is not None else None
    try:
        role, document = key_grant(body.role, text)
    except ValueError as exc:  # PolicyError too: where the document is wrong
        raise HTTPException(422, str(exc)) from None
    excess = grant_excess(principal.policy, principal_of("new", role, document).policy)
    if excess is not None:
        raise HTTPException(
            403, f"a key cannot grant more than it has: key {principal.key_id} may not {excess}"
        )
    name = body.name.strip() if body.name and body.name.strip() else None
    key = rt.catalog.create_key(role, name, document)
    parts = split_key(key)
    assert parts is not None  # a key just made is well formed
    return CreatedKey(
        id=parts[0], key=key, role=role, name=name, policy="own" if document else "role"
    )


@router.delete("/api/v1/api-keys/{key_id}")
def revoke_api_key(
    key_id: str, rt: RuntimeDep, _: Principal = Depends(allow("keys:Revoke"))
) -> dict[str, Any]:
    """Revoke a key: it no longer authenticates, and its console sessions end."""
    note_check("keys:Revoke", f"key/{key_id}")
    if last_admin(key_id, active_policies(rt)):
        raise HTTPException(409, LAST_ADMIN)
    try:
        rt.catalog.revoke_key(key_id)
    except NotFound:
        raise HTTPException(404, f"no key {key_id}") from None
    ended = rt.catalog.end_sessions_of(key_id)
    return {"id": key_id, "revoked": True, "sessions_ended": ended}


def active_policies(rt: Runtime) -> dict[str, Policy]:
    """Each unrevoked key's id and effective policy (`primevod keys revoke` asks the same)."""
    keys = [k["id"] for k in rt.catalog.list_keys() if not k["revoked"]]
    return {k: rt.catalog.key_principal(k).policy for k in keys}
