"""Share links: a self-contained grant to watch one asset until a time, signed with the same
RSA keys (and the same CloudFront policy format) as playback URLs, so rotating or retiring a
signing key governs share links too and nothing about a share is stored.

A token is `<expires>.<key-pair id>.<signature>`: the signature is over the canned policy of
the pseudo-resource `primevod-share:asset/<id>` until `<expires>`. A changed expiry, another
asset's id or a retired key fails the signature check; an expired one is refused as such.

    token = share_token(signer, asset_id, expires)
    check_share_token(verifier, asset_id, token, now=time.time())  # ShareRefused, or fine

Pure: no I/O."""

from __future__ import annotations

import html
from datetime import UTC, datetime

from primevod.core.signing import Rejected, Signer, Verifier, build_policy

SHARE_DEFAULT_SECONDS = 7 * 86400
SHARE_MIN_SECONDS = 60
SHARE_MAX_SECONDS = 90 * 86400
HASH = "SHA256"  # share tokens always use SHA-256 (playback URLs keep CloudFront's default)


class ShareRefused(Exception):
    """A share token that does not grant this asset now; the message is for the viewer."""

    def __init__(self, reason: str, message: str, expired_at: int | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.expired_at = expired_at


def share_resource(asset_id: str) -> str:
    """What a share token's policy covers: one asset, never a URL (so a share link is not a
    playback signature, and no path of the edge accepts it)."""
    return f"primevod-share:asset/{asset_id}"


def share_token(signer: Signer, asset_id: str, expires: int) -> str:
    sha256 = Signer(signer.key_pair_id, signer.private_key, HASH)
    signature = sha256.sign(build_policy(share_resource(asset_id), int(expires)))
    return f"{int(expires)}.{signer.key_pair_id}.{signature}"


def share_links(base: str, asset_id: str, token: str, title: str | None) -> dict[str, str]:
    """The watch link, the embed link and an iframe snippet for a token, on `base` (the
    server's public URL)."""
    url = f"{base}/watch/{asset_id}?token={token}"
    embed = f"{base}/embed/{asset_id}?token={token}"
    snippet = (
        f'<iframe src="{html.escape(embed)}" title="{html.escape(title or "video")}" '
        'width="640" height="360" style="border:0" allow="fullscreen; autoplay" '
        "allowfullscreen></iframe>"
    )
    return {"url": url, "embed_url": embed, "embed_html": snippet}


def new_share(
    signer: Signer, base: str, asset_id: str, title: str | None, expires: int
) -> dict[str, str]:
    """A share of `asset_id` until `expires`: its links, token and expiry (ISO 8601, UTC)."""
    token = share_token(signer, asset_id, expires)
    return {**share_links(base, asset_id, token, title), "token": token, "expires_at": iso(expires)}


def check_expires_in(seconds: int) -> int:
    if not SHARE_MIN_SECONDS <= seconds <= SHARE_MAX_SECONDS:
        raise ValueError(
            f"expires_in must be {SHARE_MIN_SECONDS} s to {SHARE_MAX_SECONDS} s (90 days), "
            f"not {seconds}"
        )
    return seconds


def when(epoch: int) -> str:
    """An expiry as people read it, in UTC."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")


def iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parts(token: str) -> tuple[str, str, str]:
    expires, _, rest = token.partition(".")
    key_id, _, signature = rest.rpartition(".")
    if not (expires.isdigit() and key_id and signature) or len(token) > 2048:
        raise ShareRefused("malformed", "This share link is not valid (it is incomplete).")
    return expires, key_id, signature


def check_share_token(verifier: Verifier, asset_id: str, token: str, *, now: float) -> int:
    """The token's expiry when it grants `asset_id` at `now`; else ShareRefused."""
    expires, key_id, signature = _parts(token)
    params = {"Expires": expires, "Signature": signature, "Key-Pair-Id": key_id}
    try:
        verifier.check(share_resource(asset_id), params={**params, "Hash-Algorithm": HASH}, now=now)
    except Rejected as exc:
        if exc.reason == "expired":
            at = int(expires)
            raise ShareRefused("expired", f"This share link expired on {when(at)}.", at) from None
        if exc.reason == "unknown-key":
            raise ShareRefused(exc.reason, "This share link has been revoked.") from None
        raise ShareRefused(exc.reason, "This share link is not valid for this video.") from None
    return int(expires)
