"""Playback on the AWS shape: `GET /api/v1/assets/{asset_id}/playback` answers as the local
server does (signed HLS, DASH, poster and storyboard URLs, and CloudFront's signed cookies
scoped to the asset's package), signed by core.signing with the private key of CloudFront's
key group, kept in Secrets Manager.

Environment: PRIMEVOD_PLAYBACK_BASE_URL (the distribution's https URL, serving the
destination bucket's keys), PRIMEVOD_SIGNING_KEY_ID (the CloudFront public key's id),
PRIMEVOD_SIGNING_KEY_SECRET (the secret holding the PEM private key),
PRIMEVOD_PLAYBACK_TTL_SECONDS (4 hours by default)."""

from __future__ import annotations

import functools
import os
import time
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from primevod.aws.handlers.context import assets, client
from primevod.aws.handlers.http import HttpError, error, request, response
from primevod.core.assets import AssetStatus
from primevod.core.errors import NotFound
from primevod.core.signing import Signer


@functools.cache
def _private_key(secret: str) -> rsa.RSAPrivateKey:
    pem = client("secretsmanager").get_secret_value(SecretId=secret)["SecretString"]
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError("the CloudFront signing key must be RSA")
    return key


def signer() -> Signer:
    return Signer(
        os.environ["PRIMEVOD_SIGNING_KEY_ID"],
        _private_key(os.environ["PRIMEVOD_SIGNING_KEY_SECRET"]),
    )


def playback(asset_id: str, now: float | None = None) -> tuple[dict[str, Any], list[str]]:
    """The answer's body and its Set-Cookie values."""
    try:
        asset = assets().get(asset_id)
    except NotFound:
        raise HttpError(404, f"no asset {asset_id}") from None
    if asset.status is not AssetStatus.READY or not asset.hls_path or not asset.output_prefix:
        raise HttpError(409, f"asset {asset_id} is {asset.status.value}, not ready")
    ttl = int(os.environ.get("PRIMEVOD_PLAYBACK_TTL_SECONDS", 4 * 3600))
    expires = int(now if now is not None else time.time()) + ttl
    base = os.environ["PRIMEVOD_PLAYBACK_BASE_URL"].rstrip("/") + "/"
    folder = base + asset.output_prefix
    resource = folder + "*"
    sign = signer()

    def signed(key: str | None) -> str | None:
        return sign.signed_url(base + key, expires, resource=resource) if key else None

    path = "/" + asset.output_prefix
    cookies = [
        f"{name}={value}; Path={path}; Max-Age={ttl}; Secure; HttpOnly; SameSite=Lax"
        for name, value in sign.signed_cookies(resource, expires).items()
    ]
    body = {
        "hls_url": signed(asset.hls_path),
        "dash_url": signed(asset.dash_path),
        "poster_url": signed(asset.thumbnails.get("poster")),
        "storyboard_url": signed(asset.thumbnails.get("storyboard")),
        "expires_at": expires,
    }
    return body, cookies


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    req = request(event)
    asset_id = req.path_parameters.get("asset_id") or ""
    try:
        if req.method != "GET" or not asset_id:
            raise HttpError(404, f"no route {req.method} {req.path}")
        body, cookies = playback(asset_id)
    except HttpError as exc:
        return error(exc)
    return response(200, body, cookies=cookies)
