"""Sidecar subtitle files of an asset: checked and stored in the source bucket when the
asset is submitted (upload init, `primevod process --subtitles`), listed in its metadata
(`subtitles`: language, name and object key each), fetched again by whichever worker
encodes it (every retry and reprocess reads them), and removed with the asset, or with an
upload that is aborted or expires before it becomes one."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from primevod.core.errors import MediaError
from primevod.core.layout import is_sidecar_key, sidecar_key
from primevod.core.storage import ObjectNotFound
from primevod.core.subtitles import (
    MAX_SUBTITLE_TRACKS,
    METADATA_FIELD,
    SidecarSubtitle,
    check_name,
    check_sidecar,
    check_total,
    language_tag,
)
from primevod.pipeline.runtime import Runtime

MAX_NOTES = 16
log = logging.getLogger(__name__)


class SidecarText(BaseModel):
    """One sidecar as submitted: its language, an optional menu name and its bytes."""

    language: str | None = None
    name: str | None = None
    data: bytes


class SidecarInvalid(ValueError):
    """A submitted sidecar that cannot be used; the message names which one and the line."""


def check_one(item: SidecarText) -> SidecarText:
    """The sidecar with its language and name normalised; SidecarInvalid (with the line at
    fault) when it is too big, not UTF-8, or not WebVTT or SRT."""
    try:
        language = language_tag(item.language)
        name = check_name(item.name, language)
        check_sidecar(item.data)
    except ValueError as exc:  # SubtitleError is one
        raise SidecarInvalid(str(exc)) from None
    return SidecarText(language=language, name=name, data=item.data)


def check(items: list[SidecarText]) -> list[SidecarText]:
    """Every sidecar checked (`check_one`), at most MAX_SUBTITLE_TRACKS of them and
    MAX_SIDECAR_TOTAL_BYTES together; the message of a SidecarInvalid names the one at
    fault as `subtitles[n]`."""
    if len(items) > MAX_SUBTITLE_TRACKS:
        raise SidecarInvalid(f"at most {MAX_SUBTITLE_TRACKS} subtitle files per asset")
    try:
        check_total([len(item.data) for item in items])
    except ValueError as exc:
        raise SidecarInvalid(f"subtitles: {exc}") from None
    out = []
    for n, item in enumerate(items):
        try:
            out.append(check_one(item))
        except SidecarInvalid as exc:
            raise SidecarInvalid(f"subtitles[{n}]: {exc}") from None
    return out


def store(rt: Runtime, items: list[SidecarText]) -> list[dict[str, Any]]:
    """Check and store the sidecars; the metadata entries that list them. A store failure
    part way removes the files already stored (nothing would list them)."""
    checked = check(items)
    batch = uuid.uuid4().hex
    entries: list[dict[str, Any]] = []
    try:
        for n, item in enumerate(checked):
            key = sidecar_key(batch, n)
            rt.store.put(rt.settings.source_bucket, key, item.data, content_type="text/plain")
            entries.append({"language": item.language, "name": item.name, "key": key})
    except Exception:
        remove_quietly(rt, {METADATA_FIELD: entries})
        raise
    return entries


def fetch(rt: Runtime, metadata: dict[str, Any], folder: Path) -> list[SidecarSubtitle]:
    """The asset's sidecars as files in `folder`, as the media engine takes them."""
    entries = metadata.get(METADATA_FIELD) or []
    if not isinstance(entries, list):
        raise MediaError("source.subtitles_invalid", "the asset's subtitles entry is not a list")
    sidecars = []
    for n, entry in enumerate(entries):
        # only keys `store` makes: metadata edited by hand never reads other objects
        if not isinstance(entry, dict) or not is_sidecar_key(str(entry.get("key"))):
            raise MediaError("source.subtitles_invalid", f"subtitles[{n}] names no stored file")
        target = folder / f"sidecar-{n}.txt"
        folder.mkdir(parents=True, exist_ok=True)
        try:
            target.write_bytes(rt.store.get(rt.settings.source_bucket, entry["key"]))
        except ObjectNotFound:  # gone for good: the user's input, never retried
            raise MediaError(
                "source.subtitles_invalid", f"subtitles[{n}]: the stored file is gone"
            ) from None
        # any other store error (a timeout, a throttled request) propagates: the step retries
        sidecars.append(
            SidecarSubtitle(
                path=str(target),
                language=str(entry.get("language") or "und"),
                name=entry.get("name"),
            )
        )
    return sidecars


def entry_keys(metadata: dict[str, Any]) -> list[str]:
    """The stored sidecar files the metadata lists (only keys `store` makes)."""
    entries = metadata.get(METADATA_FIELD)
    if not isinstance(entries, list):
        return []
    keys = [str(e.get("key")) for e in entries if isinstance(e, dict)]
    return [key for key in keys if is_sidecar_key(key)]


def remove(rt: Runtime, metadata: dict[str, Any]) -> int:
    """Delete the sidecar files the metadata lists (an asset deleted, an upload aborted or
    expired): nothing reads them again. Returns how many were there."""
    removed = 0
    for key in entry_keys(metadata):
        if rt.store.exists(rt.settings.source_bucket, key):
            rt.store.delete(rt.settings.source_bucket, key)
            removed += 1
    return removed


def remove_quietly(rt: Runtime, metadata: dict[str, Any]) -> None:
    """`remove` while another error is on its way: a failure here is logged, never raised
    over the error that matters."""
    try:
        remove(rt, metadata)
    except Exception:
        log.warning("could not remove sidecar subtitle files", exc_info=True)


def note_skipped(rt: Runtime, asset_id: str, skipped: list[str]) -> None:
    """Source subtitle streams the package leaves out (bitmap ones, unconvertible ones): an
    `asset.subtitles_skipped` event says which and why; the asset itself is fine."""
    if skipped:
        rt.catalog.update_asset(
            asset_id,
            event_type="asset.subtitles_skipped",
            event_data={"skipped": skipped[:MAX_NOTES]},
        )
