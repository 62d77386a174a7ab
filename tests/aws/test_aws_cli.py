"""`primevod aws job-settings` and `primevod aws synth`, through typer's runner on the `aws`
command group (src/primevod/cli/aws_cli.py). job-settings needs no CDK; synth skips without
aws_cdk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from primevod.adapters.aws.mediaconvert_model import validate_create_job
from primevod.cli.aws_cli import aws_app

runner = CliRunner()


def test_job_settings_prints_a_valid_createjob_request(clip) -> None:
    result = runner.invoke(aws_app, ["job-settings", str(clip("small.mp4"))])
    assert result.exit_code == 0, result.output
    request = json.loads(result.stdout)
    assert validate_create_job(request) == []
    assert request["Role"] == "arn:aws:iam::123456789012:role/primevod-mediaconvert"
    inputs = request["Settings"]["Inputs"]
    assert inputs[0]["FileInput"] == "s3://source/uploads/small.mp4"


def test_job_settings_as_json_wraps_request_notes_and_errors(clip) -> None:
    result = runner.invoke(
        aws_app,
        [
            "job-settings",
            str(clip("small.mp4")),
            "--json",
            "--ladder",
            "apple",
            "--role-arn",
            "arn:aws:iam::111122223333:role/mc",
            "--destination",
            "s3://out/assets/a/1/",
        ],
    )
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert set(answer) == {"request", "notes", "errors"}
    assert answer["errors"] == []
    assert answer["request"]["Role"] == "arn:aws:iam::111122223333:role/mc"
    assert answer["request"]["UserMetadata"]["primevod-policy"] == "apple"
    assert "s3://out/assets/a/1/" in json.dumps(answer["request"])


def test_job_settings_of_a_text_file_is_source_unreadable(corrupt) -> None:
    result = runner.invoke(aws_app, ["job-settings", str(corrupt["text"])])
    assert result.exit_code == 2
    assert "source.unreadable" in result.stderr
    assert not result.stdout.strip()


def test_job_settings_applies_the_source_rules_as_ingest_does(corrupt) -> None:
    result = runner.invoke(aws_app, ["job-settings", str(corrupt["empty"]), "--json"])
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["code"].startswith("source.")


def test_job_settings_with_an_unknown_ladder_exits_2(clip) -> None:
    result = runner.invoke(aws_app, ["job-settings", str(clip("small.mp4")), "--ladder", "nope"])
    assert result.exit_code == 2
    assert "ladder.unknown_policy" in result.stderr


def test_synth_writes_a_template(lambda_bundle: Path, tmp_path: Path) -> None:
    pytest.importorskip("aws_cdk")
    out = tmp_path / "cdk.out"
    result = runner.invoke(aws_app, ["synth", "--out", str(out), "--bundle", str(lambda_bundle)])
    assert result.exit_code == 0, result.output
    template_line, size_line = result.stdout.strip().splitlines()[-2:]
    template = Path(template_line)
    assert template.parent == out and template.is_file()
    assert "AWS::StepFunctions::StateMachine" in template.read_text()
    assert size_line.startswith("bundle ") and size_line.endswith("MB zipped")


def test_synth_with_nag_passes_the_aws_solutions_checks(
    lambda_bundle: Path, tmp_path: Path
) -> None:
    pytest.importorskip("cdk_nag")
    out = tmp_path / "cdk.out"
    args = ["synth", "--out", str(out), "--bundle", str(lambda_bundle), "--nag"]
    result = runner.invoke(aws_app, args)
    assert result.exit_code == 0, result.output
    assert (out / "PrimeVod.template.json").is_file()


def test_synth_refuses_a_folder_that_is_not_a_bundle(tmp_path: Path) -> None:
    pytest.importorskip("aws_cdk")
    result = runner.invoke(aws_app, ["synth", "--out", str(tmp_path), "--bundle", str(tmp_path)])
    assert result.exit_code == 2
    assert "not a Lambda bundle" in result.stderr


def test_keys_create_list_revoke_on_the_stacks_table(monkeypatch: pytest.MonkeyPatch) -> None:
    """Against moto's DynamoDB (a mock: no AWS account here); the keys it makes are the
    ones the HTTP API's authorizer admits."""
    import boto3
    from moto import mock_aws

    from primevod.aws.handlers import authorizer, context

    for name, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "PRIMEVOD_ASSETS_TABLE": "assets",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        context.client.cache_clear()
        boto3.client("dynamodb").create_table(
            TableName="assets",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        made = runner.invoke(aws_app, ["keys", "create", "--role", "uploader", "--name", "web"])
        assert made.exit_code == 0, made.output
        key = made.stdout.strip()
        assert key.startswith("pv_")
        route = {"routeKey": "POST /api/v1/uploads/init"}
        ask = {**route, "headers": {"authorization": f"Bearer {key}"}}
        assert authorizer.handler(ask)["isAuthorized"] is True

        listed = runner.invoke(aws_app, ["keys", "list", "--json"])
        [entry] = json.loads(listed.stdout)
        assert (entry["role"], entry["name"], entry["revoked"]) == ("uploader", "web", False)
        _, key_id, secret = key.split("_", 2)  # the secret may hold "_" itself
        assert key_id == entry["id"] and secret not in listed.stdout

        revoked = runner.invoke(aws_app, ["keys", "revoke", entry["id"]])
        assert revoked.exit_code == 0 and authorizer.handler(ask)["isAuthorized"] is False
        missing = runner.invoke(aws_app, ["keys", "revoke", "nope"])
        assert missing.exit_code != 0 and "key.not_found" in missing.output
        bad = runner.invoke(aws_app, ["keys", "create", "--role", "root"])
        assert bad.exit_code != 0 and "role must be one of" in bad.output
        context.client.cache_clear()


def test_keys_needs_a_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PRIMEVOD_ASSETS_TABLE", raising=False)
    result = runner.invoke(aws_app, ["keys", "list"])
    assert result.exit_code != 0 and "--table" in result.output
