"""Asset routes: pages of the library, one asset, its executions (and one execution by id),
retry, cancel and delete."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from pydantic import BaseModel

from primevod.api.auth import caller, readable_asset
from primevod.api.budget import budget_metadata
from primevod.api.deps import RuntimeDep
from primevod.core.access import Principal, listable
from primevod.core.assets import Asset, AssetStatus, Execution, SortOrder
from primevod.core.errors import MediaError, NotFound
from primevod.pipeline import workflows

router = APIRouter()


class AssetPage(BaseModel):
    items: list[Asset]
    next_cursor: str | None


@router.get("/api/v1/assets", response_model=AssetPage, tags=["assets"])
def list_assets(
    rt: RuntimeDep,
    status: AssetStatus | None = None,
    limit: int = Query(50, ge=1, le=500),
    cursor: str | None = None,
    order: SortOrder = Query("desc", description="by creation time: desc newest first, asc oldest"),
    principal: Principal = Depends(caller),
) -> AssetPage:
    """A page of the library by creation time, newest first (or oldest, `order=asc`): the
    assets the caller's policy lets it list (a page may hold fewer than `limit` when the
    policy hides some; follow `next_cursor`, with the same `order`)."""
    try:
        page = rt.catalog.list_assets(
            status=status.value if status else None, limit=limit, cursor=cursor, order=order
        )
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    return AssetPage(items=listable(principal, page.items), next_cursor=page.next_cursor)


@router.get("/api/v1/assets/{asset_id}", response_model=Asset, tags=["assets"])
def get_asset(rt: RuntimeDep, asset_id: str, principal: Principal = Depends(caller)) -> Asset:
    return readable_asset(rt, principal, "assets:Get", asset_id)


@router.get("/api/v1/assets/{asset_id}/executions", response_model=list[Execution], tags=["assets"])
def asset_executions(
    rt: RuntimeDep, asset_id: str, principal: Principal = Depends(caller)
) -> list[Execution]:
    readable_asset(rt, principal, "executions:Get", asset_id)
    return rt.catalog.list_executions(asset_id)


@router.post("/api/v1/assets/{asset_id}/retry", status_code=202, tags=["assets"])
def retry_asset(
    rt: RuntimeDep,
    asset_id: str,
    override_budget: bool = Query(False, description="admin only: pass the monthly budget"),
    principal: Principal = Depends(caller),
) -> dict[str, str]:
    asset = readable_asset(rt, principal, "assets:Retry", asset_id)
    metadata = budget_metadata(rt, principal, asset.metadata, override_budget)
    if metadata != asset.metadata:
        rt.catalog.update_asset(asset_id, metadata=metadata)
    try:
        execution = workflows.retry(rt, asset_id)
    except MediaError as exc:  # source.expired
        raise HTTPException(409, f"{exc.code}: {exc.message}") from None
    except ValueError as exc:
        raise HTTPException(409, str(exc)) from None
    return {"asset_id": asset_id, "execution_id": execution}


@router.post("/api/v1/assets/{asset_id}/cancel", tags=["assets"])
def cancel_asset(
    rt: RuntimeDep, asset_id: str, principal: Principal = Depends(caller)
) -> dict[str, str]:
    readable_asset(rt, principal, "assets:Cancel", asset_id)
    execution = workflows.cancel(rt, asset_id)
    if execution is None:
        raise HTTPException(409, f"asset {asset_id} has no running workflow")
    return {"asset_id": asset_id, "cancelled": execution}


@router.delete("/api/v1/assets/{asset_id}", status_code=204, tags=["assets"])
def delete_asset(rt: RuntimeDep, asset_id: str, principal: Principal = Depends(caller)) -> Response:
    readable_asset(rt, principal, "assets:Delete", asset_id)
    workflows.delete(rt, asset_id)
    return Response(status_code=204)


@router.get("/api/v1/executions/{execution_id}", response_model=Execution, tags=["executions"])
def get_execution(
    rt: RuntimeDep, execution_id: str, principal: Principal = Depends(caller)
) -> Execution:
    try:
        execution = rt.catalog.get_execution(execution_id)
    except NotFound:
        raise HTTPException(404, f"no execution {execution_id}") from None
    try:
        readable_asset(rt, principal, "executions:Get", execution.asset_id)
    except HTTPException as exc:
        if exc.status_code == 404:  # the asset is gone, or hidden from this key
            raise HTTPException(404, f"no execution {execution_id}") from None
        raise
    return execution
