"""Upload routes: the five calls of Uppy's @uppy/aws-s3 multipart protocol plus the part PUT
that a signed URL points at (embedded default)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from primevod.api.auth import allow, caller, refusal
from primevod.api.budget import budget_metadata
from primevod.api.deps import RuntimeDep
from primevod.core.access import Principal, asset_resources, check_collection
from primevod.core.asset_details import check_upload_details
from primevod.core.content_keys import METADATA_FIELD, check_encryption
from primevod.core.storage import MAX_PARTS, StoreError
from primevod.core.uploads import UploadRejected
from primevod.pipeline import uploads
from primevod.pipeline.runtime import Runtime

router = APIRouter(prefix="/api/v1/uploads", tags=["uploads"])


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


class InitOut(BaseModel):
    upload_id: str
    key: str
    part_size: int
    max_parts: int
    expires_at: str


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


@router.post("/init", response_model=InitOut, status_code=201)
def init(rt: RuntimeDep, body: InitIn, principal: Principal = Depends(caller)) -> InitOut:
    metadata = {**(body.metadata or {})}
    collection = body.collection or metadata.get("collection")
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
    try:
        session = uploads.init(rt, body.filename, body.content_type, body.size, metadata)
    except (UploadRejected, StoreError) as exc:
        raise _http(exc) from None
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
