"""The synthesized state machine run end to end in moto's Step Functions interpreter, with
the real handlers, on the resources the template declares (`moto_stack.py`), and MediaConvert
stood in for by the local media engine (`mediaconvert_stand_in.py`): mocks, as no AWS
account is reachable here.

The way in is the ingest API, as the HTTP API calls it (the authorizer with an uploader's
key, then the function): a multipart upload through presigned part URLs, completed;
moto's S3 tells EventBridge, the template's rule starts the start function, which starts
an execution named after the asset."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("aws_cdk")  # the template comes from the CDK app (the `aws` extra)

import boto3
import requests
from mediaconvert_stand_in import StandInMediaConvert, run_sync_jobs
from moto import mock_aws
from moto_stack import (
    REGION,
    Invocations,
    Stack,
    deliver_to_lambda,
    deploy,
    environment,
    run_handlers,
    settle,
)

from primevod.adapters.aws.dynamo_assets import DynamoAssets
from primevod.adapters.aws.dynamo_keys import DynamoKeys
from primevod.aws.handlers import context
from primevod.aws.handlers.tasks import TransientError

MOTO = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
FINISHED = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


@dataclass
class Deployment:
    stack: Stack
    invocations: Invocations
    mediaconvert: StandInMediaConvert
    key: str = ""  # an uploader's API key

    def keys(self) -> DynamoKeys:
        table = self.stack.name(self.stack.one("AWS::DynamoDB::Table"))
        return DynamoKeys(table, boto3.client("dynamodb", region_name=REGION))

    def function(self, handler: str) -> str:
        [name] = [
            k
            for k, v in self.stack.of_type("AWS::Lambda::Function").items()
            if v["Handler"] == handler
        ]
        return name

    def invoke(self, handler: str, event: dict[str, Any]) -> dict[str, Any]:
        out = boto3.client("lambda", region_name=REGION).invoke(
            FunctionName=self.function(handler), Payload=json.dumps(event)
        )
        body = json.loads(out["Payload"].read())
        assert "FunctionError" not in out, body
        return body

    def api(self, method: str, path: str, body: Any = None, key: str = "") -> tuple[int, Any]:
        """An API Gateway (payload 2.0) request to the uploads function, as the HTTP API
        makes it: the authorizer first (403 when it refuses), then the route's function."""
        route = f"{method} {path}"  # the routes used here have no path parameters
        headers = {"authorization": f"Bearer {key or self.key}"}
        verdict = self.invoke(
            "primevod.aws.handlers.authorizer.handler",
            {"version": "2.0", "type": "REQUEST", "routeKey": route, "headers": headers},
        )
        if not verdict["isAuthorized"]:
            return 403, {"message": "Forbidden"}
        event = {
            "version": "2.0",
            "routeKey": route,
            "rawPath": path,
            "headers": headers,
            "requestContext": {
                "http": {"method": method, "path": path},
                "authorizer": {"lambda": verdict["context"]},
            },
            "body": json.dumps(body) if body is not None else None,
        }
        out = self.invoke("primevod.aws.handlers.uploads.handler", event)
        return out["statusCode"], json.loads(out["body"]) if out.get("body") else None

    @property
    def source_bucket(self) -> str:
        return self.stack.name(self.stack.one("AWS::S3::Bucket", "Source"))

    @property
    def destination_bucket(self) -> str:
        return self.stack.name(self.stack.one("AWS::S3::Bucket", "Destination"))

    def messages(self) -> list[dict[str, Any]]:
        """The asset events delivered to the topic's queue (not its dead-letter queue)."""
        sqs = boto3.client("sqs", region_name=REGION)
        queue = self.stack.name(self.stack.one("AWS::SQS::Queue", "EventsQueue"))
        got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)
        return [json.loads(m["Body"]) for m in got.get("Messages", [])]

    def executions(self) -> list[dict[str, Any]]:
        sfn = boto3.client("stepfunctions", region_name=REGION)
        machine = self.stack.name(self.stack.one("AWS::StepFunctions::StateMachine"))
        return sfn.list_executions(stateMachineArn=machine)["executions"]

    def execution(self, asset_id: str, timeout: float = 180.0) -> dict[str, Any]:
        """The asset's execution, once it has finished."""
        sfn = boto3.client("stepfunctions", region_name=REGION)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            mine = [e for e in self.executions() if e["name"] == asset_id]
            if mine:
                described = sfn.describe_execution(executionArn=mine[0]["executionArn"])
                if described["status"] in FINISHED:
                    history = sfn.get_execution_history(
                        executionArn=mine[0]["executionArn"], maxResults=1000
                    )["events"]
                    return {**described, "history": history}
            time.sleep(0.2)
        raise AssertionError(f"the execution of {asset_id} did not finish in {timeout} s")


def entered(execution: dict[str, Any]) -> list[str]:
    return [
        e["stateEnteredEventDetails"]["name"]
        for e in execution["history"]
        if e["type"].endswith("StateEntered")
    ]


@pytest.fixture
def deployed(
    template_json: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Deployment]:
    for name, value in {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        # small parts, so a test clip is a multipart upload of several parts
        "PRIMEVOD_UPLOAD_MIN_PART_SIZE": str(5 * 2**20),
        "PRIMEVOD_UPLOAD_PART_SIZE": str(5 * 2**20),
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws(config=MOTO):
        context.client.cache_clear()
        mediaconvert = StandInMediaConvert(tmp_path)
        real = context.client

        def client(service: str) -> Any:
            return mediaconvert.client if service == "mediaconvert" else real(service)

        monkeypatch.setattr(context, "client", client)
        for module in ("tasks", "start", "uploads", "playback"):
            monkeypatch.setattr(f"primevod.aws.handlers.{module}.client", client)
        invocations = run_handlers(monkeypatch)
        deliveries = deliver_to_lambda(monkeypatch)
        run_sync_jobs(monkeypatch, mediaconvert)
        stack = deploy(template_json)
        for name, value in environment(stack).items():  # before any handler runs
            monkeypatch.setenv(name, value)
        deployment = Deployment(stack, invocations, mediaconvert)
        deployment.key = deployment.keys().create_key("uploader")
        yield deployment
        settle(deliveries)
        real.cache_clear()


def upload_through_the_api(deployed: Deployment, path: Path, content_type: str) -> str:
    data = path.read_bytes()
    viewer = deployed.keys().create_key("viewer")
    start = {"filename": path.name, "content_type": content_type, "size": len(data)}
    assert deployed.api("POST", "/api/v1/uploads/init", start, key=viewer)[0] == 403
    status, init = deployed.api(
        "POST",
        "/api/v1/uploads/init",
        {"filename": path.name, "content_type": content_type, "size": len(data)},
    )
    assert status == 201, init
    ref = {"upload_id": init["upload_id"], "key": init["key"]}
    parts = []
    for number in range(1, init["max_parts"] + 1):
        status, signed = deployed.api(
            "POST", "/api/v1/uploads/signPart", {**ref, "part_number": number}
        )
        assert status == 200, signed
        chunk = data[(number - 1) * init["part_size"] : number * init["part_size"]]
        put = requests.put(signed["url"], data=chunk, timeout=30)
        assert put.status_code == 200, put.text
        parts.append({"PartNumber": number, "ETag": put.headers["ETag"]})
    status, done = deployed.api("POST", "/api/v1/uploads/complete", {**ref, "parts": parts})
    assert status == 200, done
    return done["asset_id"]


def record(asset_id: str, deployed: Deployment) -> dict[str, Any]:
    """The asset as the table holds it, read as every handler reads it."""
    table = deployed.stack.name(deployed.stack.one("AWS::DynamoDB::Table"))
    assets = DynamoAssets(table, boto3.client("dynamodb", region_name=REGION))
    return assets.get(asset_id).model_dump(mode="json")


def test_an_upload_runs_the_pipeline_to_ready(deployed: Deployment, clip) -> None:
    source = clip("noise4s.mp4")
    assert source.stat().st_size > 10 * 2**20  # three parts
    asset_id = upload_through_the_api(deployed, source, "video/mp4")

    execution = deployed.execution(asset_id)
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    assert execution["name"] == asset_id
    assert entered(execution) == ["Ingest", "Plan", "Encode", "Validate", "Publish", "Ready"]

    # the job the state machine submitted: the plan's settings, the stack's role, the asset
    [job] = deployed.mediaconvert.jobs
    assert job["UserMetadata"] == {"asset_id": asset_id}
    role = deployed.stack.one("AWS::IAM::Role", "MediaConvert")
    assert job["Role"] == deployed.stack.name(role, "Arn")
    queue = deployed.stack.name(deployed.stack.one("AWS::MediaConvert::Queue"), "Arn")
    assert job["Queue"] == queue
    assert deployed.mediaconvert.problems == []

    ready = record(asset_id, deployed)
    assert ready["status"] == "ready"
    assert ready["output_bucket"] == deployed.destination_bucket
    assert ready["hls_path"] == f"assets/{asset_id}/1/master.m3u8"
    s3 = boto3.client("s3", region_name=REGION)
    playlist = s3.get_object(Bucket=deployed.destination_bucket, Key=ready["hls_path"])
    assert playlist["Body"].read().startswith(b"#EXTM3U")
    [message] = deployed.messages()
    assert message["type"] == "asset.ready" and message["asset_id"] == asset_id

    # EventBridge delivers at least once (moto's S3 even announces a completed multipart
    # upload twice): every delivery names the same execution, so there is one
    start = "primevod.aws.handlers.start.handler"
    events = [event for handler, event in deployed.invocations.calls if handler == start]
    assert {e["detail"]["object"]["key"] for e in events} == {f"uploads/{asset_id}/noise4s.mp4"}
    again = deployed.invoke(start, events[0])
    assert again == {"started": False, "asset_id": asset_id, "reason": "already started"}
    assert [e["name"] for e in deployed.executions()] == [asset_id]


def test_a_text_file_ends_failed_as_source_unreadable(deployed: Deployment, corrupt) -> None:
    key = "uploads/asset-text/notes.mp4"  # named as a video; the bytes are text
    boto3.client("s3", region_name=REGION).upload_file(
        str(corrupt["text"]), deployed.source_bucket, key
    )
    execution = deployed.execution("asset-text")
    # a rejected upload: the asset failed, the execution did not (ExecutionsFailed, which
    # the workflow-failures alarm watches, stays for the pipeline's own failures)
    assert execution["status"] == "SUCCEEDED"
    assert entered(execution) == ["Ingest", "RecordFailure", "SourceRefused", "Rejected"]
    failed = record("asset-text", deployed)
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "source.unreadable"
    assert failed["error"]["step"] == "ingest"
    [message] = deployed.messages()
    assert message["type"] == "asset.failed"
    assert message["error"]["code"] == "source.unreadable"
    assert deployed.mediaconvert.jobs == []


def test_a_failed_mediaconvert_job_is_recorded_as_encode_failed(deployed: Deployment, clip) -> None:
    deployed.mediaconvert.fail_next_job = "Demuxer: [ReadPacketData File read failed]"
    key = "uploads/asset-bad-job/clip.mp4"
    boto3.client("s3", region_name=REGION).upload_file(
        str(clip("small.mp4")), deployed.source_bucket, key
    )
    execution = deployed.execution("asset-bad-job")
    assert execution["status"] == "FAILED"
    assert entered(execution) == [
        "Ingest",
        "Plan",
        "Encode",
        "RecordFailure",
        "SourceRefused",
        "Failed",
    ]
    failed = record("asset-bad-job", deployed)
    assert failed["error"]["code"] == "encode.failed"
    assert failed["error"]["step"] == "encode"
    assert "(error 1030): Demuxer: [ReadPacketData" in failed["error"]["message"]
    assert execution["error"] == "encode.failed"
    assert [m["type"] for m in deployed.messages()] == ["asset.failed"]


def test_a_transient_error_is_retried_with_backoff(deployed: Deployment, clip) -> None:
    validate = "primevod.aws.handlers.tasks.validate_handler"
    deployed.invocations.faults[validate] = [TransientError("throttled reading the package")]
    key = "uploads/asset-retry/clip.mp4"
    boto3.client("s3", region_name=REGION).upload_file(
        str(clip("small.mp4")), deployed.source_bucket, key
    )
    execution = deployed.execution("asset-retry")
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    calls = [h for h, _ in deployed.invocations.calls]
    assert calls.count(validate) == 2  # one failure, one retry after the 2 s interval
    assert record("asset-retry", deployed)["status"] == "ready"
