"""The optional search indexer (context `primevod:search`): the assets table's DynamoDB
stream (new images) to the OpenSearch domain, one `_bulk` request per batch of records.

    INSERT, MODIFY  {"index": {"_id": <asset id>}} and the asset's search document
    REMOVE          {"delete": {"_id": <asset id>}}

Only assets are indexed: the table's other items have ids `<kind>#<id>` (`key#...` API
keys, `upload#...` upload sessions) and are skipped. Attribute values are read with boto3's
TypeDeserializer; the document is a flat subset of the asset's record (its JSON in
`record`), with `metadata` values as strings so that one asset's metadata cannot break
another's mapping.

The request goes to `<endpoint>/<index>/_bulk` (the index in the path, so the domain's
policy can name it), signed with SigV4 for the `es` service with the function's
credentials (botocore's SigV4Auth on an AWSRequest), and sent with httpx.

Failures: items the bulk answer reports failed (a delete of a document that is not there
is no failure) come back as `batchItemFailures` (the event source mapping reports batch
item failures, so Lambda retries from the earliest of them); a request that fails as a
whole raises, and the mapping retries it, halving the batch, until the record is a day old
and goes to the dead-letter queue."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import boto3
import httpx
from boto3.dynamodb.types import TypeDeserializer
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

SERVICE = "es"  # SigV4's service name for OpenSearch Service domains
DEFAULT_INDEX = "assets"
CONTENT_TYPE = "application/x-ndjson"
TIMEOUT_SECONDS = 30.0
# the record's fields a search needs (the rest, probe and ladder, stays in the table)
DOCUMENT_FIELDS = (
    "title",
    "status",
    "source_key",
    "source_size",
    "duration",
    "output_prefix",
    "hls_path",
    "dash_path",
    "execution_id",
    "created_at",
    "updated_at",
)
_deserializer = TypeDeserializer()


@dataclass(frozen=True)
class Action:
    """One stream record as a bulk action: a document to index, or None to delete."""

    sequence_number: str
    asset_id: str
    document: dict[str, Any] | None


def deserialize(image: Mapping[str, Any]) -> dict[str, Any]:
    """A stream image (DynamoDB attribute values) as plain Python values."""
    return {name: _deserializer.deserialize(value) for name, value in image.items()}


def search_document(item: Mapping[str, Any]) -> dict[str, Any]:
    """The document of an asset item: its record's searchable fields, the error's code."""
    raw = item.get("record")
    record: dict[str, Any] = json.loads(raw) if isinstance(raw, str) else {}
    document: dict[str, Any] = {"id": str(item["id"])}
    for field in DOCUMENT_FIELDS:
        value = record.get(field, item.get(field))
        if value is not None:
            document[field] = value
    error = record.get("error") or {}
    if error.get("code"):
        document["error_code"] = error["code"]
    metadata = record.get("metadata") or {}
    if metadata:
        document["metadata"] = {
            str(k): v if isinstance(v, str) else json.dumps(v, default=_json_value)
            for k, v in metadata.items()
        }
    return document


def actions(records: Iterable[Mapping[str, Any]]) -> list[Action]:
    """The bulk actions of a batch of stream records, in stream order."""
    found = []
    for record in records:
        change = record["dynamodb"]
        asset_id = str(deserialize(change["Keys"])["id"])
        if "#" in asset_id:  # key#..., upload#...: not an asset
            continue
        sequence = str(change["SequenceNumber"])
        if record["eventName"] == "REMOVE":
            found.append(Action(sequence, asset_id, None))
        else:  # INSERT, MODIFY
            document = search_document(deserialize(change["NewImage"]))
            found.append(Action(sequence, asset_id, document))
    return found


def bulk_body(batch: Iterable[Action]) -> bytes:
    """The `_bulk` request's body: newline-delimited JSON, ending with a newline."""
    lines: list[dict[str, Any]] = []
    for action in batch:
        if action.document is None:
            lines.append({"delete": {"_id": action.asset_id}})
        else:
            lines += [{"index": {"_id": action.asset_id}}, action.document]
    return "".join(
        json.dumps(line, default=_json_value, separators=(",", ":")) + "\n" for line in lines
    ).encode()


def signed_headers(url: str, body: bytes, region: str, credentials: Any) -> dict[str, str]:
    """The headers of a SigV4-signed POST of `body` to `url` (Authorization, X-Amz-Date,
    and X-Amz-Security-Token with temporary credentials such as a Lambda role's)."""
    request = AWSRequest(method="POST", url=url, data=body, headers={"Content-Type": CONTENT_TYPE})
    SigV4Auth(credentials, SERVICE, region).add_auth(request)
    return dict(request.headers.items())


def failed_items(batch: list[Action], answer: Mapping[str, Any]) -> list[str]:
    """Sequence numbers of the actions the bulk answer reports failed."""
    items = answer.get("items", [])
    if len(items) != len(batch):
        raise RuntimeError(f"the bulk answer has {len(items)} items for {len(batch)} actions")
    failed = []
    for action, item in zip(batch, items, strict=True):
        [(operation, result)] = item.items()
        status = int(result.get("status", 500))
        if status < 300 or (operation == "delete" and status == 404):
            continue
        failed.append(action.sequence_number)
    return failed


def handler(event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
    batch = actions(event.get("Records", []))
    if not batch:
        return {"batchItemFailures": []}
    endpoint = os.environ["PRIMEVOD_SEARCH_ENDPOINT"].rstrip("/")
    index = os.environ.get("PRIMEVOD_SEARCH_INDEX", DEFAULT_INDEX)
    region = os.environ.get("AWS_REGION") or os.environ["AWS_DEFAULT_REGION"]
    credentials = boto3.Session().get_credentials()
    if credentials is None:
        raise RuntimeError("no AWS credentials to sign the bulk request with")
    url = f"{endpoint}/{index}/_bulk"
    body = bulk_body(batch)
    headers = signed_headers(url, body, region, credentials.get_frozen_credentials())
    response = httpx.post(url, content=body, headers=headers, timeout=TIMEOUT_SECONDS)
    response.raise_for_status()  # the whole batch again (the mapping retries and bisects)
    failed = failed_items(batch, response.json())
    return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in failed]}


def _json_value(value: Any) -> Any:
    """What json cannot write by itself: DynamoDB's numbers (Decimal), sets, and binary
    values (as text)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    return str(value)
