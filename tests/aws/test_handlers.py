"""The AWS shape's Lambda handlers, called as Lambda calls them, against moto's S3, DynamoDB,
SNS, SQS and Step Functions (mocks: no AWS account is reachable here) and botocore's Stubber
for MediaConvert (absent from moto; the Stubber checks every request and response against
the service model). The media is real: clips probed and encoded with the bundled FFmpeg."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from mediaconvert_stand_in import probe_response
from moto import mock_aws

from primevod.adapters.aws.mediaconvert_model import validate_create_job
from primevod.adapters.media.ffmpeg_command import EncodeOptions
from primevod.adapters.media.pyav_probe import probe_file
from primevod.adapters.media.transcoder import MediaEngine
from primevod.aws.handlers import context, start, tasks
from primevod.core.policies import get_policy

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/primevod-mediaconvert"
QUEUE = "arn:aws:mediaconvert:us-east-1:123456789012:queues/primevod"


class Aws:
    """The mocked account: buckets, table, topic (with a queue to read it), clients."""

    def __init__(self) -> None:
        self.s3 = boto3.client("s3", region_name=REGION)
        self.s3.create_bucket(Bucket="src")
        self.s3.create_bucket(Bucket="dst")
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        dynamodb.create_table(
            TableName="assets",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        sns, sqs = boto3.client("sns", region_name=REGION), boto3.client("sqs", region_name=REGION)
        self.topic = sns.create_topic(Name="events")["TopicArn"]
        self.queue = sqs.create_queue(QueueName="events")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=self.queue, AttributeNames=["QueueArn"])
        sns.subscribe(
            TopicArn=self.topic,
            Protocol="sqs",
            Endpoint=arn["Attributes"]["QueueArn"],
            Attributes={"RawMessageDelivery": "true"},
        )
        self.sqs = sqs
        self.mediaconvert = boto3.client("mediaconvert", region_name=REGION)
        self.stubber = Stubber(self.mediaconvert)

    def messages(self) -> list[dict[str, Any]]:
        got = self.sqs.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=10)
        return [json.loads(m["Body"]) for m in got.get("Messages", [])]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        account = Aws()
        env = {
            "PRIMEVOD_ASSETS_TABLE": "assets",
            "PRIMEVOD_EVENTS_TOPIC_ARN": account.topic,
            "PRIMEVOD_SOURCE_BUCKET": "src",
            "PRIMEVOD_DESTINATION_BUCKET": "dst",
            "PRIMEVOD_LADDER": "aws-vod",
            "PRIMEVOD_MEDIACONVERT_ROLE_ARN": ROLE,
            "PRIMEVOD_MEDIACONVERT_QUEUE_ARN": QUEUE,
        }
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        context.client.cache_clear()
        real = context.client

        def client(service: str) -> Any:
            return account.mediaconvert if service == "mediaconvert" else real(service)

        monkeypatch.setattr(context, "client", client)
        monkeypatch.setattr(tasks, "client", client)
        monkeypatch.setattr(start, "client", client)
        with account.stubber:
            yield account
        real.cache_clear()


def upload(aws: Aws, path: Path, asset_id: str) -> dict[str, str]:
    key = f"uploads/{asset_id}/{path.name}"
    aws.s3.upload_file(str(path), "src", key)
    return {"asset_id": asset_id, "bucket": "src", "key": key}


def record(asset_id: str) -> dict[str, Any]:
    return context.assets().get(asset_id).model_dump(mode="json")


def test_ingest_plan_validate_publish(
    aws: Aws, clip, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = clip("long9s.mp4")
    state = upload(aws, source, "asset-1")
    url = f"s3://src/{state['key']}"
    aws.stubber.add_response(
        "probe", probe_response(probe_file(source)), {"InputFiles": [{"FileUrl": url}]}
    )
    state = tasks.ingest_handler(state)
    assert state["source_url"] == url and state["probe"]["video"][0]["width"] == 320
    assert record("asset-1")["status"] == "processing"
    assert record("asset-1")["duration"] == pytest.approx(9.0, abs=0.1)

    state["plan"] = tasks.plan_handler(state)
    plan = state["plan"]
    assert plan["destination"] == "s3://dst/assets/asset-1/1/"
    assert validate_create_job(plan["job"]) == []
    assert plan["job"]["Role"] == ROLE and plan["job"]["Queue"] == QUEUE
    assert plan["job"]["AccelerationSettings"] == {"Mode": "DISABLED"}  # Encode forwards it
    monkeypatch.setenv("PRIMEVOD_LADDER", "auto")  # Automated ABR asks for acceleration
    auto = tasks.plan_handler(state)["job"]
    assert auto["AccelerationSettings"] == {"Mode": "PREFERRED"}
    assert validate_create_job(auto) == []

    # what MediaConvert would write: a real package under the plan's prefix (its manifests
    # named after the output group, master.m3u8 and master.mpd)
    package = MediaEngine(EncodeOptions(preset="ultrafast")).transcode(
        source, tmp_path / "pkg", get_policy("default")
    )
    root = Path(package.output_dir)
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        name = path.relative_to(root).as_posix().replace("manifest.mpd", "master.mpd")
        aws.s3.upload_file(str(path), "dst", plan["prefix"] + name)
    state["validation"] = tasks.validate_handler(state)
    assert state["validation"]["passed"] and state["validation"]["failed"] == 0

    published = tasks.publish_handler(state)
    assert published["hls_path"] == "assets/asset-1/1/master.m3u8"
    ready = record("asset-1")
    assert ready["status"] == "ready" and ready["output_bucket"] == "dst"
    assert ready["ladder"]["rungs"]
    [message] = aws.messages()
    assert message["type"] == "asset.ready" and message["asset_id"] == "asset-1"


def test_a_missing_segment_fails_validation(aws: Aws, clip, tmp_path: Path) -> None:
    package = MediaEngine(EncodeOptions(preset="ultrafast")).transcode(
        clip("small.mp4"), tmp_path / "pkg", get_policy("default")
    )
    root = Path(package.output_dir)
    files = sorted(p for p in root.rglob("*") if p.is_file())
    dropped = next(p for p in files if p.name.startswith("chunk-0-"))
    for path in files:
        if path != dropped:
            name = path.relative_to(root).as_posix().replace("manifest.mpd", "master.mpd")
            aws.s3.upload_file(str(path), "dst", "assets/a/1/" + name)
    with pytest.raises(tasks.PackageInvalid) as caught:
        tasks.validate_handler({"asset_id": "a", "plan": {"prefix": "assets/a/1/"}})
    assert str(caught.value).startswith("package.invalid: output failed validation: ")
    assert dropped.name in str(caught.value)


def test_an_unreadable_source_is_rejected_and_recorded(aws: Aws, corrupt) -> None:
    state = upload(aws, corrupt["text"], "asset-2")
    aws.stubber.add_response("probe", {"ProbeResults": []})
    with pytest.raises(tasks.SourceRejected) as caught:
        tasks.ingest_handler(state)
    # what the state machine's Catch hands the failure task
    cause = json.dumps({"errorMessage": str(caught.value), "errorType": "SourceRejected"})
    out = tasks.failure_handler({**state, "error": {"Error": "SourceRejected", "Cause": cause}})
    assert out["error"]["code"] == "source.unreadable"
    failed = record("asset-2")
    assert failed["status"] == "failed"
    assert failed["error"] == {
        "code": "source.unreadable",
        "step": "ingest",
        "message": f"MediaConvert cannot read s3://src/{state['key']}",
    }
    [message] = aws.messages()
    assert message["type"] == "asset.failed" and message["error"]["code"] == "source.unreadable"


def test_source_rules_apply_as_locally(aws: Aws, clip) -> None:
    """A 4K-wide limit, a missing frame rate: the same codes as the local ingest."""
    probe = probe_file(clip("small.mp4"))
    wide = probe.model_copy(update={"video": [probe.video[0].model_copy(update={"width": 20000})]})
    state = upload(aws, clip("small.mp4"), "asset-3")
    aws.stubber.add_response("probe", probe_response(wide))
    with pytest.raises(tasks.SourceRejected, match=r"^source\.dimensions: "):
        tasks.ingest_handler(state)


def test_the_dev_profile_refuses_sources_over_30_seconds(
    aws: Aws, clip, monkeypatch: pytest.MonkeyPatch
) -> None:
    probe = probe_file(clip("small.mp4")).model_copy(update={"duration": 31.0})
    state = upload(aws, clip("small.mp4"), "asset-dev")
    monkeypatch.setenv("PRIMEVOD_PROFILE", "dev")
    aws.stubber.add_response("probe", probe_response(probe))
    with pytest.raises(tasks.SourceRejected, match=r"^source\.too_long: .*limit is 30 s"):
        tasks.ingest_handler(state)
    monkeypatch.setenv("PRIMEVOD_PROFILE", "default")
    aws.stubber.add_response("probe", probe_response(probe))
    assert tasks.ingest_handler(state)["probe"]["duration"] == 31.0


def test_a_failure_before_ingest_still_leaves_a_record(aws: Aws) -> None:
    out = tasks.failure_handler(
        {
            "asset_id": "never-ingested",
            "bucket": "src",
            "key": "uploads/never-ingested/x.mp4",
            "error": {"Error": "States.Timeout", "Cause": "Task timed out"},
        }
    )
    assert out["error"]["code"] == "workflow.step_failed"
    assert record("never-ingested")["status"] == "failed"


@pytest.mark.parametrize(
    ("caught", "code", "step"),
    [
        (
            {"Error": "PlanRejected", "Cause": json.dumps({"errorMessage": "request.invalid: x"})},
            "request.invalid",
            "plan",
        ),
        (
            {
                "Error": "PackageInvalid",
                "Cause": json.dumps({"errorMessage": "package.invalid: y"}),
            },
            "package.invalid",
            "validate",
        ),
        (
            {
                "Error": "MediaConvert.AmazonMediaConvertException",
                "Cause": "Job failed: demuxer error",
            },
            "encode.failed",
            "encode",
        ),
        (
            {
                "Error": "States.TaskFailed",
                "Cause": json.dumps({"ErrorMessage": "MediaConvert job ended in ERROR"}),
            },
            "encode.failed",
            "encode",
        ),
        (  # a .sync job that ended in ERROR: the task fails with the job as its cause
            {
                "Error": "States.TaskFailed",
                "Cause": json.dumps(
                    {
                        "Id": "17-abc",
                        "Arn": "arn:aws:mediaconvert:us-east-1:123456789012:jobs/17-abc",
                        "Status": "ERROR",
                        "ErrorCode": 1030,
                        "ErrorMessage": "Demuxer: [ReadPacketData File read failed]",
                    }
                ),
            },
            "encode.failed",
            "encode",
        ),
        ({"Error": "Lambda.Unknown", "Cause": "out of memory"}, "workflow.step_failed", None),
    ],
)
def test_caught_errors_map_to_the_projects_codes(caught: dict, code: str, step: str | None) -> None:
    error = tasks.asset_error(caught)
    assert (error.code, error.step) == (code, step)
    assert error.message


def test_start_names_the_execution_after_the_asset(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    machine = sfn.create_state_machine(
        name="pipeline",
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
        roleArn="arn:aws:iam::123456789012:role/sfn",
    )["stateMachineArn"]
    monkeypatch.setenv("PRIMEVOD_STATE_MACHINE_ARN", machine)

    def event(key: str) -> dict[str, Any]:
        return {
            "detail-type": "Object Created",
            "source": "aws.s3",
            "detail": {"bucket": {"name": "src"}, "object": {"key": key, "etag": "e1"}},
        }

    first = start.handler(event("uploads/asset-9/movie.mp4"))
    assert first == {"started": True, "asset_id": "asset-9"}
    # a repeated S3 event: Step Functions answers a running execution's name and input
    # with that execution (idempotent), a finished one's with ExecutionAlreadyExists
    again = start.handler(event("uploads/asset-9/movie.mp4"))
    assert again["asset_id"] == "asset-9"
    executions = sfn.list_executions(stateMachineArn=machine)["executions"]
    assert [e["name"] for e in executions] == ["asset-9"]
    described = sfn.describe_execution(executionArn=executions[0]["executionArn"])
    assert json.loads(described["input"]) == {
        "asset_id": "asset-9",
        "bucket": "src",
        "key": "uploads/asset-9/movie.mp4",
    }
    dropped = start.handler(event("uploads/holiday film.mp4"))  # not the ingest API's layout
    assert dropped["started"] and len(dropped["asset_id"]) == 36
    assert start.handler(event("elsewhere/file.mp4"))["started"] is False
