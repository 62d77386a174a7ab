"""Creating an asset: the one way an upload's completion, the drop folder and the CLI record
a new source in the catalog (id scheme and source key from core/layout.py)."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from primevod.core.assets import Asset
from primevod.observability import tracing
from primevod.ports.catalog import Catalog


def create_asset(
    catalog: Catalog,
    *,
    asset_id: str,
    source_bucket: str,
    source_key: str,
    title: str | None = None,
    metadata: dict[str, Any] | None = None,
    source_size: int | None = None,
    description: str | None = None,
    tags: list[str] | None = None,
) -> Asset:
    """Record the asset (event `asset.created`); its title defaults to the file's stem, and
    its metadata carries the trace that started it (a new root unless one is given)."""
    meta = dict(metadata or {})
    if "trace_id" not in meta:
        meta.update(tracing.origin())
    return catalog.create_asset(
        Asset(
            id=asset_id,
            title=title or PurePosixPath(source_key).stem,
            description=description,
            tags=tags or [],
            metadata=meta,
            source_bucket=source_bucket,
            source_key=source_key,
            source_size=source_size,
        )
    )
