"""Share tokens (core/sharing.py): a token grants its own asset until its expiry and nothing
else; any change to it, another asset, a key that is not active, or the passing of its
expiry refuses it, each with a sentence a viewer can read."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from primevod.core.sharing import (
    SHARE_MAX_SECONDS,
    SHARE_MIN_SECONDS,
    ShareRefused,
    check_expires_in,
    check_share_token,
    new_share,
    share_token,
    when,
)
from primevod.core.signing import Signer, Verifier

NOW = 1_800_000_000
ASSET, OTHER = "0b7f1c7e-0000-4000-8000-000000000001", "0b7f1c7e-0000-4000-8000-000000000002"


@pytest.fixture(scope="module")
def keys() -> tuple[Signer, Verifier]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return Signer("K1", private), Verifier({"K1": private.public_key()})


def refusal(verifier: Verifier, asset: str, token: str, now: float = NOW) -> ShareRefused:
    with pytest.raises(ShareRefused) as caught:
        check_share_token(verifier, asset, token, now=now)
    return caught.value


def test_a_token_grants_its_asset_until_it_expires(keys) -> None:
    signer, verifier = keys
    token = share_token(signer, ASSET, NOW + 60)
    assert check_share_token(verifier, ASSET, token, now=NOW) == NOW + 60
    expired = refusal(verifier, ASSET, token, now=NOW + 60)
    assert expired.reason == "expired" and expired.expired_at == NOW + 60
    assert str(expired) == f"This share link expired on {when(NOW + 60)}."


def test_another_asset_a_changed_token_or_an_unknown_key_is_refused(keys) -> None:
    signer, verifier = keys
    token = share_token(signer, ASSET, NOW + 60)
    assert refusal(verifier, OTHER, token).reason == "tampered"
    expires, key_id, signature = token.split(".", 2)
    assert refusal(verifier, ASSET, f"{int(expires) + 1}.{key_id}.{signature}").reason == "tampered"
    changed = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    assert refusal(verifier, ASSET, f"{expires}.{key_id}.{changed}").reason in {
        "tampered",
        "malformed",
    }
    revoked = refusal(verifier, ASSET, f"{expires}.K2.{signature}")
    assert str(revoked) == "This share link has been revoked."
    for broken in ("", "abc", "12.K1", ".K1.sig", "x" * 3000):
        assert refusal(verifier, ASSET, broken).reason == "malformed"


def test_an_expired_token_whose_signature_is_wrong_is_not_called_expired(keys) -> None:
    signer, verifier = keys
    token = share_token(signer, ASSET, NOW - 10)
    assert refusal(verifier, OTHER, token).reason == "tampered"  # signature first


def test_a_share_names_its_links_and_expiry(keys) -> None:
    signer, _ = keys
    share = new_share(signer, "https://vod.example", ASSET, 'A "quoted" <title>', NOW + 60)
    assert share["url"] == f"https://vod.example/watch/{ASSET}?token={share['token']}"
    assert share["embed_url"] == f"https://vod.example/embed/{ASSET}?token={share['token']}"
    assert 'title="A &quot;quoted&quot; &lt;title&gt;"' in share["embed_html"]
    assert share["expires_at"] == "2027-01-15T08:01:00Z"


@pytest.mark.parametrize("seconds", [SHARE_MIN_SECONDS - 1, SHARE_MAX_SECONDS + 1, 0, -1])
def test_expiry_bounds(seconds: int) -> None:
    with pytest.raises(ValueError, match="expires_in"):
        check_expires_in(seconds)
    assert check_expires_in(SHARE_MIN_SECONDS) == SHARE_MIN_SECONDS
