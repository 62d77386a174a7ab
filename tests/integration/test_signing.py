"""CloudFront-format signing: round trips, every rejection, byte-for-byte agreement with
botocore's CloudFrontSigner, and a known answer computed independently with openssl."""

from __future__ import annotations

import datetime as dt
import os
import stat
import subprocess

import pytest
from botocore.signers import CloudFrontSigner
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from primevod.adapters.signing.key_store import KeyStore
from primevod.core.signing import (
    COOKIE_POLICY,
    Rejected,
    Signer,
    Verifier,
    build_policy,
    cf_b64decode,
    cf_b64encode,
    split_signed_url,
)

NOW = 1_800_000_000
URL = "https://vod.example.com/vod/abc/master.m3u8"


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    store = KeyStore(tmp_path_factory.mktemp("keys") / "signing-keys")
    first = store.create()
    second = store.create()
    return store, first["id"], second["id"]


@pytest.fixture
def signer(keys) -> Signer:
    store, _, _ = keys
    key_id, private = store.signing_key()
    return Signer(key_id, private)


@pytest.fixture
def verifier(keys) -> Verifier:
    return Verifier(keys[0].active_public_keys())


def test_key_store_files_and_rotation(keys) -> None:
    store, first, second = keys
    assert stat.S_IMODE(os.stat(store.folder / f"{first}.pem").st_mode) == 0o600
    assert [k["id"] for k in store.list()] == [first, second]
    assert store.signing_key()[0] == second  # the newest signs
    assert set(store.active_public_keys()) == {first, second}  # both verify


def test_canned_url_round_trip(signer, verifier) -> None:
    url = signer.signed_url(URL, NOW + 60)
    bare, params = split_signed_url(url)
    assert bare == URL and set(params) == {"Expires", "Signature", "Key-Pair-Id"}
    verifier.check(url, now=NOW)


def test_custom_policy_wildcard_ip_and_start(signer, verifier) -> None:
    url = signer.signed_url(
        URL,
        NOW + 60,
        resource="https://vod.example.com/vod/abc/*",
        starts=NOW - 10,
        ip="10.1.2.0/24",
    )
    assert "Policy=" in url
    verifier.check(url, client_ip="10.1.2.3", now=NOW)
    other = url.replace("/master.m3u8", "/chunk-0-00001.m4s")
    verifier.check(other, client_ip="10.1.2.3", now=NOW)


def test_sha256_signatures(keys) -> None:
    store, _, _ = keys
    key_id, private = store.signing_key()
    url = Signer(key_id, private, "SHA256").signed_url(URL, NOW + 60)
    assert "Hash-Algorithm=SHA256" in url
    Verifier(store.active_public_keys()).check(url, now=NOW)


def test_cookies(signer, verifier) -> None:
    cookies = signer.signed_cookies("https://vod.example.com/vod/abc/*", NOW + 60)
    verifier.check("https://vod.example.com/vod/abc/media_0.m3u8", cookies=cookies, now=NOW)
    with pytest.raises(Rejected) as info:
        verifier.check("https://vod.example.com/vod/other/media_0.m3u8", cookies=cookies, now=NOW)
    assert info.value.reason == "wrong-resource"


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda s: URL, "missing"),
        (lambda s: s.signed_url(URL, NOW - 1), "expired"),
        (lambda s: s.signed_url(URL, NOW + 60, starts=NOW + 30), "not-yet-valid"),
        (lambda s: s.signed_url(URL, NOW + 60, ip="192.0.2.1"), "wrong-ip"),
        (
            lambda s: s.signed_url(URL.replace("abc", "xyz"), NOW + 60).replace("xyz", "abc"),
            "tampered",
        ),
        (
            lambda s: s.signed_url(URL, NOW + 60).replace(
                f"Expires={NOW + 60}", f"Expires={NOW + 6000}"
            ),
            "tampered",
        ),
        (
            lambda s: s.signed_url(URL, NOW + 60).replace("Key-Pair-Id=K", "Key-Pair-Id=X"),
            "unknown-key",
        ),
        (lambda s: s.signed_url(URL, NOW + 60).replace("Expires=", "Expires=x"), "malformed"),
        (
            lambda s: s.signed_url(URL, NOW + 60, resource="https://vod.example.com/vod/zzz/*"),
            "wrong-resource",
        ),
    ],
)
def test_every_rejection_reason(signer, verifier, make, reason) -> None:
    with pytest.raises(Rejected) as info:
        verifier.check(make(signer), client_ip="10.0.0.1", now=NOW)
    assert info.value.reason == reason


def test_retired_key_no_longer_verifies(tmp_path) -> None:
    store = KeyStore(tmp_path / "k")
    old = store.create()["id"]
    key_id, private = store.signing_key()
    url = Signer(key_id, private).signed_url(URL, NOW + 60)
    store.create()
    Verifier(store.active_public_keys()).check(url, now=NOW)  # rotation: old links work
    store.retire(old)
    with pytest.raises(Rejected) as info:
        Verifier(store.active_public_keys()).check(url, now=NOW)
    assert info.value.reason == "unknown-key"


def test_botocore_cloudfront_signer_agrees(keys, signer, verifier) -> None:
    """Canned and custom URLs from botocore are byte-for-byte ours and verify."""
    _, private = keys[0].signing_key()

    def rsa_signer(message: bytes) -> bytes:
        return private.sign(message, padding.PKCS1v15(), hashes.SHA1())

    boto = CloudFrontSigner(signer.key_pair_id, rsa_signer)
    expires = dt.datetime.fromtimestamp(NOW + 60, dt.UTC)
    canned = boto.generate_presigned_url(URL, date_less_than=expires)
    assert canned == signer.signed_url(URL, NOW + 60)
    verifier.check(canned, now=NOW)
    policy = boto.build_policy(
        "https://vod.example.com/vod/abc/*",
        expires,
        date_greater_than=dt.datetime.fromtimestamp(NOW - 5, dt.UTC),
        ip_address="10.0.0.0/8",
    )
    custom = boto.generate_presigned_url(URL, policy=policy)
    assert custom == signer.signed_url(
        URL, NOW + 60, resource="https://vod.example.com/vod/abc/*", starts=NOW - 5, ip="10.0.0.0/8"
    )
    verifier.check(custom, client_ip="10.9.9.9", now=NOW)


def test_known_answer_from_openssl(keys, signer, tmp_path) -> None:
    """The canned-policy signature computed by openssl from the same key and policy text."""
    store = keys[0]
    policy = build_policy(URL, NOW + 60)
    assert policy == (
        '{"Statement":[{"Resource":"' + URL + '","Condition":{"DateLessThan":'
        '{"AWS:EpochTime":' + str(NOW + 60) + "}}}]}"
    )
    (tmp_path / "policy.json").write_text(policy)
    raw = subprocess.run(
        [
            "openssl",
            "dgst",
            "-sha1",
            "-sign",
            str(store.folder / f"{signer.key_pair_id}.pem"),
            str(tmp_path / "policy.json"),
        ],
        capture_output=True,
        check=True,
    ).stdout
    expected = cf_b64encode(raw)
    _, params = split_signed_url(signer.signed_url(URL, NOW + 60))
    assert params["Signature"] == expected
    assert cf_b64decode(expected) == raw


def test_verification_is_cached(signer, verifier) -> None:
    """Repeated requests with the same cookies reuse one RSA verification."""
    cookies = signer.signed_cookies("https://vod.example.com/vod/abc/*", NOW + 60)
    calls = []
    key = verifier.public_keys[signer.key_pair_id]

    class Counting:
        def verify(self, *args):
            calls.append(1)
            return key.verify(*args)

    verifier.public_keys[signer.key_pair_id] = Counting()  # type: ignore[assignment]
    for i in range(100):
        verifier.check(f"https://vod.example.com/vod/abc/{i}.m4s", cookies=cookies, now=NOW)
    assert len(calls) == 1
    with pytest.raises(Rejected):  # the cached policy still gets its time check
        verifier.check("https://vod.example.com/vod/abc/x.m4s", cookies=cookies, now=NOW + 61)
    assert COOKIE_POLICY in cookies


def test_cli_keys_and_sign(tmp_path) -> None:
    import sys

    env = {**os.environ, "PRIMEVOD_HOME": str(tmp_path / "home")}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "primevod.cli.main", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    assert run("sign", URL).returncode == 2  # no key yet: a clear error
    created = run("signing-keys", "create", "--json")
    assert created.returncode == 0, created.stderr
    signed = run("sign", URL, "--expires-in", "120").stdout.strip()
    store = KeyStore(tmp_path / "home" / "signing-keys")
    import time

    Verifier(store.active_public_keys()).check(signed, now=time.time())
    key_id = store.list()[0]["id"]
    exported = run("signing-keys", "export-public", key_id)
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.startswith("-----BEGIN PUBLIC KEY-----")
    public = serialization.load_pem_public_key(exported.stdout.encode())
    assert public.public_numbers() == store.active_public_keys()[key_id].public_numbers()
    assert "PRIVATE" not in exported.stdout
    assert run("signing-keys", "export-public", "nope").returncode == 2
    assert run("signing-keys", "retire", key_id).returncode == 0
    assert run("signing-keys", "retire", "nope").returncode == 2
