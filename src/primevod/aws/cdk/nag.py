"""The cdk-nag AwsSolutions findings this stack accepts, each on the construct it concerns
and with the reason. Recorded with CDK's own `Validations.of(...).acknowledge` (what
cdk-nag v3 reads), so they cost nothing when no nag pack runs:

    synth(outdir, nag=True)        # app.py; `primevod aws synth --nag`; tests/aws/test_nag.py

Everything not listed here is fixed in the constructs instead (TLS-only buckets, queues and
topic; encrypted topic and queues; point-in-time recovery; state machine logging and
tracing; API access logs; per-function roles writing only their own log group; the
optional search domain's encryption, HTTPS and logs; the Athena workgroup's encrypted
results; the CI/CD stack's KMS-encrypted builds)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Acknowledgment, Stack, Validations
from aws_cdk import aws_lambda as lambda_
from constructs import IConstruct

if TYPE_CHECKING:
    from primevod.aws.cdk.cicd import PrimeVodCiCdStack
    from primevod.aws.cdk.stack import PrimeVodStack

GRANT_WILDCARDS = (
    "Action::s3:GetObject*",
    "Action::s3:GetBucket*",
    "Action::s3:List*",
    "Action::s3:Abort*",
    "Action::kms:GenerateDataKey*",
    "Action::kms:ReEncrypt*",  # grant_put on a bucket under the media key
)


def acknowledge_findings(stack: PrimeVodStack) -> None:
    _storage(stack)
    _delivery(stack)
    _wildcards(stack)
    _runtime(stack)
    _search(stack)
    _analytics(stack)


def acknowledge_cicd_findings(stack: PrimeVodCiCdStack) -> None:
    """The CI/CD stack's: CDK's grants around the pipeline's artifacts, the test image."""
    _ack(
        stack.artifacts,
        "AwsSolutions-S1",
        "the pipeline's artifact bucket: only the pipeline and its two build projects read "
        "and write it (CloudTrail records their calls), its objects expire after 30 days, "
        "and server access logs would need a bucket of their own",
    )
    _ack(
        stack.test_project,
        "AwsSolutions-CB5",
        "the tests need Debian 12: .ci/run installs Debian's chromium, PostgreSQL 15 and "
        "OpenStack Swift packages, which the CodeBuild images (Ubuntu, Amazon Linux) do not "
        "provide as the tests expect; the image is Docker's official python:3.11-bookworm "
        "from the ECR Public mirror, not privileged",
    )
    for finding in (*GRANT_WILDCARDS, "Action::s3:DeleteObject*"):
        _ack(
            stack,
            f"AwsSolutions-IAM5[{finding}]",
            "CDK's grants of the pipeline's artifact bucket and its key to the pipeline, its "
            "source action and the build projects (CodePipeline's and CodeBuild's own needs)",
        )
    _ack(
        stack,
        f"AwsSolutions-IAM5[Resource::<{_logical_id(stack, stack.artifacts)}.Arn>/*]",
        "the artifacts under the pipeline's own bucket",
    )
    for project in (stack.test_project, stack.deploy_project):
        name = _logical_id(stack, project)
        arn = "arn:<AWS::Partition>:{}:<AWS::Region>:<AWS::AccountId>:{}"
        assert project.role is not None
        for resource, what in (
            (arn.format("logs", f"log-group:/aws/codebuild/<{name}>:*"), "log streams"),
            (arn.format("codebuild", f"report-group/<{name}>-*"), "test report groups"),
        ):
            _ack(
                project.role,
                f"AwsSolutions-IAM5[Resource::{resource}]",
                f"CodeBuild's {what} of this project, named after it (CDK's grant)",
            )


def _storage(stack: PrimeVodStack) -> None:
    _ack(
        stack.storage.source,
        "AwsSolutions-S1",
        "server access logs need a log bucket of their own; the uploads are recorded by the "
        "upload sessions and CloudTrail (object-level data events are off: they bill per "
        "request)",
    )
    _ack(
        stack.storage.destination,
        "AwsSolutions-S1",
        "only MediaConvert writes here and only CloudFront reads; the distribution's access "
        "logs record every viewer request",
    )
    _ack(
        stack.governance.trail_bucket,
        "AwsSolutions-S1",
        "the audit log's own bucket: only CloudTrail writes it, and server access logs of it "
        "would need one more bucket",
    )
    _ack(
        stack.pipeline.start_dead_letters,
        "AwsSolutions-SQS3",
        "this queue is itself a dead-letter queue (of the upload rule's target)",
    )


def _delivery(stack: PrimeVodStack) -> None:
    delivery = stack.delivery
    _ack(
        delivery.log_bucket,
        "AwsSolutions-S1",
        "it is the access log bucket (of the distribution); logging it would need another",
    )
    _ack(
        delivery.distribution,
        "AwsSolutions-CFR1",
        "no geo restriction: who may watch is decided by the signed URLs; a licensing "
        "restriction by country is the operator's to add",
    )
    _ack(
        delivery.distribution,
        "AwsSolutions-CFR2",
        "no WAF: every request needs a valid signature (trusted key group); AWS WAF costs "
        "at least 5 USD a month, a quarter of the default budget",
    )
    _ack(
        delivery.distribution,
        "AwsSolutions-CFR4",
        "the default *.cloudfront.net certificate does not take a minimum TLS version; "
        "with a custom domain and certificate, set TLSv1.2_2021",
    )


def _wildcards(stack: PrimeVodStack) -> None:
    for scope in (*(fn.role for fn in _functions(stack)), stack.pipeline.state_machine):
        assert scope is not None
        _ack(
            scope,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray PutTraceSegments/PutTelemetryRecords, the Step Functions log delivery "
            "actions, mediaconvert:CreateJob/GetJob/CancelJob/Probe/DescribeEndpoints and "
            "dynamodb:ListStreams (the search indexer's) take no resource-level permissions",
        )
    for finding in GRANT_WILDCARDS:
        _ack(
            stack,
            f"AwsSolutions-IAM5[{finding}]",
            "CDK's grant helpers' action families, each on one bucket (or prefix) or one key",
        )
    table = _logical_id(stack, stack.data.table)
    _ack(
        stack,
        f"AwsSolutions-IAM5[Resource::<{table}.Arn>/index/*]",
        "the assets table's own indexes (the status index)",
    )
    for bucket, keys in (
        (stack.storage.source, "uploads/*"),
        (stack.storage.destination, "*"),
    ):
        _ack(
            stack,
            f"AwsSolutions-IAM5[Resource::<{_logical_id(stack, bucket)}.Arn>/{keys}]",
            "objects under the stack's own bucket (the uploads prefix for the source)",
        )
    for fn in _functions(stack):
        _ack(
            stack.pipeline.state_machine,
            f"AwsSolutions-IAM5[Resource::<{_logical_id(stack, fn)}.Arn>:*]",
            "versions and aliases of the stack's own task functions (CDK's LambdaInvoke)",
        )


def _runtime(stack: PrimeVodStack) -> None:
    for fn in _functions(stack):
        _ack(
            fn,
            "AwsSolutions-L1",
            "python3.12 (Amazon Linux 2023, supported to 2028-10-31): the bundle's wheels and "
            "bytecode are built for it and its imports are tested with it; the newest runtime "
            "is one constant away (aws/bundle.py LAMBDA_PYTHON)",
        )


def _search(stack: PrimeVodStack) -> None:
    if stack.search is None:
        return
    domain = stack.search.domain
    for rule, reason in (
        (
            "AwsSolutions-OS1",
            "no VPC: the only client is the indexer function, and a VPC would need it in "
            "the VPC too, with endpoints or a NAT gateway for everything else it calls; the "
            "domain's policy admits the indexer's role alone and every request is signed",
        ),
        (
            "AwsSolutions-OS3",
            "no IP allow list: the domain's policy names the indexer's role (SigV4), and a "
            "Lambda function has no fixed address to list",
        ),
        (
            "AwsSolutions-OS4",
            "no dedicated master nodes: one data node of a rebuildable index (the table is "
            "the record); three masters would triple the optional search's cost",
        ),
        (
            "AwsSolutions-OS7",
            "one zone: a single dev-sized node; zone awareness needs two data nodes or more",
        ),
    ):
        _ack(domain, rule, reason)
    _ack(
        stack.search.dead_letters,
        "AwsSolutions-SQS3",
        "this queue is itself a dead-letter queue (of the indexer's stream mapping)",
    )


def _analytics(stack: PrimeVodStack) -> None:
    if stack.analytics is None:
        return
    _ack(
        stack.analytics.results,
        "AwsSolutions-S1",
        "Athena's query results, written only through the workgroup and kept 30 days; "
        "server access logs would need a bucket of their own",
    )


def _functions(stack: PrimeVodStack) -> list[lambda_.Function]:
    tasks = stack.pipeline.tasks
    optional = [stack.search.indexer] if stack.search else []
    return [
        tasks.ingest,
        tasks.plan,
        tasks.validate,
        tasks.publish,
        tasks.failure,
        stack.pipeline.start,
        stack.api.uploads,
        stack.api.playback,
        stack.api.authorizer_fn,
        stack.observability.canary,
        *optional,
    ]


def _ack(scope: IConstruct, rule: str, reason: str) -> None:
    Validations.of(scope).acknowledge(Acknowledgment(id=rule, reason=reason))


def _logical_id(stack: Stack, construct: IConstruct) -> str:
    child = construct.node.default_child
    assert child is not None
    return str(stack.resolve(stack.get_logical_id(child)))  # type: ignore[arg-type]
