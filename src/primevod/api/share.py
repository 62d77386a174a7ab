"""Share links: `POST /api/v1/assets/{id}/share` answers a watch link, an embed link and an
iframe snippet carrying a signed token (core/sharing.py) that lets anyone play that one asset,
with no API key, until the token expires. The playback route accepts the token in place of a
key (`GET /api/v1/assets/{id}/playback?token=…`)."""

from __future__ import annotations

import time

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from fastapi import APIRouter, Body, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from primevod.api.auth import caller, readable_asset
from primevod.api.deps import RuntimeDep
from primevod.api.edge import _verifier, public_base
from primevod.core.access import Principal
from primevod.core.assets import AssetStatus
from primevod.core.layout import is_asset_id
from primevod.core.sharing import (
    SHARE_DEFAULT_SECONDS,
    SHARE_MAX_SECONDS,
    SHARE_MIN_SECONDS,
    ShareRefused,
    check_share_token,
    new_share,
)
from primevod.core.signing import Signer, Verifier
from primevod.pipeline.runtime import Runtime

router = APIRouter()


class ShareRequest(BaseModel):
    expires_in: int = Field(
        SHARE_DEFAULT_SECONDS,
        ge=SHARE_MIN_SECONDS,
        le=SHARE_MAX_SECONDS,
        description="seconds the link works for (60 s to 90 days; default 7 days)",
    )


class Share(BaseModel):
    url: str
    embed_url: str
    embed_html: str
    token: str
    expires_at: str  # ISO 8601, UTC


@router.post("/api/v1/assets/{asset_id}/share", response_model=Share, tags=["delivery"])
def share(
    rt: RuntimeDep,
    asset_id: str,
    request: Request,
    body: ShareRequest | None = Body(None),
    principal: Principal = Depends(caller),
) -> Share:
    """A link that plays this asset without an API key until it expires (a signed token; no
    state is kept: retiring the signing key revokes every link it signed)."""
    asset = readable_asset(rt, principal, "assets:Share", asset_id)
    if asset.status is not AssetStatus.READY:
        raise HTTPException(409, f"asset {asset_id} is {asset.status.value}, not ready to share")
    expires = int(time.time()) + (body or ShareRequest()).expires_in
    key_id, private = signing_key(rt)
    base = public_base(rt, request)
    return Share(**new_share(Signer(key_id, private), base, asset_id, asset.title, expires))


def signing_key(rt: Runtime) -> tuple[str, RSAPrivateKey]:
    """The key new links and grants are signed with; 503 (the CLI's `key.none`) when no
    signing key is active, which an operator fixes, rather than a bare 500."""
    try:
        return rt.signing_keys.signing_key()
    except LookupError as exc:
        raise HTTPException(503, f"key.none: {exc}") from None


def shared_grant(rt: Runtime, asset_id: str, token: str) -> int:
    """The expiry of a share token that grants `asset_id` now; 404 for a name that is no
    asset id (before any signature is checked), 403 with the viewer's message (expired,
    revoked or not valid) otherwise."""
    if not is_asset_id(asset_id):
        raise HTTPException(404, f"no asset {asset_id}")
    try:
        try:
            return check_share_token(_verifier(rt), asset_id, token, now=time.time())
        except ShareRefused as exc:
            if exc.reason != "unknown-key":
                raise
            # a key made in the last seconds is not in the edge's cached key set yet
            fresh = Verifier(rt.signing_keys.active_public_keys())
            return check_share_token(fresh, asset_id, token, now=time.time())
    except ShareRefused as exc:
        raise HTTPException(
            403, str(exc), headers={"X-PrimeVOD-Reason": f"share-{exc.reason}"}
        ) from None
