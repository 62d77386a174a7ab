"""Encrypted HLS in the pipeline: `protect` encrypts a finished package before it is staged
(both the single-pass encode and the stitch of a chunked one call it), `readable` gives the
steps that look at the pictures (the quality check) a decrypted copy.

The asset's key is made and stored in one place, the catalog (`ensure_content_key`), and
read back from there wherever it is needed: it never travels in a step's outcome (DBOS
records those in the workflow database) nor into the destination bucket."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from primevod.core.content_keys import encryption_of, key_uri, new_content_key
from primevod.core.errors import MediaError
from primevod.core.outputs import PackageResult
from primevod.pipeline.runtime import Runtime


def requested(rt: Runtime, asset_id: str) -> str | None:
    """The encryption the asset asks for ("aes-128"), None for clear segments."""
    try:
        return encryption_of(rt.catalog.get_asset(asset_id).metadata)
    except ValueError as exc:
        raise MediaError("request.invalid", str(exc)) from None


def protect(rt: Runtime, asset_id: str, result: PackageResult) -> PackageResult:
    """The package encrypted in place when the asset asks for it (else `result` as it is).
    The key is the asset's own, made on its first encode and reused by every later one, so
    the package being replaced and its replacement play with the same key."""
    method = requested(rt, asset_id)
    if method is None:
        return result
    from primevod.adapters.media.hls_encryption import encrypt_package

    key = rt.catalog.ensure_content_key(asset_id, method, new_content_key())
    return encrypt_package(result, key, key_uri(asset_id, rt.settings.key_base_url))


@contextmanager
def readable(rt: Runtime, asset_id: str, result: PackageResult) -> Iterator[PackageResult]:
    """The package with clear segments: `result` itself, or for an encrypted one a
    decrypted copy in a temporary folder (removed after)."""
    if result.encryption is None:
        yield result
        return
    key = rt.catalog.content_key(asset_id)
    if key is None:
        raise MediaError("package.invalid", f"asset {asset_id} has no content key")
    from primevod.adapters.media.hls_encryption import decrypted_copy

    spool = rt.settings.home / "tmp"
    spool.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=spool, prefix="clear-") as tmp:
        decrypted_copy(Path(result.output_dir), Path(tmp), key)
        yield result.model_copy(update={"output_dir": tmp})
