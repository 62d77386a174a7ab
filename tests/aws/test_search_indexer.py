"""The optional search indexer (handlers/search_indexer.py) against a real HTTP server on
this machine standing in for the OpenSearch domain: it records each request, checks
nothing itself, and answers `_bulk` as OpenSearch does (an item per action). The stream
records come from moto's DynamoDB Streams, written by the project's own adapters (assets,
an API key), so they have the shape and attribute types Lambda hands the function.

What is proven: the bulk body (index, then delete, in stream order; other items skipped),
the SigV4 headers and that their signature is the one botocore computes for the request
the server received; item failures become batchItemFailures; a refused request raises.
What is not: OpenSearch itself (nothing here runs it)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from moto import mock_aws

from primevod.adapters.aws.dynamo_assets import DynamoAssets
from primevod.adapters.aws.dynamo_keys import DynamoKeys
from primevod.aws.handlers import search_indexer
from primevod.core.assets import Asset, AssetError, AssetStatus

REGION = "eu-west-1"
ACCESS_KEY, SECRET_KEY, TOKEN = "AKIDPRIMEVODTEST", "not-a-real-secret", "session-token"


@dataclass
class Received:
    method: str
    path: str
    headers: Message  # names in any case, as HTTP has them
    body: bytes

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.body.decode().splitlines()]


@dataclass
class Domain:
    """The stand-in: its URL, what it received, and how it answers a bulk body."""

    url: str
    received: list[Received] = field(default_factory=list)
    status: int = 200
    item_status: Callable[[str, str], int] = lambda operation, _id: 201


def _bulk_answer(domain: Domain, body: bytes) -> dict[str, Any]:
    items, lines = [], [json.loads(line) for line in body.decode().splitlines()]
    while lines:
        [(operation, meta)] = lines.pop(0).items()
        if operation == "index":
            lines.pop(0)  # the document
        status = domain.item_status(operation, meta["_id"])
        items.append({operation: {"_index": "assets", "_id": meta["_id"], "status": status}})
    return {
        "took": 1,
        "errors": any(i[k]["status"] >= 300 for i in items for k in i),
        "items": items,
    }


@pytest.fixture
def domain() -> Iterator[Domain]:
    state = Domain(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.received.append(Received("POST", self.path, self.headers, body))
            answer = (
                json.dumps(_bulk_answer(state, body))
                if state.status == 200
                else '{"message":"refused"}'
            ).encode()
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, domain: Domain, tmp_path: Any) -> None:
    """What Lambda gives the function: its role's temporary credentials, the region, and
    the stack's settings; nothing of this machine's AWS configuration or proxies."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_SESSION_TOKEN": TOKEN,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        "PRIMEVOD_SEARCH_ENDPOINT": domain.url,
        "PRIMEVOD_SEARCH_INDEX": "assets",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def _asset(asset_id: str, **changes: Any) -> Asset:
    fields: dict[str, Any] = {
        "title": "Big Buck Bunny",
        "source_bucket": "source",
        "source_key": f"uploads/{asset_id}/bbb.mp4",
        "metadata": {"season": 1, "genre": "animation"},
    }
    return Asset(id=asset_id, **{**fields, **changes})


def _stream_records(write: Callable[[DynamoAssets, DynamoKeys], None]) -> list[dict[str, Any]]:
    """The stream records (new images) of what `write` does to an assets table in moto,
    in Lambda's event shape (moto's GetRecords answer is that shape)."""
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        arn = dynamodb.create_table(
            TableName="assets",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        )["TableDescription"]["LatestStreamArn"]
        write(DynamoAssets("assets", dynamodb), DynamoKeys("assets", dynamodb))
        streams = boto3.client("dynamodbstreams", region_name=REGION)
        [shard] = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        return streams.get_records(ShardIterator=iterator)["Records"]


def _a_life(assets: DynamoAssets, keys: DynamoKeys) -> None:
    """An asset created, made ready, a second asset created and failed, the first deleted;
    an API key (not an asset) created in between."""
    assets.create(_asset("a1"))
    keys.create_key("viewer", "player")
    assets.update("a1", status=AssetStatus.READY, hls_path="assets/a1/1/master.m3u8")
    assets.create(_asset("a2", title="Sintel"))
    assets.update(
        "a2",
        status=AssetStatus.FAILED,
        error=AssetError(code="source.unreadable", step="ingest", message="not a video"),
    )
    assets.client.delete_item(TableName="assets", Key={"id": {"S": "a1"}})


def _verify_signature(request: Received, secret_key: str = SECRET_KEY) -> bool:
    """Whether the request's SigV4 signature is botocore's for what the server received."""
    authorization = request.headers["Authorization"]
    scheme, _, rest = authorization.partition(" ")
    assert scheme == "AWS4-HMAC-SHA256"
    parts = dict(part.strip().split("=", 1) for part in rest.split(","))
    headers = {name: request.headers[name] for name in parts["SignedHeaders"].split(";")}
    signed = AWSRequest(
        method=request.method,
        url=f"http://{request.headers['Host']}{request.path}",
        data=request.body,
        headers=headers,
    )
    signed.context["timestamp"] = request.headers["X-Amz-Date"]
    signer = SigV4Auth(Credentials(ACCESS_KEY, secret_key, TOKEN), "es", REGION)
    canonical = signer.canonical_request(signed)
    return parts["Signature"] == signer.signature(signer.string_to_sign(signed, canonical), signed)


def test_a_batch_becomes_one_signed_bulk_request(domain: Domain, environment: None) -> None:
    records = _stream_records(_a_life)
    assert [r["eventName"] for r in records] == [
        "INSERT",
        "INSERT",  # the API key
        "MODIFY",
        "INSERT",
        "MODIFY",
        "REMOVE",
    ]
    result = search_indexer.handler({"Records": records})
    assert result == {"batchItemFailures": []}

    [request] = domain.received
    assert (request.method, request.path) == ("POST", "/assets/_bulk")
    assert request.headers["Content-Type"] == "application/x-ndjson"
    assert request.body.endswith(b"\n")
    actions, documents, lines = [], [], iter(request.lines())
    for line in lines:
        [(operation, meta)] = line.items()
        actions.append((operation, meta["_id"]))
        if operation == "index":
            documents.append(next(lines))
    assert actions == [
        ("index", "a1"),
        ("index", "a1"),
        ("index", "a2"),
        ("index", "a2"),
        ("delete", "a1"),
    ]
    assert [(d["id"], d["status"]) for d in documents] == [
        ("a1", "ingesting"),
        ("a1", "ready"),
        ("a2", "ingesting"),
        ("a2", "failed"),
    ]
    ready, failed = documents[1], documents[3]
    assert ready["title"] == "Big Buck Bunny" and ready["hls_path"] == "assets/a1/1/master.m3u8"
    assert ready["metadata"] == {"season": "1", "genre": "animation"}  # strings: one mapping
    assert failed["error_code"] == "source.unreadable" and failed["title"] == "Sintel"
    assert "probe" not in ready and "record" not in ready


def test_the_request_carries_a_valid_sigv4_signature(domain: Domain, environment: None) -> None:
    search_indexer.handler({"Records": _stream_records(_a_life)})
    [request] = domain.received
    authorization = request.headers["Authorization"]
    date = request.headers["X-Amz-Date"]
    assert authorization.startswith(
        f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/{date[:8]}/{REGION}/es/aws4_request, "
    )
    signed = authorization.split("SignedHeaders=")[1].split(",")[0].split(";")
    assert {"host", "x-amz-date", "x-amz-security-token", "content-type"} <= set(signed)
    assert request.headers["X-Amz-Security-Token"] == TOKEN
    assert _verify_signature(request)
    assert not _verify_signature(request, secret_key="another-secret")  # the check checks


def test_failed_items_are_reported_and_a_missing_document_is_no_failure(
    domain: Domain, environment: None
) -> None:
    records = _stream_records(_a_life)
    domain.item_status = lambda operation, _id: (
        429 if (operation, _id) == ("index", "a2") else 404 if operation == "delete" else 201
    )
    result = search_indexer.handler({"Records": records})
    sequences = {
        r["dynamodb"]["SequenceNumber"]
        for r in records
        if r["eventName"] != "REMOVE" and r["dynamodb"]["Keys"]["id"]["S"] == "a2"
    }
    assert {f["itemIdentifier"] for f in result["batchItemFailures"]} == sequences


def test_a_refused_request_fails_the_whole_batch(domain: Domain, environment: None) -> None:
    domain.status = 403
    with pytest.raises(httpx.HTTPStatusError):
        search_indexer.handler({"Records": _stream_records(_a_life)})
    assert len(domain.received) == 1


def test_a_batch_without_assets_sends_nothing(domain: Domain, environment: None) -> None:
    records = _stream_records(lambda _assets, keys: keys.create_key("admin"))
    assert search_indexer.handler({"Records": records}) == {"batchItemFailures": []}
    assert domain.received == []


def test_attribute_values_are_read_with_the_type_deserializer() -> None:
    image = {
        "id": {"S": "a3"},
        "status": {"S": "ready"},
        "duration": {"N": "12.5"},
        "source_size": {"N": "1048576"},
    }
    document = search_indexer.search_document(search_indexer.deserialize(image))
    body = search_indexer.bulk_body([search_indexer.Action("1", "a3", document)])
    assert json.loads(body.decode().splitlines()[1]) == {
        "id": "a3",
        "status": "ready",
        "source_size": 1048576,
        "duration": 12.5,
    }
