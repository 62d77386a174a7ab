"""RSA key pairs under `PRIMEVOD_HOME/signing-keys/`: `<id>.pem` (private, 0600),
`<id>.pub.pem`, and `keys.json` with each key's state. Several keys are active at once so a
new key can sign while links signed by the old one keep working until it is retired."""

from __future__ import annotations

import json
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

if TYPE_CHECKING:
    from primevod.adapters.crypto.sealed_files import Sealer


class KeyStore:
    """`sealer`: private keys are written sealed (encryption at rest) and read through it;
    plaintext ones written before it was turned on keep working."""

    def __init__(self, folder: Path, sealer: Sealer | None = None) -> None:
        self.folder = Path(folder)
        self.sealer = sealer

    def _index(self) -> dict[str, dict[str, Any]]:
        try:
            return json.loads((self.folder / "keys.json").read_text())
        except (OSError, ValueError):
            return {}

    def _save(self, index: dict[str, dict[str, Any]]) -> None:
        tmp = self.folder / "keys.json.tmp"
        tmp.write_text(json.dumps(index, indent=2))
        os.replace(tmp, self.folder / "keys.json")

    def create(self, bits: int = 2048) -> dict[str, Any]:
        self.folder.mkdir(parents=True, exist_ok=True)
        os.chmod(self.folder, 0o700)
        key_id = "K" + secrets.token_hex(7).upper()
        private = rsa.generate_private_key(public_exponent=65537, key_size=bits)
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
        if self.sealer is not None:
            self.sealer.write_file(self.folder / f"{key_id}.pem", pem, exclusive=True)
        else:
            path = self.folder / f"{key_id}.pem"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(pem)
        public = private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        (self.folder / f"{key_id}.pub.pem").write_bytes(public)
        index = self._index()
        index[key_id] = {
            "id": key_id,
            "status": "active",
            "bits": bits,
            "created_at": datetime.now(UTC).isoformat(),
        }
        self._save(index)
        return index[key_id]

    def list(self) -> list[dict[str, Any]]:
        return sorted(self._index().values(), key=lambda k: k["created_at"])

    def retire(self, key_id: str) -> dict[str, Any]:
        index = self._index()
        if key_id not in index:
            raise KeyError(key_id)
        index[key_id]["status"] = "retired"
        index[key_id]["retired_at"] = datetime.now(UTC).isoformat()
        self._save(index)
        return index[key_id]

    def public_pem(self, key_id: str) -> str:
        """The key's public half as PEM (SubjectPublicKeyInfo: what CloudFront's public keys
        take); KeyError when there is no such key."""
        if key_id not in self._index():
            raise KeyError(key_id)
        return (self.folder / f"{key_id}.pub.pem").read_text()

    def active_public_keys(self) -> dict[str, rsa.RSAPublicKey]:
        keys = {}
        for key_id, meta in self._index().items():
            if meta.get("status") == "active":
                public = serialization.load_pem_public_key(
                    (self.folder / f"{key_id}.pub.pem").read_bytes()
                )
                assert isinstance(public, rsa.RSAPublicKey)
                keys[key_id] = public
        return keys

    def signing_key(self) -> tuple[str, rsa.RSAPrivateKey]:
        """The newest active key: new links are signed with it."""
        active = [k for k in self.list() if k["status"] == "active"]
        if not active:
            raise LookupError("no active signing key: run `primevod signing-keys create`")
        key_id = active[-1]["id"]
        raw = (self.folder / f"{key_id}.pem").read_bytes()
        if self.sealer is not None:
            raw = self.sealer.open(raw)
        private = serialization.load_pem_private_key(raw, password=None)
        assert isinstance(private, rsa.RSAPrivateKey)
        return key_id, private
