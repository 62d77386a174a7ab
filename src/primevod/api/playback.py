"""Playback routes: signed URLs and cookies for an asset's package on the edge (for a key or
session allowed `playback:Get`, or a share link's token: api/share.py), and the delivery
version bump that invalidates cached copies."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from primevod.api import content_keys, edge
from primevod.api.audit_trail import note_check
from primevod.api.auth import caller, readable_asset
from primevod.api.deps import RuntimeDep
from primevod.api.edge import delivery_layout
from primevod.api.share import shared_grant, signing_key
from primevod.core.access import Principal
from primevod.core.assets import Asset, AssetStatus
from primevod.core.codec_families import ladder_families
from primevod.core.errors import NotFound
from primevod.core.signing import Signer
from primevod.pipeline.runtime import Runtime

router = APIRouter()
_bearer = HTTPBearer(auto_error=False)


def ensure_signing_key(rt: Runtime) -> None:
    store = rt.signing_keys
    if not any(k["status"] == "active" for k in store.list()):
        store.create()


def _watchable(
    rt: Runtime, request: Request, asset_id: str, token: str | None, credentials: Any
) -> tuple[Asset, int | None]:
    """The asset and the share's expiry, for a share token that grants it (checked before the
    catalog is read: a token tells nothing about assets it does not cover), or the asset
    and None for a caller allowed to play it."""
    if token is None:
        principal: Principal = caller(request, rt, credentials)
        return readable_asset(rt, principal, "playback:Get", asset_id), None
    note_check("playback:Get", f"asset/{asset_id}")
    until = shared_grant(rt, asset_id, token)
    try:
        return rt.catalog.get_asset(asset_id), until
    except NotFound:
        raise HTTPException(404, f"no asset {asset_id}") from None


@router.get("/api/v1/assets/{asset_id}/playback", tags=["delivery"])
def playback(
    rt: RuntimeDep,
    asset_id: str,
    request: Request,
    response: Response,
    token: str | None = Query(None, description="a share token, in place of an API key"),
    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
) -> dict[str, Any]:
    """Signed playback URLs and, as cookies scoped to the asset's path, the signature every
    variant playlist and segment request needs; the asset's title and duration for the page.
    A player asks again before `expires_at` for a fresh grant (the same URLs, new
    signatures). With a share token, the grant lasts no longer than the share."""
    asset, share_expires = _watchable(rt, request, asset_id, token, credentials)
    if asset.status is not AssetStatus.READY or not asset.hls_path:
        raise HTTPException(409, f"asset {asset_id} is {asset.status.value}, not ready")
    key_id, private = signing_key(rt)
    signer = Signer(rt.settings.playback_key_id or key_id, private)
    expires = int(time.time()) + rt.settings.playback_ttl_seconds
    if share_expires is not None:
        expires = min(expires, share_expires)
    prefix = asset.output_prefix or ""
    base, path = delivery_layout(rt, request, asset_id, prefix)
    resource = base + "*"
    poster = asset.thumbnails.get("poster")
    storyboard = asset.thumbnails.get("storyboard")

    def signed(key: str | None) -> str | None:
        if not key:
            return None
        return signer.signed_url(base + key[len(prefix) :], expires, resource=resource)

    for name, value in signer.signed_cookies(resource, expires).items():
        response.set_cookie(
            name,
            value,
            path=path,
            expires=expires,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )
    # encrypted HLS: the same signature for the key route (cookies there, and a signed URL)
    key_url = content_keys.grant(rt, request, response, asset, signer, resource, expires)
    return {
        "title": asset.title,
        "duration": asset.duration,
        "hls_url": signed(asset.hls_path),
        "dash_url": signed(asset.dash_path),
        "poster_url": signed(poster),
        "storyboard_url": signed(storyboard),
        "expires_at": expires,
        "ttl_seconds": expires - int(time.time()),
        "key_url": key_url,
        # the player takes the most efficient family it decodes, and keeps to it
        "codec_families": ladder_families(asset.ladder),
    }


@router.post("/api/v1/assets/{asset_id}/invalidate", tags=["delivery"])
def invalidate(
    rt: RuntimeDep, asset_id: str, principal: Principal = Depends(caller)
) -> dict[str, Any]:
    """Bump the asset's delivery version: every ETag changes, so no cache serves a replaced
    output as current."""
    asset = readable_asset(rt, principal, "playback:Invalidate", asset_id)
    version = int(asset.metadata.get("delivery_version", 0)) + 1
    rt.catalog.update_asset(asset_id, metadata={**asset.metadata, "delivery_version": version})
    edge.forget(rt, asset)
    return {"asset_id": asset_id, "delivery_version": version}
