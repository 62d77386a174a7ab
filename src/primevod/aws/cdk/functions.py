"""The Lambda functions: every handler of `primevod.aws.handlers` runs from one shared code
bundle (aws/bundle.py: the package and its wheels, no Docker) on the bundle's Python
(`bundle.LAMBDA_RUNTIME`, python3.12: why not 3.11 is in bundle.py) on x86_64, with
the same environment (what `handlers/context.py` reads), X-Ray tracing, and a log group that
keeps a month of logs and that only its function's role may write."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from primevod.aws.bundle import LAMBDA_PYTHON, MODELS_DIR


@dataclass(frozen=True)
class HandlerSpec:
    """One Lambda function: its construct id, handler string, timeout and memory."""

    id: str
    handler: str
    timeout_seconds: int
    description: str
    memory_mb: int = 512  # pydantic's import dominates a cold start; more memory, more CPU


_HANDLERS = "primevod.aws.handlers"
START = HandlerSpec(
    "Start", f"{_HANDLERS}.start.handler", 30, "S3 upload -> a state machine execution"
)
INGEST = HandlerSpec(
    "Ingest", f"{_HANDLERS}.tasks.ingest_handler", 120, "record, probe and check the source"
)
PLAN = HandlerSpec("Plan", f"{_HANDLERS}.tasks.plan_handler", 60, "the MediaConvert job")
VALIDATE = HandlerSpec(
    "Validate",
    f"{_HANDLERS}.tasks.validate_handler",
    300,
    "validate the encoded package",
    memory_mb=1024,
)
PUBLISH = HandlerSpec(
    "Publish", f"{_HANDLERS}.tasks.publish_handler", 60, "point the asset at its package"
)
FAILURE = HandlerSpec(
    "RecordFailure", f"{_HANDLERS}.tasks.failure_handler", 60, "record a failed asset"
)
UPLOADS = HandlerSpec(
    "Uploads", f"{_HANDLERS}.uploads.handler", 30, "multipart upload API (S3 presigned parts)"
)
PLAYBACK = HandlerSpec(
    "Playback", f"{_HANDLERS}.playback.handler", 15, "signed playback URLs of an asset"
)
CANARY = HandlerSpec(
    "Canary", f"{_HANDLERS}.canary.handler", 120, "synthetic HLS check of ready assets"
)
AUTHORIZER = HandlerSpec(
    "Authorizer", f"{_HANDLERS}.authorizer.handler", 10, "API keys and roles of the HTTP API"
)
SEARCH_INDEXER = HandlerSpec(
    "SearchIndexer",
    f"{_HANDLERS}.search_indexer.handler",
    60,
    "the assets table's stream into the OpenSearch domain",
    memory_mb=256,  # no pydantic: JSON, botocore's signer and httpx
)

LOG_RETENTION = logs.RetentionDays.ONE_MONTH
# botocore looks here first: the bundle's service models (bundle.py) over the runtime's
MODELS_PATH = f"/var/task/{MODELS_DIR}"
RUNTIME: lambda_.Runtime = getattr(lambda_.Runtime, "PYTHON_{}_{}".format(*LAMBDA_PYTHON))


class Functions(Construct):
    """The shared bundle and environment, and a factory of functions that use them."""

    def __init__(
        self, scope: Construct, id: str, *, bundle: Path, environment: Mapping[str, str]
    ) -> None:
        super().__init__(scope, id)
        self.code = lambda_.Code.from_asset(str(bundle))
        self.environment = dict(environment)

    def function(
        self, spec: HandlerSpec, extra_environment: Mapping[str, str] | None = None
    ) -> lambda_.Function:
        log_group = logs.LogGroup(self, f"{spec.id}Logs", retention=LOG_RETENTION)
        # its own role, allowed to write its own log group (instead of the managed
        # AWSLambdaBasicExecutionRole: create any log group, write any log stream)
        role = iam.Role(
            self,
            f"{spec.id}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"prime-vod {spec.id} function",
        )
        log_group.grant_write(role)
        return lambda_.Function(
            self,
            spec.id,
            code=self.code,
            handler=spec.handler,
            runtime=RUNTIME,
            architecture=lambda_.Architecture.X86_64,
            description=f"prime-vod: {spec.description}",
            timeout=Duration.seconds(spec.timeout_seconds),
            memory_size=spec.memory_mb,
            environment={
                **self.environment,
                "AWS_DATA_PATH": MODELS_PATH,
                **(extra_environment or {}),
            },
            tracing=lambda_.Tracing.ACTIVE,
            log_group=log_group,
            role=role,
        )
