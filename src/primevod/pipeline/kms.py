"""Key management of encryption at rest (`primevod kms status|rotate`): which master key
versions wrap how many data keys, and rotation.

Rotation adds a master key version, makes it current, and re-wraps every data key under it:
the key records of sealed files under the data folder (source objects in every tier, their
old versions, parts of open uploads, signing private keys, the upload signing secret) are
rewritten in place, the webhook secrets and encrypted HLS content keys in the catalog
re-sealed; no object is decrypted or
re-encrypted. Secret files still in plaintext (written before encryption was turned on) are
sealed first. A master version no data key uses any more is dropped, except the one this
rotation retired: a process that read the key file just before may still wrap a new data key
under it, so it goes at the next rotation (or now with `drop_unused`) once nothing uses it."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path
from typing import Any

from primevod.adapters.crypto import envelope, rotation
from primevod.adapters.crypto.sealed_files import Sealer, text_key_id
from primevod.pipeline.runtime import Runtime

log = logging.getLogger("primevod.kms")


class EncryptionOff(RuntimeError):
    """Encryption at rest is not turned on (PRIMEVOD_ENCRYPT_AT_REST)."""


def _sealer(rt: Runtime) -> Sealer:
    if rt.sealer is None:
        raise EncryptionOff("encryption at rest is off: set PRIMEVOD_ENCRYPT_AT_REST=true")
    return rt.sealer


def _secret_files(rt: Runtime) -> list[Path]:
    home = rt.settings.home
    files = sorted((home / "signing-keys").glob("*.pem"))
    files = [f for f in files if not f.name.endswith(".pub.pem")]  # public halves stay plain
    return [*files, home / "upload-signing.key"]


def seal_plain_secrets(rt: Runtime) -> list[str]:
    """Secret files still in plaintext, sealed in place (atomically); their names."""
    sealer = _sealer(rt)
    sealed = []
    for path in _secret_files(rt):
        if not path.is_file():
            continue
        raw = path.read_bytes()
        if envelope.is_sealed(raw):
            continue
        sealer.write_file(path, raw)
        sealed.append(path.name)
    return sealed


def census(rt: Runtime) -> Counter[str]:
    """Data keys per master key id: sealed files under home plus sealed webhook secrets."""
    counts = rotation.census(rt.settings.home)
    for secret in [*rt.subscriptions.sealed_secrets(), *rt.catalog.sealed_content_keys()]:
        key_id = text_key_id(secret)
        if key_id is not None:
            counts[key_id] += 1
    return counts


def status(rt: Runtime) -> dict[str, Any]:
    keys = _sealer(rt).keys
    counts = census(rt)
    versions = [
        {**v, "data_keys": counts.get(v["key_id"], 0)}
        for v in keys.versions()  # type: ignore[attr-defined]
    ]
    known = {v["key_id"] for v in versions}
    missing = {k: n for k, n in counts.items() if k not in known}
    return {"versions": versions, "unknown_key_ids": missing}


def rotate(rt: Runtime, *, drop_unused: bool = False) -> dict[str, Any]:
    sealer = _sealer(rt)
    keys = sealer.keys
    sealed_now = seal_plain_secrets(rt)  # migrated first, then re-wrapped like the rest
    retired = keys.current_key_id()
    current = keys.add_version()  # type: ignore[attr-defined]
    files, records, failed = rotation.rewrap_all(keys, rt.settings.home)
    secrets = rt.subscriptions.reseal_secrets()
    content_keys = rt.catalog.reseal_content_keys()
    counts = census(rt)
    unused = {
        v["key_id"]
        for v in keys.versions()  # type: ignore[attr-defined]
        if not v["current"]
        and counts.get(v["key_id"], 0) == 0
        and (drop_unused or v["key_id"] != retired)
    }
    dropped = keys.drop_versions(unused) if not failed else []  # type: ignore[attr-defined]
    log.info("kms rotate: %s -> %s, %d data keys re-wrapped", retired, current, records)
    return {
        "previous": retired,
        "current": current,
        "files": files,
        "data_keys_rewrapped": records,
        "webhook_secrets_resealed": secrets,
        "content_keys_resealed": content_keys,
        "secrets_sealed": sealed_now,
        "failed": failed,
        "dropped_versions": dropped,
        "data_keys": dict(counts),
    }
