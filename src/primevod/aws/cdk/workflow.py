"""The asset workflow as a Step Functions standard state machine, read as the story:

    Ingest -> Plan -> Encode (MediaConvert, .sync) -> Validate -> Publish -> Ready
          any task's error, once its retries are spent -> RecordFailure -> SourceRefused:
              a `source.*` code -> Rejected (succeeds: a bad upload, not a failed workflow)
              any other code    -> Failed

The state is the execution input `{"asset_id", "bucket", "key"}`, which `Ingest` returns
enriched with `probe` and `source_url`; each later step adds its result under its own key
(`$.plan`, `$.encode`, `$.validation`, `$.published`), and a caught error lands in `$.error`.

Retries: transient errors only, up to three retries after 2, 4 and 8 s (backoff rate 2).
The handlers' deliberate errors (`SourceRejected`, `PlanRejected`, `PackageInvalid`) are not
in any retrier: they go straight to `RecordFailure`. A MediaConvert job that fails is not
retried either (it would fail the same way, at the same cost).

Encode passes the plan's `Settings` and `AccelerationSettings` with the stack's MediaConvert
role (not the plan's `Role`, see below) and job queue and tags the job with the asset id
(`UserMetadata.asset_id`), which is how the encode-failed rule recognizes this stack's jobs."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

LAMBDA_TRANSIENT_ERRORS = (
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "Lambda.ClientExecutionTimeoutException",
    "TransientError",  # handlers/tasks.py: worth another attempt
)
MEDIACONVERT_TRANSIENT_ERRORS = (
    "MediaConvert.TooManyRequestsException",
    "MediaConvert.InternalServerErrorException",
    "MediaConvert.ServiceQuotaExceededException",
    "MediaConvert.ConflictException",
)
# the handlers' deliberate errors: in no retrier above, so they go straight to RecordFailure
PERMANENT_ERRORS = ("SourceRejected", "PlanRejected", "PackageInvalid")
RETRY_INTERVAL = Duration.seconds(2)
RETRY_ATTEMPTS = 3
RETRY_BACKOFF = 2.0
ENCODE_TIMEOUT = Duration.hours(3)  # a 30 s test clip takes minutes; a feature film, an hour
EXECUTION_TIMEOUT = Duration.hours(6)


@dataclass(frozen=True)
class TaskFunctions:
    ingest: lambda_.Function
    plan: lambda_.Function
    validate: lambda_.Function
    publish: lambda_.Function
    failure: lambda_.Function


def definition(
    scope: Construct, fns: TaskFunctions, mediaconvert_role: iam.IRole, queue_arn: str
) -> sfn.IChainable:
    # the failure record retries transient errors too; if it still fails, the execution
    # fails (and the execution-failed rule still tells the topic)
    record_failure = _retried(
        _lambda_task(scope, "RecordFailure", fns.failure, "$.failure"), LAMBDA_TRANSIENT_ERRORS
    )
    # a refused source (`source.*`: corrupt, too long, unsupported) is the uploader's to fix,
    # not a fault of the pipeline: the execution ends in `Rejected`, having judged the file,
    # so ExecutionsFailed (what the workflow-failures alarm watches, as locally) counts the
    # pipeline's own failures only; the asset still records the error and subscribers hear it
    refused = sfn.Choice(scope, "SourceRefused")
    refused.when(
        sfn.Condition.string_matches("$.failure.error.code", "source.*"),
        sfn.Succeed(scope, "Rejected", comment="the source was refused (asset failed)"),
    )
    refused.otherwise(
        # the execution fails with the project's code (`encode.failed`) and message, as
        # RecordFailure wrote them on the asset: more telling than the caught `States.*`
        # name, which is reserved (Step Functions' interpreter in moto refuses to re-raise it)
        sfn.Fail(
            scope,
            "Failed",
            error_path="$.failure.error.code",
            cause_path="$.failure.error.message",
        )
    )
    record_failure.next(refused)

    def guarded(task: sfn.TaskStateBase, retry_errors: tuple[str, ...]) -> sfn.TaskStateBase:
        _retried(task, retry_errors)
        task.add_catch(record_failure, errors=[sfn.Errors.ALL], result_path="$.error")
        return task

    ingest = _lambda_task(scope, "Ingest", fns.ingest, "$")
    plan = _lambda_task(scope, "Plan", fns.plan, "$.plan")
    encode = tasks.MediaConvertCreateJob(
        scope,
        "Encode",
        integration_pattern=sfn.IntegrationPattern.RUN_JOB,
        create_job_request={
            # the stack's role, not `$.plan.job.Role` (the same ARN, from the same setting):
            # CDK writes the Role value into the iam:PassRole statement it adds, and a path
            # there is not an ARN (CloudFormation refuses the policy); a fixed role is also
            # the least the state machine needs to be able to pass
            "Role": mediaconvert_role.role_arn,
            "Queue": queue_arn,  # the stack's queue, the plan's `Queue` too (same setting)
            "Settings": sfn.JsonPath.object_at("$.plan.job.Settings"),
            # always in the plan (the auto ladder's Automated ABR asks for PREFERRED)
            "AccelerationSettings": sfn.JsonPath.object_at("$.plan.job.AccelerationSettings"),
            "UserMetadata": {"asset_id": sfn.JsonPath.string_at("$.asset_id")},
        },
        result_selector={"job_id": sfn.JsonPath.string_at("$.Job.Id")},
        result_path="$.encode",
        task_timeout=sfn.Timeout.duration(ENCODE_TIMEOUT),
    )
    validate = _lambda_task(scope, "Validate", fns.validate, "$.validation")
    publish = _lambda_task(scope, "Publish", fns.publish, "$.published")
    return (
        sfn.Chain.start(guarded(ingest, LAMBDA_TRANSIENT_ERRORS))
        .next(guarded(plan, LAMBDA_TRANSIENT_ERRORS))
        .next(guarded(encode, MEDIACONVERT_TRANSIENT_ERRORS))
        .next(guarded(validate, LAMBDA_TRANSIENT_ERRORS))
        .next(guarded(publish, LAMBDA_TRANSIENT_ERRORS))
        .next(sfn.Succeed(scope, "Ready"))
    )


def _lambda_task(
    scope: Construct, name: str, fn: lambda_.Function, result_path: str
) -> tasks.LambdaInvoke:
    """The function's own timeout bounds the task, with a margin for the invocation."""
    timeout = fn.timeout.to_seconds() if fn.timeout else 300
    return tasks.LambdaInvoke(
        scope,
        name,
        lambda_function=fn,
        payload_response_only=True,
        retry_on_service_exceptions=False,  # our own retrier below, with our backoff
        result_path=result_path,
        task_timeout=sfn.Timeout.duration(Duration.seconds(timeout + 30)),
    )


def _retried(task: sfn.TaskStateBase, errors: tuple[str, ...]) -> sfn.TaskStateBase:
    return task.add_retry(
        errors=list(errors),
        interval=RETRY_INTERVAL,
        max_attempts=RETRY_ATTEMPTS,
        backoff_rate=RETRY_BACKOFF,
    )


def state_machine(
    scope: Construct, id: str, fns: TaskFunctions, mediaconvert_role: iam.IRole, queue_arn: str
) -> sfn.StateMachine:
    """The standard workflow, logged (all events) and traced. Its role may pass the
    MediaConvert role to MediaConvert and no other role (the statement CDK's Encode task
    adds, from its fixed `Role`), and run, watch and cancel MediaConvert jobs (`.sync`)."""
    log_group = logs.LogGroup(scope, f"{id}Logs", retention=logs.RetentionDays.ONE_MONTH)
    machine = sfn.StateMachine(
        scope,
        id,
        definition_body=sfn.DefinitionBody.from_chainable(
            definition(scope, fns, mediaconvert_role, queue_arn)
        ),
        state_machine_type=sfn.StateMachineType.STANDARD,
        timeout=EXECUTION_TIMEOUT,
        tracing_enabled=True,
        logs=sfn.LogOptions(
            destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=True
        ),
        comment="prime-vod: ingest, plan, encode (MediaConvert), validate, publish an asset",
    )
    return machine
