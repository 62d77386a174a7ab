"""The key route of encrypted HLS: `GET /api/v1/keys/{asset_id}` answers the asset's 16-byte
AES-128 content key to a request that carries a valid playback signature for that asset,
and 403 to anything else. No API key is involved (there is no `keys:*` action): the
playback route already decided who may watch, and its signature is the proof.

The signature is checked exactly as the edge checks a segment request (the same Verifier,
the same public keys), against the asset's delivery resource: the URL its playback
signature covers (`<edge>/vod/<id>/` or the CDN's `<base>/<prefix>`). It may come as the
CloudFront cookies (the playback route sets them for this path too, since the browser only
sends the edge's cookies to `/vod/<id>/`), or as the Policy, Signature and Key-Pair-Id query
parameters of the playback response's `key_url` (players without cookies, or on another
origin)."""

from __future__ import annotations

import logging
import time

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from primevod.api.deps import RuntimeDep
from primevod.api.edge import REASON_HEADER, _verifier, delivery_layout, public_base
from primevod.core.assets import Asset
from primevod.core.content_keys import KEY_ROUTE, encryption_of, key_uri
from primevod.core.errors import NotFound
from primevod.core.signing import SIGNING_PARAMS, Rejected, Signer
from primevod.pipeline.runtime import Runtime

router = APIRouter()
log = logging.getLogger("primevod.keys")
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def is_encrypted(asset: Asset) -> bool:
    try:
        return encryption_of(asset.metadata) is not None
    except ValueError:
        return False


def cookie_path(asset_id: str) -> str:
    return KEY_ROUTE.format(asset_id=asset_id)


def key_url(rt: Runtime, request: Request, asset_id: str) -> str:
    """The key's absolute URL: the route on `key_base_url`, else on this server."""
    uri = key_uri(asset_id, rt.settings.key_base_url)
    return uri if "://" in uri else public_base(rt, request) + uri


def grant(
    rt: Runtime,
    request: Request,
    response: Response,
    asset: Asset,
    signer: Signer,
    resource: str,
    expires: int,
) -> str | None:
    """For an encrypted asset: the playback cookies again, scoped to its key route, and
    the key URL signed with the same policy (for players that send no cookies). None for a
    clear asset."""
    if not is_encrypted(asset):
        return None
    for name, value in signer.signed_cookies(resource, expires).items():
        response.set_cookie(
            name,
            value,
            path=cookie_path(asset.id),
            expires=expires,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )
    return signer.signed_url(key_url(rt, request, asset.id), expires, resource=resource)


def _deny(asset_id: str, reason: str, detail: str, status: int = 403) -> Response:
    log.info("content key of %s refused: %s", asset_id, reason)
    return JSONResponse(
        {"detail": detail, "reason": reason},
        status_code=status,
        headers={REASON_HEADER: reason, **NO_STORE},
    )


@router.get(KEY_ROUTE, tags=["delivery"], response_class=Response)
def content_key(rt: RuntimeDep, asset_id: str, request: Request) -> Response:
    """The asset's AES-128 key (16 bytes) for a request with its playback signature (signed
    cookies or the `key_url` query); 403 without one, with one for another asset or an
    expired one; 404 when the asset has no published encrypted package."""
    try:
        asset = rt.catalog.get_asset(asset_id)
    except NotFound:
        return _deny(asset_id, "not-found", "no such asset", 404)
    if not asset.output_prefix:
        return _deny(asset_id, "not-ready", "asset not published", 404)
    resource, _ = delivery_layout(rt, request, asset_id, asset.output_prefix)
    signing = {k: v for k, v in request.query_params.items() if k in SIGNING_PARAMS}
    try:
        _verifier(rt).check(
            resource,
            params=signing,
            cookies=dict(request.cookies),
            client_ip=request.client.host if request.client else None,
            now=time.time(),
        )
    except Rejected as exc:
        return _deny(asset_id, exc.reason, str(exc))
    key = rt.catalog.content_key(asset_id)
    if key is None:
        return _deny(asset_id, "no-key", "the asset is not encrypted", 404)
    return Response(content=key, media_type="application/octet-stream", headers=NO_STORE)
