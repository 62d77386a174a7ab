"""What a person says about an asset: its title, description, tags and free-form metadata,
checked the same way at upload, at `primevod process` and on PATCH, with the limits that keep
one asset's words from becoming a storage or search problem."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, Field, field_validator

MAX_TITLE = 500
MAX_DESCRIPTION = 5000
MAX_TAGS = 32
MAX_TAG = 64
MAX_METADATA_BYTES = 16 * 1024
# keys of `metadata` the system sets itself (the ladder policy, the collection the access
# policies read, the budget's override, the content protection, the stored sidecar subtitle
# files the encoder reads and the asset's deletion removes): never through PATCH
RESERVED_METADATA = frozenset(
    {"ladder", "collection", "budget_override", "encryption", "subtitles"}
)


class DetailsError(ValueError):
    """A detail over its limit or of the wrong shape (the message says which)."""


def clean_tags(tags: list[str]) -> list[str]:
    """Tags trimmed, empty ones dropped, duplicates (ignoring case) once, in order."""
    seen: dict[str, str] = {}
    for tag in tags:
        tag = " ".join(str(tag).split())
        if not tag:
            continue
        if len(tag) > MAX_TAG:
            raise DetailsError(f"tag longer than {MAX_TAG} characters: {tag[:20]}...")
        seen.setdefault(tag.casefold(), tag)
    if len(seen) > MAX_TAGS:
        raise DetailsError(f"more than {MAX_TAGS} tags")
    return list(seen.values())


def check_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """A JSON object of at most MAX_METADATA_BYTES, none of the reserved keys."""
    reserved = sorted(RESERVED_METADATA & set(metadata))
    if reserved:
        raise DetailsError(f"metadata keys set by the system: {', '.join(reserved)}")
    size = len(json.dumps(metadata, separators=(",", ":")).encode())
    if size > MAX_METADATA_BYTES:
        raise DetailsError(f"metadata is {size} bytes as JSON; at most {MAX_METADATA_BYTES}")
    return metadata


def merge_metadata(current: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """RFC 7396 at the top level: a key set to null is removed, others replace; the system's
    keys stay as they are."""
    # a reserved key is refused set to null too: removing it is changing it
    check_metadata({k: v for k, v in patch.items() if v is not None or k in RESERVED_METADATA})
    merged = {k: v for k, v in current.items()}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    user = {k: v for k, v in merged.items() if k not in RESERVED_METADATA}
    check_metadata(user)
    return merged


class DetailsPatch(BaseModel):
    """PATCH /api/v1/assets/{id}: the fields given change, the others stay."""

    title: str | None = Field(None, min_length=1, max_length=MAX_TITLE)
    description: str | None = Field(None, max_length=MAX_DESCRIPTION)
    tags: list[str] | None = None
    metadata: dict[str, Any] | None = Field(
        None, description="merged: a key set to null is removed"
    )

    @field_validator("tags")
    @classmethod
    def _tags(cls, tags: list[str] | None) -> list[str] | None:
        return None if tags is None else clean_tags(tags)


DETAIL_KEYS = ("title", "description", "tags")


def split_details(metadata: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """An upload's metadata as (the asset's fields: title, description, tags; the rest).
    Uploads carry the fields in their metadata, as clients of the first API did the title."""
    fields = {k: metadata[k] for k in DETAIL_KEYS if metadata.get(k) not in (None, "", [])}
    return fields, {k: v for k, v in metadata.items() if k not in DETAIL_KEYS}


def check_upload_details(
    title: str | None, description: str | None, tags: list[str] | None, metadata: dict[str, Any]
) -> dict[str, Any]:
    """The metadata an upload starts with: its user part within the limits, and the given
    title, description and (cleaned) tags folded in."""
    if title is not None and not 0 < len(title) <= MAX_TITLE:
        raise DetailsError(f"title must be 1 to {MAX_TITLE} characters")
    if description is not None and len(description) > MAX_DESCRIPTION:
        raise DetailsError(f"description longer than {MAX_DESCRIPTION} characters")
    user = {k: v for k, v in metadata.items() if k not in RESERVED_METADATA}
    size = len(json.dumps(user, separators=(",", ":"), default=str).encode())
    if size > MAX_METADATA_BYTES:
        raise DetailsError(f"metadata is {size} bytes as JSON; at most {MAX_METADATA_BYTES}")
    merged = dict(metadata)
    for key, value in (("title", title), ("description", description)):
        if value is not None:
            merged[key] = value
    if tags is not None or "tags" in merged:
        given = tags if tags is not None else merged["tags"]
        if not isinstance(given, list):
            raise DetailsError("tags must be a list of strings")
        merged["tags"] = clean_tags([str(t) for t in given])
    return merged
