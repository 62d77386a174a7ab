"""The Ed25519 key pairs that sign audit digests, under `PRIMEVOD_HOME/audit-keys/`:
`<id>.key` (private, PEM, 0600) and `<id>.pub` (public, PEM), where the id is derived from
the public key (core/audit.key_id_of). The first digest creates a key pair; the newest pair
signs, and every public key stays to verify older digests. Creation is under a file lock,
so processes starting together make one pair."""

from __future__ import annotations

import base64
import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from primevod.core.audit import key_id_of

_RAW = (serialization.Encoding.Raw, serialization.PublicFormat.Raw)


class AuditKeys:
    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.folder.mkdir(parents=True, exist_ok=True)
        os.chmod(self.folder, 0o700)
        with open(self.folder / ".lock", "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes
            yield

    def _private_files(self) -> list[Path]:
        """Private keys, oldest first (by modification time, then name)."""
        files = list(self.folder.glob("*.key")) if self.folder.is_dir() else []
        return sorted(files, key=lambda p: (p.stat().st_mtime, p.name))

    def create(self) -> str:
        """A new key pair, which signs from now on; returns its id."""
        with self._locked():
            return self._create()

    def _create(self) -> str:
        private = Ed25519PrivateKey.generate()
        public = private.public_key()
        key_id = key_id_of(public.public_bytes(*_RAW))
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        fd = os.open(self.folder / f"{key_id}.key", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
        (self.folder / f"{key_id}.pub").write_bytes(
            public.public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        return key_id

    def signer(self) -> tuple[str, Ed25519PrivateKey]:
        """The signing key (the newest pair; made on first use)."""
        files = self._private_files()
        if not files:
            with self._locked():
                files = self._private_files() or [self.folder / f"{self._create()}.key"]
        path = files[-1]
        private = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(private, Ed25519PrivateKey):
            raise ValueError(f"{path} is not an Ed25519 private key")
        return path.stem, private

    def sign(self, message: bytes) -> tuple[str, str]:
        key_id, private = self.signer()
        return key_id, base64.b64encode(private.sign(message)).decode()

    def public_keys(self) -> dict[str, bytes]:
        """Every public key by id (raw bytes), to verify digests signed by any of them."""
        keys: dict[str, bytes] = {}
        if not self.folder.is_dir():
            return keys
        for path in sorted(self.folder.glob("*.pub")):
            public = serialization.load_pem_public_key(path.read_bytes())
            if isinstance(public, Ed25519PublicKey):
                raw = public.public_bytes(*_RAW)
                if key_id_of(raw) == path.stem:  # a swapped file does not pass for the key
                    keys[path.stem] = raw
        return keys
