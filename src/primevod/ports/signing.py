"""The signing-key port: the key group that signs playback URLs and cookies."""

from __future__ import annotations

from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric import rsa


class SigningKeys(Protocol):
    def create(self) -> dict[str, Any]: ...

    def list(self) -> list[dict[str, Any]]: ...

    def retire(self, key_id: str) -> dict[str, Any]: ...

    def signing_key(self) -> tuple[str, rsa.RSAPrivateKey]:
        """The newest active key: (key pair id, private key); LookupError when none."""
        ...

    def active_public_keys(self) -> dict[str, rsa.RSAPublicKey]: ...
