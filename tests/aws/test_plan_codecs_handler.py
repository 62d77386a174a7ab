"""The Plan task's codec families: the deployment's `PRIMEVOD_CODECS` (the stack's
`primevod:codecs`) and an execution input's own `codecs` reach the MediaConvert job, whose
request stays valid against botocore's model. Against moto's DynamoDB (the asset record);
MediaConvert is not called by Plan. And `primevod aws job-settings --codecs`, the preview."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from support.media_probes import source

from primevod.adapters.aws.mediaconvert_model import validate_create_job
from primevod.aws.handlers import context, tasks
from primevod.core.assets import Asset
from primevod.core.errors import MediaError

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/primevod-mediaconvert"


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    env = {
        "PRIMEVOD_ASSETS_TABLE": "assets",
        "PRIMEVOD_DESTINATION_BUCKET": "dst",
        "PRIMEVOD_LADDER": "aws-vod",
        "PRIMEVOD_MEDIACONVERT_ROLE_ARN": ROLE,
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("PRIMEVOD_CODECS", raising=False)
    with mock_aws():
        boto3.client("dynamodb", region_name=REGION).create_table(
            TableName="assets",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        context.client.cache_clear()
        context.assets().create(Asset(id="a1", title="clip", source_bucket="src", source_key="k"))
        yield
        context.client.cache_clear()


def planned(**extra: Any) -> dict[str, Any]:
    state = {
        "asset_id": "a1",
        "probe": source().model_dump(mode="json"),
        "source_url": "s3://src/uploads/a1/clip.mp4",
        **extra,
    }
    return tasks.plan_handler(state)


def codecs_of(job: dict[str, Any]) -> list[str]:
    outputs = job["Settings"]["OutputGroups"][0]["Outputs"]
    found = [
        o["VideoDescription"]["CodecSettings"]["Codec"] for o in outputs if "VideoDescription" in o
    ]
    return list(dict.fromkeys(found))


def stored_families() -> set[str]:
    ladder = context.assets().get("a1").ladder or {}
    return {rung["codec"] for rung in ladder["rungs"]}


def test_the_deployment_default_is_av1_beside_h264(
    table: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PRIMEVOD_CODECS", raising=False)  # the suite pins h264 for speed
    job = planned()["job"]
    assert codecs_of(job) == ["H_264", "AV1"]
    assert stored_families() == {"h264", "av1"}


def test_primevod_codecs_reaches_the_job_and_the_stored_ladder(
    table: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRIMEVOD_CODECS", "h264,hevc,av1")
    job = planned()["job"]
    assert codecs_of(job) == ["H_264", "H_265", "AV1"]
    assert validate_create_job(job) == []
    assert stored_families() == {"h264", "hevc", "av1"}


def test_an_executions_own_codecs_and_ladder_win(
    table: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRIMEVOD_CODECS", "h264,hevc")
    plan = planned(codecs="av1", ladder="default")
    assert codecs_of(plan["job"]) == ["H_264", "AV1"]
    assert plan["job"]["UserMetadata"] == {"primevod-policy": "default"}
    assert validate_create_job(plan["job"]) == []


def test_an_unknown_codec_is_a_permanent_plan_rejection(table: None) -> None:
    with pytest.raises(tasks.PlanRejected, match=r"request\.invalid: unknown codec 'vp9'"):
        planned(codecs="h264,vp9")


# --- the stack hands the setting to every function -------------------------------------------


def test_the_stack_sets_primevod_codecs_for_every_function(template_json: dict[str, Any]) -> None:
    pytest.importorskip("aws_cdk")
    functions = [
        r for r in template_json["Resources"].values() if r["Type"] == "AWS::Lambda::Function"
    ]
    assert functions
    for function in functions:
        assert function["Properties"]["Environment"]["Variables"]["PRIMEVOD_CODECS"] == "h264,av1"


def test_an_unknown_codec_in_the_context_fails_the_synth(lambda_bundle: Path) -> None:
    pytest.importorskip("aws_cdk")
    from primevod.aws.cdk.app import build_app

    with pytest.raises(MediaError, match="vp9"):
        build_app(bundle=lambda_bundle, context={"primevod:codecs": "h264,vp9"})


def test_job_settings_previews_the_families(clip) -> None:
    from typer.testing import CliRunner

    from primevod.cli.aws_cli import aws_app

    result = CliRunner().invoke(
        aws_app, ["job-settings", str(clip("small.mp4")), "--codecs", "hevc,av1"]
    )
    assert result.exit_code == 0, result.output
    request = json.loads(result.stdout)
    assert codecs_of(request) == ["H_264", "H_265", "AV1"]
    assert validate_create_job(request) == []
