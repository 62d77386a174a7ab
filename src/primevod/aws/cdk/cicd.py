"""`PrimeVodCiCdStack`: the CI/CD of the AWS shape, a second stack of the same app (context
`primevod:cicd=on`), a CodePipeline (V2) of three stages:

    Source  the repository's branch through a CodeStar connection (GitHub, GitLab, Bitbucket)
    Test    CodeBuild on Debian 12 (python:3.11-bookworm): the Debian packages the tests drive
            (`.ci/run`'s list), then `.ci/run` itself (lint, the whole suite, the fresh install)
    Deploy  CodeBuild on the CodeBuild standard image: `cdk deploy PrimeVod --require-approval
            never` from deploy/aws, as the CDK bootstrap roles

Deploy-time parameters (no account needed to synthesize): `ConnectionArn`, `RepositoryOwner`,
`RepositoryName`, `BranchName`, `CdkQualifier` (the bootstrap's qualifier, CDK's default
`hnb659fds`).

Besides what CodeBuild itself needs (its logs and reports, reading the artifacts), the
deploy project's role may only assume the bootstrap's deploy, file publishing and lookup
roles: no CloudFormation, IAM or S3 writes of its own (the container image publishing role
is left out: the stack has no image assets). The
`PrimeVod` stack's parameters (the signing key) are not the pipeline's: deploy the stack
once by hand, and each pipeline deploy keeps their values (`cdk deploy` reuses a
parameter's previous value unless given one). The pipeline does not update itself: deploy
this stack again after changing it.

Artifacts go to a private, TLS-only, versioned bucket under a key of its own (rotated), kept
30 days; both build projects encrypt with that key and log to log groups kept a month."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnParameter, Duration, RemovalPolicy, Stack
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_codepipeline_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from primevod.aws.cdk.functions import LOG_RETENTION
from primevod.aws.cdk.governance import tag_for_costs
from primevod.aws.cdk.storage import scratch_bucket

DEFAULT_QUALIFIER = "hnb659fds"  # `cdk bootstrap`'s default
DEFAULT_REPOSITORY = "prime-vod"
DEFAULT_BRANCH = "main"
# the bootstrap roles `cdk deploy` of an environment-agnostic stack with file assets uses:
# deploy (CloudFormation), file publishing (the Lambda bundle to the staging bucket) and
# lookup (reads the deployed template and the bootstrap version)
BOOTSTRAP_ROLES = ("deploy-role", "file-publishing-role", "lookup-role")
# Debian 12, as .ci/run expects (Debian's chromium, PostgreSQL 15 and Swift packages);
# the ECR Public mirror of Docker Hub's official image (no Docker Hub pull limits)
TEST_IMAGE = "public.ecr.aws/docker/library/python:3.11-bookworm"
# the Debian packages .ci/run installs when missing (tests/aws/test_cicd_template.py keeps
# the two lists equal)
TEST_PACKAGES = (
    "chromium",
    "postgresql",
    "swift-proxy",
    "swift-account",
    "swift-container",
    "swift-object",
    "nodejs",
    "npm",
)
TEST_COMMAND = "bash .ci/run"  # a zip from the connection may lose the executable bit
TEST_TIMEOUT = Duration.minutes(60)  # the suite is about 13 minutes on 2 cores
DEPLOY_TIMEOUT = Duration.minutes(60)  # a new CloudFront distribution takes a while
ARTIFACT_DAYS = 30
CONNECTION_ARN_PATTERN = (
    r"arn:aws[a-z-]*:(codestar-connections|codeconnections):[a-z0-9-]+:[0-9]{12}:"
    r"connection/[0-9a-f-]+"
)


def buildspec_for_tests() -> dict[str, Any]:
    return {
        "version": "0.2",
        "env": {"variables": {"CI": "true", "DEBIAN_FRONTEND": "noninteractive"}},
        "phases": {
            "install": {
                "commands": [
                    "apt-get update -qq",
                    "apt-get install -y -qq " + " ".join(TEST_PACKAGES),
                ]
            },
            "build": {"commands": [TEST_COMMAND]},
        },
    }


def deploy_command(stack_name: str) -> str:
    return f"npx --yes aws-cdk@2 deploy {stack_name} --require-approval never"


def buildspec_for_deploy(stack_name: str) -> dict[str, Any]:
    return {
        "version": "0.2",
        "phases": {
            "install": {
                "runtime-versions": {"python": "3.12", "nodejs": "22"},
                "commands": ["python3 -m pip install --quiet '.[aws]'"],
            },
            "build": {"commands": ["cd deploy/aws", deploy_command(stack_name)]},
        },
    }


class PrimeVodCiCdStack(Stack):
    def __init__(self, scope: Construct, id: str, *, deploy_stack: str, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        self._parameters()
        self.key, self.artifacts = scratch_bucket(
            self,
            "Artifacts",
            description="prime-vod CI/CD artifacts and builds",
            days=ARTIFACT_DAYS,
        )
        self.test_project = self._project(
            "Tests",
            "the repository's tests (.ci/run)",
            codebuild.LinuxBuildImage.from_docker_registry(TEST_IMAGE),
            codebuild.ComputeType.MEDIUM,  # 4 vCPU, 7 GB: Chromium, PostgreSQL, encodes
            buildspec_for_tests(),
            TEST_TIMEOUT,
        )
        self.deploy_role = self._deploy_role()
        self.deploy_project = self._project(
            "Deploy",
            f"cdk deploy {deploy_stack}",
            codebuild.LinuxBuildImage.STANDARD_7_0,
            codebuild.ComputeType.SMALL,
            buildspec_for_deploy(deploy_stack),
            DEPLOY_TIMEOUT,
            role=self.deploy_role,
        )
        self.pipeline = self._pipeline()
        tag_for_costs(self, component="ci-cd")

    def _parameters(self) -> None:
        self.connection_arn = CfnParameter(
            self,
            "ConnectionArn",
            type="String",
            allowed_pattern=CONNECTION_ARN_PATTERN,
            description="prime-vod CI/CD: ARN of the CodeStar connection to the repository's "
            "host (created and approved in the console)",
        )
        self.repository_owner = CfnParameter(
            self,
            "RepositoryOwner",
            type="String",
            min_length=1,
            description="prime-vod CI/CD: the repository's owner (user or organization)",
        )
        self.repository_name = CfnParameter(
            self,
            "RepositoryName",
            type="String",
            default=DEFAULT_REPOSITORY,
            min_length=1,
            description="prime-vod CI/CD: the repository's name",
        )
        self.branch = CfnParameter(
            self,
            "BranchName",
            type="String",
            default=DEFAULT_BRANCH,
            min_length=1,
            description="prime-vod CI/CD: the branch that is tested and deployed",
        )
        self.qualifier = CfnParameter(
            self,
            "CdkQualifier",
            type="String",
            default=DEFAULT_QUALIFIER,
            allowed_pattern="[A-Za-z0-9_-]{1,10}",
            description="prime-vod CI/CD: qualifier of the CDK bootstrap whose roles the "
            "deploy assumes",
        )

    def bootstrap_role_arns(self) -> list[str]:
        """The bootstrap roles of this account and region (CDK's naming)."""
        return [
            f"arn:{self.partition}:iam::{self.account}:role/"
            f"cdk-{self.qualifier.value_as_string}-{role}-{self.account}-{self.region}"
            for role in BOOTSTRAP_ROLES
        ]

    def _deploy_role(self) -> iam.Role:
        role = iam.Role(
            self,
            "DeployRole",
            assumed_by=iam.ServicePrincipal("codebuild.amazonaws.com"),
            description="prime-vod CI/CD deploy: assumes the CDK bootstrap roles only",
        )
        role.add_to_policy(
            iam.PolicyStatement(actions=["sts:AssumeRole"], resources=self.bootstrap_role_arns())
        )
        return role

    def _project(
        self,
        id: str,
        what: str,
        image: codebuild.IBuildImage,
        compute: codebuild.ComputeType,
        buildspec: dict[str, Any],
        timeout: Duration,
        role: iam.IRole | None = None,
    ) -> codebuild.PipelineProject:
        log_group = logs.LogGroup(
            self, f"{id}Logs", retention=LOG_RETENTION, removal_policy=RemovalPolicy.DESTROY
        )
        return codebuild.PipelineProject(
            self,
            id,
            description=f"prime-vod CI/CD: {what}",
            build_spec=codebuild.BuildSpec.from_object(buildspec),
            environment=codebuild.BuildEnvironment(build_image=image, compute_type=compute),
            encryption_key=self.key,
            timeout=timeout,
            logging=codebuild.LoggingOptions(
                cloud_watch=codebuild.CloudWatchLoggingOptions(log_group=log_group)
            ),
            role=role,
        )

    def _pipeline(self) -> codepipeline.Pipeline:
        source = codepipeline.Artifact("Source")
        return codepipeline.Pipeline(
            self,
            "Pipeline",
            pipeline_type=codepipeline.PipelineType.V2,
            artifact_bucket=self.artifacts,
            restart_execution_on_update=False,
            stages=[
                codepipeline.StageProps(
                    stage_name="Source",
                    actions=[
                        actions.CodeStarConnectionsSourceAction(
                            action_name="Source",
                            connection_arn=self.connection_arn.value_as_string,
                            owner=self.repository_owner.value_as_string,
                            repo=self.repository_name.value_as_string,
                            branch=self.branch.value_as_string,
                            output=source,
                        )
                    ],
                ),
                codepipeline.StageProps(
                    stage_name="Test",
                    actions=[
                        actions.CodeBuildAction(
                            action_name="Test", project=self.test_project, input=source
                        )
                    ],
                ),
                codepipeline.StageProps(
                    stage_name="Deploy",
                    actions=[
                        actions.CodeBuildAction(
                            action_name="Deploy", project=self.deploy_project, input=source
                        )
                    ],
                ),
            ],
        )
