"""The ingest API of the AWS shape behind API Gateway: the same routes, requests and answers
as the local server's `/api/v1/uploads/*` (Uppy's @uppy/aws-s3 multipart protocol), with the
parts going straight to S3 through presigned `UploadPart` URLs. Completing an upload
assembles the object; its `Object Created` event starts the state machine (start.py), in an
execution named after the asset, which is what `execution_id` says.

Who may call it is the HTTP API's authorizer's business (the stack's), not this handler's."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from primevod.adapters.aws.dynamo_uploads import DynamoUploads
from primevod.aws.handlers.context import client, config
from primevod.aws.handlers.http import HttpError, Request, error, field_of, request, response
from primevod.core.assets import utcnow
from primevod.core.errors import NotFound
from primevod.core.layout import new_asset_id, source_key
from primevod.core.storage import MAX_PARTS
from primevod.core.uploads import UploadRejected, UploadSession, check_upload, plan_parts

BASE = "/api/v1/uploads"


def _limit(name: str, default: int) -> int:
    return int(os.environ.get(f"PRIMEVOD_UPLOAD_{name}", default))


def limits() -> dict[str, int]:
    return {
        "part_size": _limit("PART_SIZE", 16 * 2**20),
        "min_part_size": _limit("MIN_PART_SIZE", 5 * 2**20),
        "max_bytes": _limit("MAX_BYTES", 50 * 2**30),
        "max_parts": MAX_PARTS,
    }


def _uploads() -> DynamoUploads:
    return DynamoUploads(config().assets_table, client("dynamodb"))


def _session(data: dict[str, Any], *, open_only: bool = True) -> UploadSession:
    upload_id, key = field_of(data, "upload_id", str), field_of(data, "key", str)
    try:
        session = _uploads().get(upload_id)
    except NotFound:
        raise HttpError(404, f"no upload {upload_id}") from None
    if session.key != key:
        raise HttpError(404, f"upload {upload_id} is not for key {key}")
    if open_only and session.status != "open":
        raise HttpError(404, f"upload {upload_id} is {session.status}")
    return session


def init(req: Request) -> dict[str, Any]:
    data, lim = req.json(), limits()
    size = field_of(data, "size", int)
    try:
        name = check_upload(
            field_of(data, "filename", str),
            str(data.get("content_type") or ""),
            size,
            lim["max_bytes"],
        )
    except UploadRejected as exc:
        raise HttpError(400, str(exc)) from None
    part_size, parts = plan_parts(size, lim["min_part_size"], lim["part_size"])
    asset_id = new_asset_id()
    key = source_key(asset_id, name)
    created = client("s3").create_multipart_upload(
        Bucket=config().source_bucket,
        Key=key,
        ContentType=str(data.get("content_type")),
        Metadata={"asset-id": asset_id},
    )
    now = utcnow()
    metadata = data.get("metadata") or {}
    session = UploadSession(
        upload_id=created["UploadId"],
        key=key,
        asset_id=asset_id,
        filename=name,
        content_type=str(data.get("content_type")),
        size=size,
        part_size=part_size,
        max_parts=parts,
        metadata={str(k): str(v) for k, v in metadata.items()},
        created_at=now,
        expires_at=now + timedelta(hours=_limit("TTL_HOURS", 24)),
    )
    _uploads().create(session)
    return {
        "upload_id": session.upload_id,
        "key": key,
        "part_size": part_size,
        "max_parts": parts,
        "expires_at": session.expires_at.isoformat(),
    }


def sign_part(req: Request) -> dict[str, Any]:
    data = req.json()
    session = _session(data)
    number = field_of(data, "part_number", int, low=1, high=session.max_parts)
    lifetime = _limit("URL_SECONDS", 3600)
    url = client("s3").generate_presigned_url(
        "upload_part",
        Params={
            "Bucket": config().source_bucket,
            "Key": session.key,
            "UploadId": session.upload_id,
            "PartNumber": number,
        },
        ExpiresIn=lifetime,
    )
    return {"url": url, "headers": {}, "expires_at": int(utcnow().timestamp()) + lifetime}


def list_parts(req: Request) -> list[dict[str, Any]]:
    session = _session({"upload_id": req.path_parameters.get("upload_id"), **req.query})
    s3, parts = client("s3"), []
    marker = 0
    while True:
        page = s3.list_parts(
            Bucket=config().source_bucket,
            Key=session.key,
            UploadId=session.upload_id,
            PartNumberMarker=marker,
        )
        parts += [
            {"PartNumber": p["PartNumber"], "ETag": p["ETag"], "Size": p["Size"]}
            for p in page.get("Parts", [])
        ]
        if not page.get("IsTruncated"):
            return parts
        marker = int(page["NextPartNumberMarker"])


def complete(req: Request) -> dict[str, Any]:
    data = req.json()
    session = _session(data, open_only=False)
    if session.status == "completed":
        return _completed(session)
    if session.status != "open":
        raise HttpError(404, f"upload {session.upload_id} is {session.status}")
    parts = data.get("parts")
    if not isinstance(parts, list) or not parts:
        raise HttpError(422, "parts: a list of {PartNumber, ETag} is required")
    s3 = client("s3")
    try:
        s3.complete_multipart_upload(
            Bucket=config().source_bucket,
            Key=session.key,
            UploadId=session.upload_id,
            MultipartUpload={
                "Parts": [
                    {"PartNumber": int(p["PartNumber"]), "ETag": str(p["ETag"])} for p in parts
                ]
            },
        )
    except (KeyError, TypeError, ValueError):
        raise HttpError(422, "parts: each needs PartNumber and ETag") from None
    except s3.exceptions.ClientError as exc:
        raise HttpError(400, exc.response["Error"].get("Message", "cannot complete")) from None
    done = _uploads().move(
        session.upload_id, "open", status="completed", execution_id=session.asset_id
    )
    return _completed(done or _uploads().get(session.upload_id))


def _completed(session: UploadSession) -> dict[str, Any]:
    return {
        "asset_id": session.asset_id,
        "execution_id": session.execution_id,
        "location": f"{config().source_bucket}/{session.key}",
    }


def abort(req: Request) -> None:
    session = _session(req.json())
    s3 = client("s3")
    with contextlib.suppress(s3.exceptions.NoSuchUpload):  # already gone: aborted all the same
        s3.abort_multipart_upload(
            Bucket=config().source_bucket, Key=session.key, UploadId=session.upload_id
        )
    _uploads().move(session.upload_id, "open", status="aborted")


ROUTES: dict[tuple[str, str], tuple[Callable[[Request], Any], int]] = {
    ("GET", "config"): (lambda _: limits(), 200),
    ("POST", "init"): (init, 201),
    ("POST", "signPart"): (sign_part, 200),
    ("POST", "complete"): (complete, 200),
    ("POST", "abort"): (abort, 204),
}


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    req = request(event)
    tail = req.path.removeprefix(BASE).strip("/")
    try:
        if req.method == "GET" and tail.endswith("/parts"):
            upload_id = tail.removesuffix("/parts")
            req = Request(req.method, req.path, req.query, {"upload_id": upload_id}, req.body)
            return response(200, list_parts(req))
        route = ROUTES.get((req.method, tail))
        if route is None:
            raise HttpError(404, f"no route {req.method} {req.path}")
        call, status = route
        result = call(req)
        return response(status, None if status == 204 else result)
    except HttpError as exc:
        return error(exc)
