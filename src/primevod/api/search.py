"""Finding and describing assets: full-text search over the library (keyset pages, best
first) and PATCH of an asset's title, description, tags and metadata."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel

from primevod.api.auth import caller, readable_asset
from primevod.api.deps import RuntimeDep
from primevod.core.access import Principal, listable
from primevod.core.asset_details import DetailsError, DetailsPatch, merge_metadata
from primevod.core.assets import Asset, AssetStatus
from primevod.core.search import Filters, SearchSyntaxError, parse

router = APIRouter()


class SearchPage(BaseModel):
    items: list[Asset]
    next_cursor: str | None


@router.get("/api/v1/search", response_model=SearchPage, tags=["assets"])
def search(
    rt: RuntimeDep,
    q: str = Query(
        "",
        max_length=500,
        description='words (the last one a prefix; word* too), "phrases", -not, OR',
    ),
    status: AssetStatus | None = None,
    collection: str | None = Query(None, max_length=64),
    min_duration: float | None = Query(None, ge=0),
    max_duration: float | None = Query(None, ge=0),
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    limit: int = Query(20, ge=1, le=100),
    cursor: str | None = Query(None, max_length=400),
    principal: Principal = Depends(caller),
) -> SearchPage:
    """The assets matching `q` and the filters that the caller's policy lets it list, best
    match first (newest first without words); follow `next_cursor` for the next page."""
    try:
        query = parse(q)
    except SearchSyntaxError as exc:
        raise HTTPException(400, f"search.invalid: {exc}") from None
    filters = Filters(
        status=status.value if status else None,
        collection=collection,
        min_duration=min_duration,
        max_duration=max_duration,
        created_after=created_after,
        created_before=created_before,
    )
    try:
        page = rt.catalog.search_assets(query, filters, limit=limit, cursor=cursor)
    except ValueError as exc:  # a cursor not of ours
        raise HTTPException(400, f"search.invalid: {exc}") from None
    return SearchPage(items=listable(principal, page.items), next_cursor=page.next_cursor)


@router.patch("/api/v1/assets/{asset_id}", response_model=Asset, tags=["assets"])
def update_details(
    rt: RuntimeDep, asset_id: str, body: DetailsPatch, principal: Principal = Depends(caller)
) -> Asset:
    """Change the asset's title, description, tags or metadata (merged: a key set to null
    is removed); the search index changes in the same transaction."""
    asset = readable_asset(rt, principal, "assets:Update", asset_id)
    changes = body.model_dump(exclude_unset=True, exclude={"metadata"})
    if body.metadata is not None:
        try:
            changes["metadata"] = merge_metadata(asset.metadata, body.metadata)
        except DetailsError as exc:
            raise HTTPException(400, f"metadata.invalid: {exc}") from None
    if "title" in changes and changes["title"] is None:
        raise HTTPException(400, "title.invalid: a title cannot be removed")
    if not changes:
        return asset
    return rt.catalog.update_asset(asset_id, **changes)
