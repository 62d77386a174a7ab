"""AWS S3 and S3-compatible stores through boto3."""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from primevod.core.storage import (
    MAX_PARTS,
    MIN_PART_SIZE,
    InvalidPart,
    ObjectInfo,
    ObjectNotFound,
    PartInfo,
    StoreError,
    UploadInfo,
    UploadNotFound,
    guess_type,
    validate_bucket,
    validate_key,
    validate_prefix,
)

_NOT_FOUND = {"404", "NoSuchKey", "NotFound", "NoSuchVersion"}
_BAD_PART = {"InvalidPart", "InvalidPartOrder", "EntityTooSmall", "MalformedXML"}
_BUCKET_TAKEN = {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}


def _delete_objects_content_md5(params: dict[str, Any], **_: Any) -> None:
    """DeleteObjects with a Content-MD5 header: boto3 >= 1.36 sends only its CRC32 checksum,
    and S3-compatible servers (Swift's s3api among them) refuse the request without it."""
    body = params.get("body") or b""
    if isinstance(body, str):
        body = body.encode()
    if isinstance(body, bytes | bytearray):
        digest = hashlib.md5(body, usedforsecurity=False).digest()
        params["headers"]["Content-MD5"] = base64.b64encode(digest).decode("ascii")


_SSE_CALLS = ("PutObject", "CreateMultipartUpload", "CopyObject")


def _sse_kms(kms_key_id: str) -> Any:
    """A parameter hook: SSE-KMS under this key on every call that writes an object (direct
    puts, upload_file's puts and multipart uploads, copies)."""

    def add(params: dict[str, Any], **_: Any) -> None:
        params.setdefault("ServerSideEncryption", "aws:kms")
        params.setdefault("SSEKMSKeyId", kms_key_id)

    return add


class S3ObjectStore:
    def __init__(
        self,
        *,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        max_attempts: int = 5,
        client: Any = None,
        kms_key_id: str | None = None,
    ) -> None:
        self.client = client or boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=Config(
                retries={"max_attempts": max_attempts, "mode": "standard"},
                s3={"addressing_style": "path"},
                signature_version="s3v4",
            ),
        )
        self.client.meta.events.register(
            "before-call.s3.DeleteObjects",
            _delete_objects_content_md5,
            unique_id="primevod-delete-objects-content-md5",
        )
        if kms_key_id:  # encryption at rest on S3 is S3's own (SSE-KMS), not the envelope
            for call in _SSE_CALLS:
                self.client.meta.events.register(
                    f"before-parameter-build.s3.{call}",
                    _sse_kms(kms_key_id),
                    unique_id=f"primevod-sse-kms-{call}",
                )

    @staticmethod
    def _error(exc: ClientError, what: str) -> StoreError:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in _NOT_FOUND:
            return ObjectNotFound(f"no object {what}")
        if code == "NoSuchUpload":
            return UploadNotFound(f"no upload for {what}")
        if code in _BAD_PART:
            return InvalidPart(f"{what}: {exc.response['Error'].get('Message', code)}")
        return StoreError(f"{what}: {code} {exc.response['Error'].get('Message', '')}")

    def _info(self, bucket: str, key: str, head: dict[str, Any]) -> ObjectInfo:
        return ObjectInfo(
            bucket=bucket,
            key=key,
            size=int(head.get("ContentLength", head.get("Size", 0))),
            etag=head["ETag"],
            content_type=head.get("ContentType", "application/octet-stream"),
            metadata=head.get("Metadata", {}),
            last_modified=head["LastModified"],
            version_id=head.get("VersionId") if head.get("VersionId") != "null" else None,
            storage_class=head.get("StorageClass") or "STANDARD",  # S3 omits STANDARD
        )

    def ensure_bucket(self, bucket: str, *, versioning: bool = False) -> None:
        validate_bucket(bucket)
        try:
            self.client.head_bucket(Bucket=bucket)
        except ClientError:
            try:
                self.client.create_bucket(Bucket=bucket)
            except ClientError as exc:
                # several workers start at once: another one may have created it meanwhile
                if exc.response.get("Error", {}).get("Code") not in _BUCKET_TAKEN:
                    raise
                try:
                    self.client.head_bucket(Bucket=bucket)  # ours, then
                except ClientError:
                    raise exc from None
        if versioning:
            self.client.put_bucket_versioning(
                Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}
            )

    def put(
        self,
        bucket: str,
        key: str,
        data: bytes | BinaryIO,
        *,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> ObjectInfo:
        validate_bucket(bucket)
        validate_key(key)
        body = data if isinstance(data, bytes | bytearray) else data.read()
        try:
            self.client.put_object(
                Bucket=bucket,
                Key=key,
                Body=body,
                ContentType=content_type or guess_type(key),
                Metadata={k.lower(): v for k, v in (metadata or {}).items()},
            )
        except ClientError as exc:
            raise self._error(exc, f"{bucket}/{key}") from None
        return self.head(bucket, key)

    def put_file(
        self,
        bucket: str,
        key: str,
        path: Path,
        *,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> ObjectInfo:
        validate_bucket(bucket)
        validate_key(key)
        try:
            self.client.upload_file(
                str(path),
                bucket,
                key,
                ExtraArgs={
                    "ContentType": content_type or guess_type(key),
                    "Metadata": {k.lower(): v for k, v in (metadata or {}).items()},
                },
            )
        except ClientError as exc:
            raise self._error(exc, f"{bucket}/{key}") from None
        return self.head(bucket, key)

    def head(self, bucket: str, key: str) -> ObjectInfo:
        validate_key(key)
        try:
            return self._info(bucket, key, self.client.head_object(Bucket=bucket, Key=key))
        except ClientError as exc:
            raise self._error(exc, f"{bucket}/{key}") from None

    def exists(self, bucket: str, key: str) -> bool:
        try:
            self.head(bucket, key)
        except ObjectNotFound:
            return False
        return True

    def get(self, bucket: str, key: str) -> bytes:
        validate_key(key)
        try:
            return self.client.get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError as exc:
            raise self._error(exc, f"{bucket}/{key}") from None

    def get_range(self, bucket: str, key: str, start: int, end: int) -> bytes:
        validate_key(key)
        try:
            return self.client.get_object(Bucket=bucket, Key=key, Range=f"bytes={start}-{end}")[
                "Body"
            ].read()
        except ClientError as exc:
            raise self._error(exc, f"{bucket}/{key}") from None

    def download(self, bucket: str, key: str, path: Path) -> ObjectInfo:
        info = self.head(bucket, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # a name of its own: two downloads of the same key never write one file
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            self.client.download_file(bucket, key, str(tmp))
        except ClientError as exc:
            raise self._error(exc, f"{bucket}/{key}") from None
        tmp.replace(path)
        return info

    def list(self, bucket: str, prefix: str = "") -> Iterator[ObjectInfo]:
        validate_prefix(prefix)
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                # from the listing itself: no request per object (content type guessed from
                # the key; user metadata needs head())
                yield ObjectInfo(
                    bucket=bucket,
                    key=item["Key"],
                    size=int(item["Size"]),
                    etag=item["ETag"],
                    content_type=guess_type(item["Key"]),
                    last_modified=item["LastModified"],
                    storage_class=item.get("StorageClass") or "STANDARD",
                )

    def list_versions(self, bucket: str, key: str) -> list[ObjectInfo]:
        validate_key(key)
        result = self.client.list_object_versions(Bucket=bucket, Prefix=key)
        out = []
        for v in result.get("Versions", []):
            if v["Key"] != key:
                continue
            head = self.client.head_object(Bucket=bucket, Key=key, VersionId=v["VersionId"])
            out.append(self._info(bucket, key, head))
        return out

    def delete(self, bucket: str, key: str) -> None:
        validate_key(key)
        self.client.delete_object(Bucket=bucket, Key=key)

    def delete_prefix(self, bucket: str, prefix: str) -> int:
        keys = [o.key for o in self.list(bucket, prefix)]
        for start in range(0, len(keys), 1000):
            batch = [{"Key": k} for k in keys[start : start + 1000]]
            self.client.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
        return len(keys)

    def create_multipart(
        self,
        bucket: str,
        key: str,
        *,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> str:
        validate_bucket(bucket)
        validate_key(key)
        result = self.client.create_multipart_upload(
            Bucket=bucket,
            Key=key,
            ContentType=content_type or guess_type(key),
            Metadata={k.lower(): v for k, v in (metadata or {}).items()},
        )
        return str(result["UploadId"])

    def upload_part(
        self, bucket: str, key: str, upload_id: str, part_number: int, data: bytes
    ) -> PartInfo:
        if not 1 <= part_number <= MAX_PARTS:
            raise InvalidPart(f"part number {part_number} is not in 1..{MAX_PARTS}")
        try:
            result = self.client.upload_part(
                Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=part_number, Body=data
            )
        except ClientError as exc:
            error = self._error(exc, f"{bucket}/{key} upload {upload_id}")
            if type(error) is StoreError:
                # some S3-compatible servers answer 500 for an unknown upload id: ask plainly
                self.list_parts(bucket, key, upload_id)
            raise error from None
        return PartInfo(part_number=part_number, etag=result["ETag"], size=len(data))

    def list_parts(self, bucket: str, key: str, upload_id: str) -> list[PartInfo]:
        try:
            result = self.client.list_parts(Bucket=bucket, Key=key, UploadId=upload_id)
        except ClientError as exc:
            raise self._error(exc, f"{bucket}/{key} upload {upload_id}") from None
        return [
            PartInfo(part_number=p["PartNumber"], etag=p["ETag"], size=p["Size"])
            for p in result.get("Parts", [])
        ]

    def complete_multipart(
        self, bucket: str, key: str, upload_id: str, parts: list[tuple[int, str]]
    ) -> ObjectInfo:
        if not parts:
            raise InvalidPart("a multipart upload needs at least one part")
        numbers = [n for n, _ in parts]
        if numbers != sorted(numbers) or len(set(numbers)) != len(numbers):
            raise InvalidPart("parts must be listed in ascending order, each once")
        # Check against the stored parts first: the same errors as the local store, and no
        # reliance on how an S3-compatible server words (or fails) its own checks.
        stored = {p.part_number: p for p in self.list_parts(bucket, key, upload_id)}
        for index, (number, etag) in enumerate(parts):
            part = stored.get(number)
            if part is None:
                raise InvalidPart(f"part {number} was not uploaded")
            if part.etag.strip('"') != etag.strip('"'):
                raise InvalidPart(f"part {number}: ETag {etag} does not match")
            if index < len(parts) - 1 and part.size < MIN_PART_SIZE:
                raise InvalidPart(
                    f"part {number} is {part.size} bytes; every part but the last must be at "
                    f"least {MIN_PART_SIZE} bytes"
                )
        try:
            self.client.complete_multipart_upload(
                Bucket=bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={
                    "Parts": [
                        {"PartNumber": n, "ETag": e if e.startswith('"') else f'"{e}"'}
                        for n, e in parts
                    ]
                },
            )
        except ClientError as exc:
            raise self._error(exc, f"{bucket}/{key} upload {upload_id}") from None
        return self.head(bucket, key)

    def abort_multipart(self, bucket: str, key: str, upload_id: str) -> None:
        try:
            self.client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
        except ClientError as exc:
            raise self._error(exc, f"{bucket}/{key} upload {upload_id}") from None

    def list_multipart_uploads(self, bucket: str) -> list[UploadInfo]:
        result = self.client.list_multipart_uploads(Bucket=bucket)
        return [
            UploadInfo(
                bucket=bucket, key=u["Key"], upload_id=u["UploadId"], initiated=u["Initiated"]
            )
            for u in result.get("Uploads", [])
        ]

    def presign_upload_part(
        self, bucket: str, key: str, upload_id: str, part_number: int, expires_in: int
    ) -> str:
        """A URL a browser PUTs one part's bytes to, straight into S3."""
        return str(
            self.client.generate_presigned_url(
                "upload_part",
                ExpiresIn=expires_in,
                Params={
                    "Bucket": bucket,
                    "Key": key,
                    "UploadId": upload_id,
                    "PartNumber": part_number,
                },
            )
        )
