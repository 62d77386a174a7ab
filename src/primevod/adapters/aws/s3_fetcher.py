"""The package validator's Fetcher over S3: a package under a prefix of a bucket, read with
ranged-free GETs and sized with HEADs (what the AWS shape's validate task reads)."""

from __future__ import annotations

import posixpath
from typing import Any


class S3Fetcher:
    def __init__(self, client: Any, bucket: str, prefix: str) -> None:
        self.client, self.bucket, self.prefix = client, bucket, prefix

    def _key(self, uri: str) -> str:
        path = posixpath.normpath(uri)
        if path.startswith(("/", "..")):
            raise OSError(f"outside the package: {uri}")
        return self.prefix + path

    def read(self, uri: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(uri))["Body"].read()
        except self.client.exceptions.NoSuchKey as exc:
            raise OSError(f"missing: {uri}") from exc

    def size(self, uri: str) -> int:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self._key(uri))
        except self.client.exceptions.ClientError as exc:
            raise OSError(f"missing: {uri}") from exc
        return int(head["ContentLength"])
