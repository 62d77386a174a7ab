"""The cdk-nag AwsSolutions findings this stack accepts, each on the construct it concerns
and with the reason. Recorded with CDK's own `Validations.of(...).acknowledge` (what
cdk-nag v3 reads), so they cost nothing when no nag pack runs:

    synth(outdir, nag=True)        # app.py; `primevod aws synth --nag`; tests/aws/test_nag.py

Everything not listed here is fixed in the constructs instead (TLS-only buckets, queues and
topic; encrypted topic and queues; point-in-time recovery; state machine logging and
tracing; API access logs; per-function roles writing only their own log group)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Acknowledgment, Stack, Validations
from aws_cdk import aws_lambda as lambda_
from constructs import IConstruct

if TYPE_CHECKING:
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
            "actions, mediaconvert:CreateJob/GetJob/CancelJob/Probe/DescribeEndpoints take "
            "no resource-level permissions",
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


def _functions(stack: PrimeVodStack) -> list[lambda_.Function]:
    tasks = stack.pipeline.tasks
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
    ]


def _ack(scope: IConstruct, rule: str, reason: str) -> None:
    Validations.of(scope).acknowledge(Acknowledgment(id=rule, reason=reason))


def _logical_id(stack: Stack, construct: IConstruct) -> str:
    child = construct.node.default_child
    assert child is not None
    return str(stack.resolve(stack.get_logical_id(child)))  # type: ignore[arg-type]
