"""The CI/CD stack's synthesized template (cicd.py, context `primevod:cicd=on`): the
pipeline's three stages in order, the source through the connection given as a parameter,
the test project running the repository's own CI entry point with the Debian packages it
needs, the deploy project running `cdk deploy PrimeVod` as the CDK bootstrap roles and
nothing else, the encrypted artifacts, the logs' retention, the cost tags. Synthesized
offline with the other flags (conftest.py); cfn-lint and cdk-nag cover it too."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("aws_cdk")

from cdk_template import as_list, joined, policy_statements, resources

from primevod.aws.cdk.cicd import BOOTSTRAP_ROLES, TEST_PACKAGES

REPO = Path(__file__).resolve().parents[2]
BOOTSTRAP_ARN = (
    "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/"
    "cdk-${CdkQualifier}-{role}-${AWS::AccountId}-${AWS::Region}"
)


def _only(template: dict[str, Any], kind: str) -> tuple[str, dict[str, Any]]:
    found = resources(template, kind)
    assert len(found) == 1, f"{len(found)} {kind}"
    return next(iter(found.items()))


def _stages(template: dict[str, Any]) -> list[dict[str, Any]]:
    _, pipeline = _only(template, "AWS::CodePipeline::Pipeline")
    return pipeline["Properties"]["Stages"]


def _project(template: dict[str, Any], stage: str) -> tuple[str, dict[str, Any]]:
    """The CodeBuild project the stage's one action runs."""
    [action] = next(s for s in _stages(template) if s["Name"] == stage)["Actions"]
    assert action["ActionTypeId"]["Provider"] == "CodeBuild"
    project_id = action["Configuration"]["ProjectName"]["Ref"]
    return project_id, template["Resources"][project_id]["Properties"]


def _buildspec(project: dict[str, Any]) -> dict[str, Any]:
    return json.loads(project["Source"]["BuildSpec"])


def test_the_pipeline_runs_source_test_deploy_in_that_order(
    cicd_template_json: dict[str, Any],
) -> None:
    stages = _stages(cicd_template_json)
    assert [s["Name"] for s in stages] == ["Source", "Test", "Deploy"]
    assert all(len(s["Actions"]) == 1 for s in stages)
    [source], [test], [deploy] = (s["Actions"] for s in stages)
    assert source["ActionTypeId"] == {
        "Category": "Source",
        "Owner": "AWS",
        "Provider": "CodeStarSourceConnection",
        "Version": "1",
    }
    assert source["OutputArtifacts"] == [{"Name": "Source"}]
    for action in (test, deploy):  # both build the commit the source stage fetched
        assert action["ActionTypeId"]["Category"] == "Build"
        assert action["InputArtifacts"] == [{"Name": "Source"}]
    _, pipeline = _only(cicd_template_json, "AWS::CodePipeline::Pipeline")
    assert pipeline["Properties"]["PipelineType"] == "V2"


def test_the_source_is_the_connection_repository_and_branch_given_as_parameters(
    cicd_template_json: dict[str, Any],
) -> None:
    [source] = _stages(cicd_template_json)[0]["Actions"]
    config = source["Configuration"]
    assert config["ConnectionArn"] == {"Ref": "ConnectionArn"}
    assert joined(config["FullRepositoryId"]) == "${RepositoryOwner}/${RepositoryName}"
    assert config["BranchName"] == {"Ref": "BranchName"}
    parameters = cicd_template_json["Parameters"]
    assert "Default" not in parameters["ConnectionArn"]  # no connection is guessed
    pattern = parameters["ConnectionArn"]["AllowedPattern"]
    example = "arn:aws:codestar-connections:eu-west-1:123456789012:connection/0a1b2c3d-4e5f"
    assert re.fullmatch(pattern, example)
    assert re.fullmatch(pattern, example.replace("codestar-connections", "codeconnections"))
    assert not re.fullmatch(pattern, "*")
    assert parameters["BranchName"]["Default"] == "main"
    assert parameters["CdkQualifier"]["Default"] == "hnb659fds"
    # the source action's role may use that connection, and only it
    uses = [
        s
        for role_id in resources(cicd_template_json, "AWS::IAM::Role")
        for s in policy_statements(cicd_template_json, role_id)
        if any("UseConnection" in a for a in as_list(s["Action"]))
    ]
    assert uses and all(s["Resource"] == {"Ref": "ConnectionArn"} for s in uses)


def _ci_run_packages() -> list[str]:
    script = (REPO / ".ci" / "run").read_text()
    [listed] = re.findall(r"^packages=\(([^)]*)\)", script, flags=re.MULTILINE)
    return [*listed.split(), "nodejs", "npm"]  # Node.js and npm: Debian's when missing


def test_the_test_project_runs_the_repositorys_ci_entry_point_on_debian(
    cicd_template_json: dict[str, Any],
) -> None:
    _, project = _project(cicd_template_json, "Test")
    spec = _buildspec(project)
    assert spec["phases"]["build"]["commands"] == ["bash .ci/run"]
    assert spec["env"]["variables"]["CI"] == "true"  # .ci/run: "runs ... with CI=true"
    install = spec["phases"]["install"]["commands"]
    assert install[0] == "apt-get update -qq"
    assert install[1].split()[-len(TEST_PACKAGES) :] == list(TEST_PACKAGES)
    assert set(TEST_PACKAGES) == set(_ci_run_packages())  # the two lists stay one
    # .ci/run runs the README's test command (and lint, and the fresh install)
    script = (REPO / ".ci" / "run").read_text()
    assert "python3 -m pytest" in script and "ruff check" in script
    environment = project["Environment"]
    assert environment["Image"].endswith("/python:3.11-bookworm")  # Debian 12, Python 3.11
    assert environment["PrivilegedMode"] is False
    assert environment["ComputeType"] == "BUILD_GENERAL1_MEDIUM"
    assert project["TimeoutInMinutes"] >= 30


def test_the_deploy_project_runs_cdk_deploy_of_the_stack_from_deploy_aws(
    cicd_template_json: dict[str, Any],
) -> None:
    _, project = _project(cicd_template_json, "Deploy")
    spec = _buildspec(project)
    assert spec["phases"]["build"]["commands"] == [
        "cd deploy/aws",
        "npx --yes aws-cdk@2 deploy PrimeVod --require-approval never",
    ]
    assert (REPO / "deploy" / "aws" / "cdk.json").is_file()
    assert spec["phases"]["install"]["commands"] == ["python3 -m pip install --quiet '.[aws]'"]
    assert spec["phases"]["install"]["runtime-versions"] == {"python": "3.12", "nodejs": "22"}
    assert project["Environment"]["Image"].startswith("aws/codebuild/standard:")


def test_the_deploy_role_may_assume_only_the_cdk_bootstrap_roles(
    cicd_template_json: dict[str, Any],
) -> None:
    _, project = _project(cicd_template_json, "Deploy")
    role_id = project["ServiceRole"]["Fn::GetAtt"][0]
    statements = policy_statements(cicd_template_json, role_id)
    assumes = [s for s in statements if "sts:AssumeRole" in as_list(s["Action"])]
    assert len(assumes) == 1 and assumes[0]["Action"] == "sts:AssumeRole"
    assert sorted(joined(r) for r in assumes[0]["Resource"]) == sorted(
        BOOTSTRAP_ARN.replace("{role}", role) for role in BOOTSTRAP_ROLES
    )
    assert set(BOOTSTRAP_ROLES) == {"deploy-role", "file-publishing-role", "lookup-role"}
    # nothing else that could deploy by itself: no CloudFormation, IAM, Lambda, S3 writes
    actions = {a for s in statements for a in as_list(s["Action"])}
    services = {a.split(":")[0] for a in actions}
    assert services == {"sts", "logs", "codebuild", "kms", "s3"}, services
    assert not {a for a in actions if a.startswith("s3:") and "Get" not in a and "List" not in a}
    role = cicd_template_json["Resources"][role_id]["Properties"]
    assert "ManagedPolicyArns" not in role
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "codebuild.amazonaws.com"
    }


def test_no_policy_of_the_stack_grants_anything_on_everything(
    cicd_template_json: dict[str, Any],
) -> None:
    statements = [
        s
        for policy in resources(cicd_template_json, "AWS::IAM::Policy").values()
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert statements
    for statement in statements:
        assert "*" not in as_list(statement["Action"]), statement
        assert "*" not in as_list(statement["Resource"]), statement
        assert statement["Effect"] == "Allow"


def test_artifacts_are_kms_encrypted_tls_only_and_expire(
    cicd_template_json: dict[str, Any],
) -> None:
    _, pipeline = _only(cicd_template_json, "AWS::CodePipeline::Pipeline")
    store = pipeline["Properties"]["ArtifactStore"]
    key_id = store["EncryptionKey"]["Id"]["Fn::GetAtt"][0]
    assert store["EncryptionKey"]["Type"] == "KMS"
    key = cicd_template_json["Resources"][key_id]["Properties"]
    assert key["EnableKeyRotation"] is True
    bucket_id = store["Location"]["Ref"]
    bucket = cicd_template_json["Resources"][bucket_id]["Properties"]
    [rule] = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": {"Fn::GetAtt": [key_id, "Arn"]},
    }
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    [lifecycle] = bucket["LifecycleConfiguration"]["Rules"]
    assert lifecycle["ExpirationInDays"] == 30
    policy = next(
        p["Properties"]["PolicyDocument"]
        for p in resources(cicd_template_json, "AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": bucket_id}
    )
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in policy["Statement"]
    )
    for stage in ("Test", "Deploy"):  # the builds encrypt with the same key
        _, project = _project(cicd_template_json, stage)
        assert project["EncryptionKey"] == {"Fn::GetAtt": [key_id, "Arn"]}


def test_both_builds_log_to_log_groups_with_a_retention(
    cicd_template_json: dict[str, Any],
) -> None:
    groups = resources(cicd_template_json, "AWS::Logs::LogGroup")
    assert len(groups) == 2
    for stage in ("Test", "Deploy"):
        _, project = _project(cicd_template_json, stage)
        logs = project["LogsConfig"]["CloudWatchLogs"]
        assert logs["Status"] == "ENABLED"
        assert groups[logs["GroupName"]["Ref"]]["Properties"]["RetentionInDays"] == 30


def test_every_taggable_resource_carries_the_cost_tags_of_ci_cd(
    cicd_template_json: dict[str, Any],
) -> None:
    tagged = [
        (k, v["Properties"]["Tags"])
        for k, v in cicd_template_json["Resources"].items()
        if "Tags" in v.get("Properties", {})
    ]
    assert len(tagged) >= 8
    for logical_id, tags in tagged:
        found = {t["Key"]: t["Value"] for t in tags}
        assert found == {"project": "prime-vod", "prime-vod:component": "ci-cd"}, logical_id


def test_the_ci_cd_stack_needs_no_account_and_is_off_by_default(
    cicd_template_path: Path, template_path: Path
) -> None:
    manifest = json.loads((cicd_template_path.parent / "manifest.json").read_text())
    assert manifest["artifacts"]["PrimeVodCiCd"]["environment"] == (
        "aws://unknown-account/unknown-region"
    )
    default = json.loads((template_path.parent / "manifest.json").read_text())
    assert "PrimeVodCiCd" not in default["artifacts"]
    assert "PrimeVod" in default["artifacts"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, False), ("off", False), ("on", True), ("ON", True), (True, True), (False, False)],
)
def test_flags_read_on_and_off(value: object, expected: bool) -> None:
    from primevod.aws.cdk.app import flag

    assert flag(value) is expected


def test_a_flag_that_is_neither_on_nor_off_is_refused() -> None:
    from primevod.aws.cdk.app import flag

    with pytest.raises(ValueError, match="on or off"):
        flag("maybe", "search")
