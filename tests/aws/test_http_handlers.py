"""The AWS shape's HTTP handlers (API Gateway payload 2.0 events) against moto's S3,
DynamoDB and Secrets Manager: a multipart upload through presigned part URLs, the local
API's answers and errors, and playback URLs and cookies that the project's CloudFront
verifier accepts."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests
from moto import mock_aws
from signing_keys import signing_key

from primevod.adapters.aws.dynamo_keys import DynamoKeys
from primevod.aws.handlers import authorizer, context, playback, uploads
from primevod.core.assets import Asset, AssetStatus
from primevod.core.errors import NotFound
from primevod.core.signing import Rejected, Verifier, split_signed_url

REGION = "us-east-1"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    for name, value in {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "PRIMEVOD_ASSETS_TABLE": "assets",
        "PRIMEVOD_SOURCE_BUCKET": "src",
        "PRIMEVOD_DESTINATION_BUCKET": "dst",
        "PRIMEVOD_UPLOAD_MIN_PART_SIZE": str(5 * 2**20),
        "PRIMEVOD_UPLOAD_PART_SIZE": str(5 * 2**20),
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        context.client.cache_clear()
        playback._private_key.cache_clear()
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket="src")
        boto3.client("dynamodb", region_name=REGION).create_table(
            TableName="assets",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield {"s3": s3}
        context.client.cache_clear()


def call(handler, method: str, path: str, body: Any = None, **extra: Any) -> tuple[int, Any]:
    event = {
        "version": "2.0",
        "rawPath": path,
        "requestContext": {"http": {"method": method, "path": path}},
        "body": json.dumps(body) if body is not None else None,
        **extra,
    }
    out = handler(event)
    return out["statusCode"], json.loads(out["body"]) if out.get("body") else None


def test_a_multipart_upload_through_presigned_parts(aws: dict[str, Any]) -> None:
    data = bytes(range(256)) * (6 * 2**20 // 256 + 7)  # two parts: 5 MiB and the rest
    status, init = call(
        uploads.handler,
        "POST",
        "/api/v1/uploads/init",
        {"filename": "../My Film.mp4", "content_type": "video/mp4", "size": len(data)},
    )
    assert status == 201, init
    assert init["key"].startswith("uploads/") and init["key"].endswith("/My Film.mp4")
    assert init["max_parts"] == 2 and init["part_size"] == 5 * 2**20
    ref = {"upload_id": init["upload_id"], "key": init["key"]}
    parts = []
    for number in (1, 2):
        status, signed = call(
            uploads.handler, "POST", "/api/v1/uploads/signPart", {**ref, "part_number": number}
        )
        assert status == 200 and "X-Amz-Signature" in signed["url"]
        chunk = data[(number - 1) * init["part_size"] : number * init["part_size"]]
        put = requests.put(signed["url"], data=chunk, timeout=30)
        assert put.status_code == 200
        parts.append({"PartNumber": number, "ETag": put.headers["ETag"]})
    status, listed = call(
        uploads.handler,
        "GET",
        f"/api/v1/uploads/{init['upload_id']}/parts",
        queryStringParameters={"key": init["key"]},
    )
    assert status == 200 and [p["PartNumber"] for p in listed] == [1, 2]
    status, done = call(
        uploads.handler, "POST", "/api/v1/uploads/complete", {**ref, "parts": parts}
    )
    assert status == 200 and done["location"] == f"src/{init['key']}"
    assert done["asset_id"] == init["key"].split("/")[1] == done["execution_id"]
    stored = aws["s3"].get_object(Bucket="src", Key=init["key"])["Body"].read()
    assert stored == data
    again = call(uploads.handler, "POST", "/api/v1/uploads/complete", {**ref, "parts": parts})
    assert again == (200, done)  # completing again answers the same


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "detail"),
    [
        (
            "POST",
            "/api/v1/uploads/init",
            {"filename": "notes.txt", "content_type": "text/plain", "size": 10},
            400,
            "not a video",
        ),
        (
            "POST",
            "/api/v1/uploads/init",
            {"filename": "a.mp4", "content_type": "video/mp4", "size": 0},
            400,
            "empty",
        ),
        (
            "POST",
            "/api/v1/uploads/init",
            {"filename": "a.mp4", "content_type": "video/mp4", "size": 2**60},
            400,
            "GiB",
        ),
        ("POST", "/api/v1/uploads/init", {"filename": "a.mp4"}, 422, "size"),
        (
            "POST",
            "/api/v1/uploads/signPart",
            {"upload_id": "nope", "key": "uploads/x/a.mp4", "part_number": 1},
            404,
            "no upload",
        ),
        (
            "POST",
            "/api/v1/uploads/complete",
            {"upload_id": "nope", "key": "k", "parts": []},
            404,
            "no upload",
        ),
        ("DELETE", "/api/v1/uploads/init", None, 404, "no route"),
    ],
)
def test_bad_requests_get_the_local_apis_errors(
    aws: dict[str, Any], method: str, path: str, body: Any, status: int, detail: str
) -> None:
    got, answer = call(uploads.handler, method, path, body)
    assert got == status and detail in answer["detail"]


def test_a_part_number_beyond_the_plan_and_an_abort(aws: dict[str, Any]) -> None:
    _, init = call(
        uploads.handler,
        "POST",
        "/api/v1/uploads/init",
        {"filename": "a.mp4", "content_type": "video/mp4", "size": 100},
    )
    ref = {"upload_id": init["upload_id"], "key": init["key"]}
    status, answer = call(
        uploads.handler, "POST", "/api/v1/uploads/signPart", {**ref, "part_number": 2}
    )
    assert status == 422 and "out of range" in answer["detail"]
    assert call(uploads.handler, "POST", "/api/v1/uploads/abort", ref) == (204, None)
    status, answer = call(
        uploads.handler, "POST", "/api/v1/uploads/signPart", {**ref, "part_number": 1}
    )
    assert status == 404 and "aborted" in answer["detail"]


def test_playback_urls_and_cookies_verify(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    key = signing_key(monkeypatch, "K2EXAMPLE", "https://d111.cloudfront.net")
    records = context.assets()
    records.create(Asset(id="a1", source_bucket="src", source_key="uploads/a1/x.mp4"))
    status, answer = call(
        playback.handler, "GET", "/api/v1/assets/a1/playback", pathParameters={"asset_id": "a1"}
    )
    assert status == 409 and "not ready" in answer["detail"]
    prefix = "assets/a1/1/"
    records.update(
        "a1",
        status=AssetStatus.READY,
        output_bucket="dst",
        output_prefix=prefix,
        hls_path=prefix + "master.m3u8",
        dash_path=prefix + "master.mpd",
    )
    out = playback.handler(
        {
            "rawPath": "/api/v1/assets/a1/playback",
            "requestContext": {"http": {"method": "GET"}},
            "pathParameters": {"asset_id": "a1"},
        }
    )
    body = json.loads(out["body"])
    assert body["hls_url"].startswith("https://d111.cloudfront.net/assets/a1/1/master.m3u8?")
    verifier = Verifier({"K2EXAMPLE": key.public_key()})
    url, params = split_signed_url(body["hls_url"])
    verifier.check(url, params=params, now=time.time())  # raises Rejected if it is bad
    segment = "https://d111.cloudfront.net/assets/a1/1/chunk-0-00001.m4s"
    cookies = dict(c.split(";")[0].split("=", 1) for c in out["cookies"])
    verifier.check(segment, cookies=cookies, now=time.time())  # cookies cover the package
    assert all("Path=/assets/a1/1/" in c and "Secure" in c for c in out["cookies"])
    other = "https://d111.cloudfront.net/assets/other/1/master.m3u8"
    with pytest.raises(Rejected):
        verifier.check(other, cookies=cookies, now=time.time())
    status, answer = call(
        playback.handler, "GET", "/api/v1/assets/none/playback", pathParameters={"asset_id": "none"}
    )
    assert status == 404


def authorize(route: str, header: str | None) -> dict[str, Any]:
    """What API Gateway sends the authorizer (payload 2.0) and what it answers."""
    headers = {"authorization": header} if header is not None else {}
    return authorizer.handler({"version": "2.0", "routeKey": route, "headers": headers})


def test_the_authorizer_admits_keys_by_role_as_the_local_api(aws: dict[str, Any]) -> None:
    keys = DynamoKeys("assets", boto3.client("dynamodb", region_name=REGION))
    uploader = keys.create_key("uploader", name="browser")
    viewer = keys.create_key("viewer")
    init, play = "POST /api/v1/uploads/init", "GET /api/v1/assets/{asset_id}/playback"

    assert authorize(init, f"Bearer {uploader}") == {
        "isAuthorized": True,
        "context": {"role": "uploader"},
    }
    assert authorize(play, f"bearer {viewer}")["isAuthorized"] is True
    assert authorize(play, f"Bearer {uploader}")["isAuthorized"] is True
    assert authorize(init, f"Bearer {viewer}") == {"isAuthorized": False}  # the local 403
    for header in (None, "", uploader, f"Basic {uploader}", "Bearer pv_nope_x", "Bearer junk"):
        assert authorize(init, header) == {"isAuthorized": False}, header
    assert authorize("GET /anything/else", f"Bearer {uploader}") == {"isAuthorized": False}
    forged = uploader.rsplit("_", 1)[0] + "_" + "A" * 32  # a real id, a wrong secret
    assert authorize(init, f"Bearer {forged}") == {"isAuthorized": False}

    listed = keys.list_keys()
    assert [(k["role"], k["name"], k["revoked"]) for k in listed] == [
        ("uploader", "browser", False),
        ("viewer", None, False),
    ]
    assert all("hash" not in k for k in listed)
    keys.revoke_key(listed[0]["id"])
    assert authorize(init, f"Bearer {uploader}") == {"isAuthorized": False}
    with pytest.raises(NotFound):
        keys.revoke_key("000000000000")
    with pytest.raises(ValueError, match="role must be one of"):
        keys.create_key("root")
    # key items stay out of the status index (they have no status)
    table = boto3.client("dynamodb", region_name=REGION)
    items = table.scan(TableName="assets")["Items"]
    assert all("status" not in i for i in items if i["id"]["S"].startswith("key#"))


def test_a_playback_url_equals_botocores_cloudfront_signer_for_the_same_policy(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The playback function's URL for the distribution's layout is byte for byte what
    botocore's CloudFrontSigner makes of the same policy, and the edge's verifier takes it."""
    from botocore.signers import CloudFrontSigner
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    from primevod.core.signing import build_policy, cf_b64decode

    key = signing_key(monkeypatch, "K3CLOUDFRONTID", "https://d2example.cloudfront.net")
    records = context.assets()
    records.create(Asset(id="a9", source_bucket="src", source_key="uploads/a9/x.mp4"))
    prefix = "assets/a9/1/"
    records.update(
        "a9",
        status=AssetStatus.READY,
        output_bucket="dst",
        output_prefix=prefix,
        hls_path=prefix + "master.m3u8",
        dash_path=prefix + "master.mpd",
    )
    body, _ = playback.playback("a9", now=1_900_000_000)
    url = "https://d2example.cloudfront.net/assets/a9/1/master.m3u8"
    policy = build_policy("https://d2example.cloudfront.net/assets/a9/1/*", body["expires_at"])

    def rsa_signer(message: bytes) -> bytes:
        return key.sign(message, padding.PKCS1v15(), hashes.SHA1())

    expected = CloudFrontSigner("K3CLOUDFRONTID", rsa_signer).generate_presigned_url(
        url, policy=policy
    )
    assert body["hls_url"] == expected
    signed_url, params = split_signed_url(body["hls_url"])
    assert cf_b64decode(params["Policy"]).decode() == policy
    Verifier({"K3CLOUDFRONTID": key.public_key()}).check(
        signed_url, params=params, now=1_900_000_000
    )
