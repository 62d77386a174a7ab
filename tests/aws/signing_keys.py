"""A CloudFront signing key for the playback and canary handlers' tests: its private half in
(moto's) Secrets Manager and the environment naming it, the key id and the distribution."""

from __future__ import annotations

import boto3
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

REGION = "us-east-1"


def signing_key(monkeypatch: pytest.MonkeyPatch, key_id: str, base_url: str) -> rsa.RSAPrivateKey:
    """A new key (inside `mock_aws`); returns its private half."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    secret = f"playback-{key_id}"
    boto3.client("secretsmanager", region_name=REGION).create_secret(Name=secret, SecretString=pem)
    monkeypatch.setenv("PRIMEVOD_SIGNING_KEY_SECRET", secret)
    monkeypatch.setenv("PRIMEVOD_SIGNING_KEY_ID", key_id)
    monkeypatch.setenv("PRIMEVOD_PLAYBACK_BASE_URL", base_url)
    return key
