"""The local key provider (KMS's role in the embedded default): master keys in a JSON key
file, 0600, created on first use; or one master key from an environment variable.

The key file holds every master key version (`v1`, `v2`, ...) and which one is current:
new data keys are wrapped under the current one, and `primevod kms rotate` adds a version,
re-wraps every data key under it and drops the versions no data key uses any more. A data
key is wrapped with AES-256-GCM under the master version, its key id as AAD (a wrapped key
moved to another id fails). The file is re-read when it changes on disk, so a rotation in
one process reaches the server and workers without a restart."""

from __future__ import annotations

import base64
import json
import os
import secrets
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from primevod.adapters.private_files import create_exclusive, write_private
from primevod.ports.keys import KeyUnavailable

KEY_BYTES = 32
NONCE = 12
ENV_KEY_ID = "env"


class KeyFileError(Exception):
    """A key file that cannot be used (bad permissions, bad content) or an operation the
    provider cannot do (rotating a key that comes from the environment)."""


def _wrap(master: bytes, key_id: str, data_key: bytes) -> bytes:
    nonce = os.urandom(NONCE)
    return nonce + AESGCM(master).encrypt(nonce, data_key, key_id.encode())


def _unwrap(master: bytes, key_id: str, wrapped: bytes) -> bytes:
    try:
        return AESGCM(master).decrypt(wrapped[:NONCE], wrapped[NONCE:], key_id.encode())
    except InvalidTag:
        raise KeyUnavailable(f"data key does not unwrap under master {key_id}") from None


class LocalKeyProvider:
    """Master keys from `PRIMEVOD_MASTER_KEY` (base64 of 32 bytes: one version, `env`) or
    from a key file (several versions). Implements ports.keys.KeyProvider."""

    def __init__(self, key_file: Path | None = None, env_key: str | None = None) -> None:
        self.key_file = Path(key_file) if key_file else None
        self._env = base64.b64decode(env_key) if env_key else None
        if self._env is not None and len(self._env) != KEY_BYTES:
            raise KeyFileError("PRIMEVOD_MASTER_KEY must be base64 of 32 bytes")
        if self._env is None and self.key_file is None:
            raise KeyFileError("a master key file or PRIMEVOD_MASTER_KEY is needed")
        self._lock = threading.Lock()
        self._cache: tuple[float, dict[str, Any]] | None = None

    # the key file ----------------------------------------------------------------------------
    def _create(self) -> None:
        assert self.key_file is not None
        self.key_file.parent.mkdir(parents=True, exist_ok=True)
        doc = {"current": "v1", "versions": [self._new_version("v1")]}
        # another process may make it first: then its key is the one (never half a file)
        create_exclusive(self.key_file, json.dumps(doc, indent=2).encode())

    @staticmethod
    def _new_version(version: str) -> dict[str, Any]:
        return {
            "id": version,
            "key": base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode(),
            "created_at": datetime.now(UTC).isoformat(),
        }

    def _doc(self) -> dict[str, Any]:
        """The key file's content, re-read when its mtime changed (a rotation elsewhere)."""
        assert self.key_file is not None
        with self._lock:
            if not self.key_file.exists():
                self._create()
            stat = self.key_file.stat()
            if stat.st_mode & 0o077:
                raise KeyFileError(f"{self.key_file} must be readable by its owner only (0600)")
            if self._cache is None or self._cache[0] != stat.st_mtime_ns:
                try:
                    doc = json.loads(self.key_file.read_text())
                    for version in doc["versions"]:
                        base64.b64decode(version["key"], validate=True)
                except (OSError, ValueError, KeyError, TypeError) as exc:
                    raise KeyFileError(f"{self.key_file}: not a master key file ({exc})") from None
                self._cache = (stat.st_mtime_ns, doc)
            return self._cache[1]

    def _save(self, doc: dict[str, Any]) -> None:
        assert self.key_file is not None
        write_private(self.key_file, json.dumps(doc, indent=2).encode())
        with self._lock:
            self._cache = None

    def _masters(self) -> dict[str, bytes]:
        if self._env is not None:
            return {ENV_KEY_ID: self._env}
        return {f"local:{v['id']}": base64.b64decode(v["key"]) for v in self._doc()["versions"]}

    # the port -------------------------------------------------------------------------------
    def current_key_id(self) -> str:
        if self._env is not None:
            return ENV_KEY_ID
        return f"local:{self._doc()['current']}"

    def generate_data_key(self) -> tuple[bytes, bytes, str]:
        key_id = self.current_key_id()
        data_key = secrets.token_bytes(KEY_BYTES)
        return data_key, _wrap(self._masters()[key_id], key_id, data_key), key_id

    def unwrap(self, wrapped: bytes, key_id: str) -> bytes:
        master = self._masters().get(key_id)
        if master is None:
            raise KeyUnavailable(f"no master key {key_id!r} (was it dropped by a rotation?)")
        return _unwrap(master, key_id, wrapped)

    def rewrap(self, wrapped: bytes, key_id: str) -> tuple[bytes, str]:
        current = self.current_key_id()
        if key_id == current:
            return wrapped, key_id
        return _wrap(self._masters()[current], current, self.unwrap(wrapped, key_id)), current

    # versions (kms rotate / status) ---------------------------------------------------------
    def versions(self) -> list[dict[str, Any]]:
        """[{key_id, created_at, current}] oldest first (no key material)."""
        if self._env is not None:
            return [{"key_id": ENV_KEY_ID, "created_at": None, "current": True}]
        doc = self._doc()
        return [
            {
                "key_id": f"local:{v['id']}",
                "created_at": v.get("created_at"),
                "retired_at": v.get("retired_at"),
                "current": v["id"] == doc["current"],
            }
            for v in doc["versions"]
        ]

    def add_version(self) -> str:
        """A new master version, made current; the old ones stay for unwrapping."""
        if self._env is not None:
            raise KeyFileError(
                "the master key comes from PRIMEVOD_MASTER_KEY: rotate with a key file "
                "(PRIMEVOD_MASTER_KEY_FILE) instead"
            )
        doc = self._doc()
        now = datetime.now(UTC).isoformat()
        number = 1 + max(int(v["id"].lstrip("v")) for v in doc["versions"])
        for v in doc["versions"]:
            if v["id"] == doc["current"]:
                v["retired_at"] = now
        new = self._new_version(f"v{number}")
        doc = {**doc, "current": new["id"], "versions": [*doc["versions"], new]}
        self._save(doc)
        return f"local:{new['id']}"

    def drop_versions(self, key_ids: set[str]) -> list[str]:
        """Remove these master versions (never the current one); returns those removed."""
        if self._env is not None:
            return []
        doc = self._doc()
        drop = {k.removeprefix("local:") for k in key_ids} - {doc["current"]}
        if not drop:
            return []
        kept = [v for v in doc["versions"] if v["id"] not in drop]
        self._save({**doc, "versions": kept})
        return sorted(f"local:{d}" for d in drop)
