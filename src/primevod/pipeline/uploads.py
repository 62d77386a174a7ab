"""Multipart uploads into the source bucket (Uppy's @uppy/aws-s3 protocol): init, signPart,
listParts, complete, abort, and the lifecycle rule that aborts the ones left incomplete.
With the local store a part URL points at this server and is authorised by an HMAC over
(upload id, key, part number, expiry); with S3 it is a real presigned UploadPart URL."""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import logging
import secrets
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from primevod.adapters.private_files import create_exclusive
from primevod.core.asset_details import split_details
from primevod.core.assets import utcnow
from primevod.core.constant_time import equal
from primevod.core.errors import NotFound
from primevod.core.layout import new_asset_id, source_key
from primevod.core.storage import InvalidPart, StoreError, UploadNotFound
from primevod.core.uploads import (
    UploadRejected,
    UploadSession,
    check_part_signature,
    check_upload,
    part_signature,
    plan_parts,
)
from primevod.observability import metrics, tracing
from primevod.pipeline import subtitle_sidecars, workflows
from primevod.pipeline.assets import create_asset
from primevod.pipeline.runtime import Runtime
from primevod.ports.object_store import PresignedPartStore

if TYPE_CHECKING:
    from primevod.adapters.crypto.sealed_files import Sealer

log = logging.getLogger("primevod.uploads")


class UploadGone(LookupError):
    """Unknown upload id, a key that does not match it, or an upload no longer open."""


def signing_secret(rt: Runtime) -> bytes:
    """The server's part-URL key, made once (0600) under the data folder, read once per
    process (every part PUT needs it). Sealed with encryption at rest (rt.sealer); a
    plaintext one made before keeps working until `primevod kms rotate` seals it."""
    return _secret_at(rt.settings.home / "upload-signing.key", rt.sealer)


@functools.cache
def _secret_at(path: Path, sealer: Sealer | None = None) -> bytes:
    if not path.exists():  # whoever links it first wins; the others read theirs
        secret = secrets.token_bytes(32)
        create_exclusive(path, sealer.seal(secret) if sealer is not None else secret)
    raw = path.read_bytes()
    return sealer.open(raw) if sealer is not None else raw


def _session(rt: Runtime, upload_id: str, key: str, *, open_only: bool = True) -> UploadSession:
    try:
        session = rt.catalog.get_upload(upload_id)
    except NotFound:
        raise UploadGone(f"no upload {upload_id}") from None
    if session.key != key:
        raise UploadGone(f"upload {upload_id} is not for key {key}")
    if open_only and session.status != "open":
        raise UploadGone(f"upload {upload_id} is {session.status}")
    return session


def init(
    rt: Runtime,
    filename: str,
    content_type: str,
    size: int,
    metadata: dict[str, Any] | None = None,
    owner: str | None = None,
) -> UploadSession:
    settings = rt.settings
    name = check_upload(filename, content_type, size, settings.upload_max_bytes)
    part_size, parts = plan_parts(size, settings.upload_min_part_size, settings.upload_part_size)
    asset_id = new_asset_id()
    key = source_key(asset_id, name)
    upload_id = rt.store.create_multipart(
        settings.source_bucket, key, content_type=content_type, metadata={"asset-id": asset_id}
    )
    now = utcnow()
    session = UploadSession(
        upload_id=upload_id,
        key=key,
        asset_id=asset_id,
        filename=name,
        content_type=content_type,
        size=size,
        part_size=part_size,
        max_parts=parts,
        metadata={str(k): v for k, v in (metadata or {}).items()},
        created_at=now,
        expires_at=now + timedelta(hours=settings.upload_ttl_hours),
        owner=owner,
    )
    rt.catalog.create_upload(session)
    metrics.inc("primevod_uploads_total", status="started")
    return session


def sign_part(
    rt: Runtime, upload_id: str, key: str, part_number: int, base_url: str
) -> dict[str, Any]:
    session = _session(rt, upload_id, key)
    if not 1 <= part_number <= session.max_parts:
        raise UploadRejected(f"part number {part_number} is not in 1..{session.max_parts}")
    lifetime = rt.settings.upload_url_seconds
    expires = int(time.time()) + lifetime
    if isinstance(rt.store, PresignedPartStore):
        url = rt.store.presign_upload_part(
            rt.settings.source_bucket, key, upload_id, part_number, lifetime
        )
    else:
        sig = part_signature(signing_secret(rt), upload_id, key, part_number, expires)
        url = (
            f"{base_url.rstrip('/')}/api/v1/uploads/{quote(upload_id)}/parts/{part_number}"
            f"?key={quote(key, safe='')}&expires={expires}&sig={sig}"
        )
    return {"url": url, "headers": {}, "expires_at": expires}


def put_part(
    rt: Runtime,
    upload_id: str,
    key: str,
    part_number: int,
    expires: int,
    signature: str,
    data: bytes,
    sha256_b64: str | None = None,
) -> str:
    """Store one part sent to a signed URL; returns its ETag. PermissionError for a bad
    signature, UploadRejected for a bad part, UploadGone for an unknown upload."""
    reason = check_part_signature(
        signing_secret(rt), upload_id, key, part_number, expires, signature, time.time()
    )
    if reason:
        raise PermissionError(reason)
    session = _session(rt, upload_id, key)
    if not 1 <= part_number <= session.max_parts:
        raise UploadRejected(f"part number {part_number} is not in 1..{session.max_parts}")
    if len(data) > session.part_size:
        raise UploadRejected(f"part {part_number} is larger than {session.part_size} bytes")
    if sha256_b64 is not None:
        digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
        if not equal(digest, sha256_b64.strip()):
            raise UploadRejected(f"part {part_number}: SHA-256 checksum does not match")
    try:
        part = rt.store.upload_part(rt.settings.source_bucket, key, upload_id, part_number, data)
    except UploadNotFound:
        raise UploadGone(f"no upload {upload_id}") from None
    return part.etag


def list_parts(rt: Runtime, upload_id: str, key: str) -> list[dict[str, Any]]:
    _session(rt, upload_id, key)
    try:
        parts = rt.store.list_parts(rt.settings.source_bucket, key, upload_id)
    except UploadNotFound:
        raise UploadGone(f"no upload {upload_id}") from None
    return [{"PartNumber": p.part_number, "ETag": p.etag, "Size": p.size} for p in parts]


_complete_lock = threading.Lock()


def complete(rt: Runtime, upload_id: str, key: str, parts: list[tuple[int, str]]) -> dict[str, Any]:
    """Assemble the object, record the asset and start its workflow. Completing again
    returns the same asset."""
    with _complete_lock:
        session = _session(rt, upload_id, key, open_only=False)
        if session.status == "completed":
            return _completed(rt, session)
        if session.status != "open":
            raise UploadGone(f"upload {upload_id} is {session.status}")
        try:
            info = rt.store.complete_multipart(rt.settings.source_bucket, key, upload_id, parts)
        except UploadNotFound:
            raise UploadGone(f"no upload {upload_id}") from None
        except InvalidPart as exc:
            raise UploadRejected(exc.message) from None
        details, metadata = split_details(session.metadata)
        create_asset(
            rt.catalog,
            asset_id=session.asset_id,
            title=details.get("title") or Path(session.filename).stem,
            description=details.get("description"),
            tags=details.get("tags"),
            metadata={**metadata, **tracing.origin()},
            source_bucket=rt.settings.source_bucket,
            source_key=key,
            source_size=info.size,
        )
        execution = workflows.start(rt, session.asset_id, attempt=1)
        session = rt.catalog.update_upload(upload_id, status="completed", execution_id=execution)
    metrics.inc("primevod_uploads_total", status="completed")
    metrics.inc("primevod_upload_bytes_total", float(info.size))
    return _completed(rt, session)


def _completed(rt: Runtime, session: UploadSession) -> dict[str, Any]:
    bucket = rt.settings.source_bucket
    return {
        "asset_id": session.asset_id,
        "execution_id": session.execution_id,
        "location": f"{bucket}/{session.key}",
    }


def abort(rt: Runtime, upload_id: str, key: str) -> None:
    session = _session(rt, upload_id, key)
    with contextlib.suppress(UploadNotFound):
        rt.store.abort_multipart(rt.settings.source_bucket, key, upload_id)
    subtitle_sidecars.remove(rt, session.metadata)  # no asset will ever read them
    rt.catalog.update_upload(upload_id, status="aborted")
    metrics.inc("primevod_uploads_total", status="aborted")


def expire_stale(rt: Runtime) -> int:
    """The lifecycle rule: abort uploads still open past their expiry, removing their parts
    and the sidecar subtitle files sent with them."""
    count = 0
    for session in rt.catalog.expired_uploads(utcnow()):
        with contextlib.suppress(UploadNotFound, StoreError):
            rt.store.abort_multipart(rt.settings.source_bucket, session.key, session.upload_id)
        with contextlib.suppress(StoreError):  # the next sweep never sees it again: best effort
            subtitle_sidecars.remove(rt, session.metadata)
        rt.catalog.update_upload(session.upload_id, status="expired")
        count += 1
    if count:
        log.info("aborted %d incomplete uploads", count)
    return count


class UploadSweeper:
    def __init__(self, rt: Runtime, every_seconds: float = 300.0) -> None:
        self.rt = rt
        self.every = every_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                expire_stale(self.rt)
            except Exception:
                log.exception("upload sweep failed")
            self._stop.wait(self.every)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="uploads", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
