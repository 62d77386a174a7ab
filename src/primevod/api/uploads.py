"""Upload routes: the five calls of Uppy's @uppy/aws-s3 multipart protocol plus the part PUT
that a signed URL points at (embedded default), and the caller's recent uploads with the
status of the asset each became."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from primevod.api.auth import allow, caller, refusal
from primevod.api.budget import budget_metadata
from primevod.api.deps import RuntimeDep
from primevod.core.access import Principal, asset_resources, check_collection
from primevod.core.asset_details import check_upload_details
from primevod.core.assets import Asset, AssetError, AssetStatus
from primevod.core.content_keys import METADATA_FIELD, check_encryption
from primevod.core.errors import NotFound
from primevod.core.storage import MAX_PARTS, StoreError
from primevod.core.subtitles import MAX_SIDECAR_BYTES, MAX_SUBTITLE_TRACKS
from primevod.core.subtitles import METADATA_FIELD as SUBTITLES_FIELD
from primevod.core.uploads import UploadRejected, UploadSession
from primevod.pipeline import subtitle_sidecars, uploads
from primevod.pipeline.runtime import Runtime

router = APIRouter(prefix="/api/v1/uploads", tags=["uploads"])


class SubtitleIn(BaseModel):
    """A sidecar subtitle file sent inline; checked at init (size, UTF-8, WebVTT or SRT)."""

    model_config = ConfigDict(extra="forbid")

    language: str | None = Field(None, max_length=35, description="RFC 5646 tag; default und")
    name: str | None = Field(None, max_length=64, description="menu label; default the tag")
    text: str = Field(max_length=MAX_SIDECAR_BYTES, description="the file's WebVTT or SRT text")


class InitIn(BaseModel):
    filename: str = Field(min_length=1, max_length=1000)
    content_type: str = Field(max_length=200)
    size: int
    title: str | None = Field(None, description="the asset's title (default: the file name)")
    description: str | None = None
    tags: list[str] | None = Field(None, description="at most 32, each at most 64 characters")
    metadata: dict[str, Any] | None = Field(
        None, description="free-form JSON object, at most 16 KiB (searchable values)"
    )
    collection: str | None = Field(
        None, description="place the asset in a collection (keys may be limited to one)"
    )
    override_budget: bool = Field(
        False, description="admin only: start the job even if it takes the month past budget"
    )
    encryption: str | None = Field(
        None, description="none or aes-128: encrypted HLS with signed key delivery (HLS only)"
    )
    subtitles: list[SubtitleIn] | None = Field(
        None,
        max_length=MAX_SUBTITLE_TRACKS,
        description="sidecar subtitles (WebVTT or SRT text), each a subtitle rendition",
    )


class InitOut(BaseModel):
    upload_id: str
    key: str
    part_size: int
    max_parts: int
    expires_at: str


class UploadedAsset(BaseModel):
    """Where the asset an upload became stands now."""

    status: AssetStatus
    progress: float
    title: str | None
    error: AssetError | None
    created_at: datetime


class RecentUpload(BaseModel):
    upload_id: str
    asset_id: str
    filename: str
    size: int
    status: str = Field(description="the upload's: open, completed, aborted or expired")
    created_at: datetime
    asset: UploadedAsset | None = Field(
        None, description="none until the upload completes, or when the asset is gone"
    )


class UploadList(BaseModel):
    items: list[RecentUpload]
    next_cursor: str | None


class SignIn(BaseModel):
    upload_id: str
    key: str
    part_number: int = Field(ge=1, le=MAX_PARTS)


class PartRef(BaseModel):
    PartNumber: int = Field(ge=1, le=MAX_PARTS)
    ETag: str


class CompleteIn(BaseModel):
    upload_id: str
    key: str
    parts: list[PartRef] = Field(min_length=1, max_length=MAX_PARTS)


class AbortIn(BaseModel):
    upload_id: str
    key: str


def _http(exc: Exception) -> HTTPException:
    if isinstance(exc, uploads.UploadGone):
        return HTTPException(404, str(exc))
    if isinstance(exc, PermissionError):
        return HTTPException(403, str(exc))
    if isinstance(exc, UploadRejected):
        return HTTPException(400, str(exc))
    if isinstance(exc, StoreError):
        return HTTPException(400, exc.message)
    raise exc


def upload_to(principal: Principal, collection: str | None) -> None:
    """403 unless the caller may create an asset there (a new asset's names: `asset/*`, and
    `collection/<name>/asset/*` in a collection)."""
    decision = principal.decide("uploads:Create", asset_resources("*", collection))
    if not decision.allowed:
        raise refusal(principal, decision)


def _base_url(rt: Runtime, request: Request) -> str:
    return rt.settings.public_url or str(request.base_url)


def _recent(rt: Runtime, principal: Principal, session: UploadSession) -> RecentUpload:
    asset: Asset | None = None
    if session.status == "completed":
        try:
            asset = rt.catalog.get_asset(session.asset_id)
        except NotFound:  # deleted since
            asset = None
    # the key's policy may have narrowed since it uploaded: a hidden asset shows no status
    if (
        asset
        and not principal.decide("assets:Get", asset_resources(asset.id, asset.collection)).allowed
    ):
        asset = None
    return RecentUpload(
        upload_id=session.upload_id,
        asset_id=session.asset_id,
        filename=session.filename,
        size=session.size,
        status=session.status,
        created_at=session.created_at,
        asset=UploadedAsset(
            status=asset.status,
            progress=asset.progress,
            title=asset.title,
            error=asset.error,
            created_at=asset.created_at,
        )
        if asset
        else None,
    )


@router.get("", response_model=UploadList)
def recent_uploads(
    rt: RuntimeDep,
    limit: int = Query(20, ge=1, le=100),
    cursor: str | None = None,
    principal: Principal = Depends(allow("uploads:List")),
) -> UploadList:
    """The uploads the calling key began, newest first, each with its asset's status and
    progress (what the upload page shows again after a reload); follow `next_cursor`."""
    try:
        page = rt.catalog.list_uploads(principal.key_id, limit=limit, cursor=cursor)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    return UploadList(
        items=[_recent(rt, principal, s) for s in page.items], next_cursor=page.next_cursor
    )


@router.get("/config")
def config(rt: RuntimeDep, _: Principal = Depends(allow("uploads:Create"))) -> dict[str, int]:
    """What a client needs to cut a file the way the server expects."""
    settings = rt.settings
    return {
        "part_size": settings.upload_part_size,
        "min_part_size": settings.upload_min_part_size,
        "max_bytes": settings.upload_max_bytes,
        "max_parts": MAX_PARTS,
    }


def _checked_subtitles(items: list[SubtitleIn]) -> list[subtitle_sidecars.SidecarText]:
    """422 naming the file (`subtitles[n]`) and the line when one is not usable."""
    sidecars = [
        subtitle_sidecars.SidecarText(
            language=item.language, name=item.name, data=item.text.encode("utf-8")
        )
        for item in items
    ]
    try:
        return subtitle_sidecars.check(sidecars)
    except subtitle_sidecars.SidecarInvalid as exc:
        raise HTTPException(422, f"source.subtitles_invalid: {exc}") from None


@router.post("/init", response_model=InitOut, status_code=201)
def init(rt: RuntimeDep, body: InitIn, principal: Principal = Depends(caller)) -> InitOut:
    metadata = {**(body.metadata or {})}
    metadata.pop(SUBTITLES_FIELD, None)  # set below from checked and stored files only
    collection = body.collection or metadata.get("collection")
    sidecars = _checked_subtitles(body.subtitles or [])
    try:
        metadata = check_upload_details(body.title, body.description, body.tags, metadata)
        if collection:
            metadata["collection"] = check_collection(collection)
        encryption = check_encryption(body.encryption or metadata.get(METADATA_FIELD))
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    metadata.pop(METADATA_FIELD, None)
    if encryption:
        metadata[METADATA_FIELD] = encryption
    upload_to(principal, collection)
    metadata = budget_metadata(rt, principal, metadata, body.override_budget)
    if sidecars:
        metadata[SUBTITLES_FIELD] = subtitle_sidecars.store(rt, sidecars)
    try:
        session = uploads.init(
            rt, body.filename, body.content_type, body.size, metadata, owner=principal.key_id
        )
    except Exception as exc:
        # no upload lists the sidecars stored above: they go (abort and expiry remove them
        # for an upload that began)
        subtitle_sidecars.remove_quietly(rt, metadata)
        if isinstance(exc, UploadRejected | StoreError):
            raise _http(exc) from None
        raise
    return InitOut(
        upload_id=session.upload_id,
        key=session.key,
        part_size=session.part_size,
        max_parts=session.max_parts,
        expires_at=session.expires_at.isoformat(),
    )


@router.post("/signPart")
def sign_part(
    rt: RuntimeDep, body: SignIn, request: Request, _: Principal = Depends(allow("uploads:Create"))
) -> dict[str, Any]:
    try:
        return uploads.sign_part(
            rt, body.upload_id, body.key, body.part_number, _base_url(rt, request)
        )
    except (uploads.UploadGone, UploadRejected) as exc:
        raise _http(exc) from None


@router.put("/{upload_id}/parts/{part_number}", include_in_schema=True)
async def put_part(
    rt: RuntimeDep,
    upload_id: str,
    part_number: int,
    request: Request,
    key: str = Query(...),
    expires: int = Query(...),
    sig: str = Query(...),
) -> Response:
    """The target of a signed part URL: authorised by its signature alone."""
    data = await request.body()
    checksum = request.headers.get("x-amz-checksum-sha256")
    try:
        # in a worker thread: hashing, encrypting and writing a part would hold the event
        # loop, and every other request and part with it
        etag = await run_in_threadpool(
            uploads.put_part, rt, upload_id, key, part_number, expires, sig, data, checksum
        )
    except (uploads.UploadGone, PermissionError, UploadRejected, StoreError) as exc:
        raise _http(exc) from None
    return Response(status_code=200, headers={"ETag": etag})


@router.get("/{upload_id}/parts")
def list_parts(
    rt: RuntimeDep,
    upload_id: str,
    key: str = Query(...),
    _: Principal = Depends(allow("uploads:Create")),
) -> list[dict[str, Any]]:
    try:
        return uploads.list_parts(rt, upload_id, key)
    except uploads.UploadGone as exc:
        raise _http(exc) from None


@router.post("/complete")
def complete(
    rt: RuntimeDep, body: CompleteIn, _: Principal = Depends(allow("uploads:Create"))
) -> dict[str, Any]:
    try:
        return uploads.complete(
            rt, body.upload_id, body.key, [(p.PartNumber, p.ETag) for p in body.parts]
        )
    except (uploads.UploadGone, UploadRejected, StoreError) as exc:
        raise _http(exc) from None


@router.post("/abort", status_code=204)
def abort(
    rt: RuntimeDep, body: AbortIn, _: Principal = Depends(allow("uploads:Create"))
) -> Response:
    try:
        uploads.abort(rt, body.upload_id, body.key)
    except uploads.UploadGone as exc:
        raise _http(exc) from None
    return Response(status_code=204)
