"""The processing pipeline: the task functions with what each may touch, the state machine
(workflow.py), the start function, and the EventBridge rules around them.

    upload rule:   S3 `Object Created` under `uploads/` in the source bucket -> Start
                   (which starts an execution named after the asset: once per upload)
    failure rules: an execution FAILED / TIMED_OUT / ABORTED, a MediaConvert job of ours
                   (UserMetadata.asset_id) in ERROR -> the asset events topic

What each function may do (least privilege; the handlers are in primevod.aws.handlers):

    Start          states:StartExecution on this state machine
    Ingest         read the uploads, read/write the table, mediaconvert:Probe
    Plan           read/write the table
    Validate       read the destination bucket
    Publish        read/write the table, publish to the topic
    RecordFailure  read/write the table, publish to the topic
MediaConvert runs as its own role (read the uploads, write the destination); only the state
machine may pass that role, and only to MediaConvert.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_mediaconvert as mediaconvert
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from primevod.aws.cdk import functions as specs
from primevod.aws.cdk.data import Data
from primevod.aws.cdk.functions import Functions
from primevod.aws.cdk.storage import Storage
from primevod.aws.cdk.workflow import TaskFunctions, state_machine

FAILED_STATUSES = ("FAILED", "TIMED_OUT", "ABORTED")


def mediaconvert_role(scope: Construct, id: str, storage: Storage, upload_prefix: str) -> iam.Role:
    """The role MediaConvert assumes for a job: read the uploads, write the destination."""
    role = iam.Role(
        scope,
        id,
        assumed_by=iam.ServicePrincipal("mediaconvert.amazonaws.com"),
        description="prime-vod: MediaConvert reads the source bucket, writes the destination",
    )
    storage.source.grant_read(role, f"{upload_prefix}*")
    storage.destination.grant_put(role)
    role.add_to_policy(
        iam.PolicyStatement(
            actions=["s3:GetBucketLocation"], resources=[storage.destination.bucket_arn]
        )
    )
    return role


def mediaconvert_queue(scope: Construct, id: str) -> mediaconvert.CfnQueue:
    """The stack's own on-demand job queue: its jobs apart from the account's default queue
    (their count, their minutes on the bill), and one place to swap in a reserved queue."""
    return mediaconvert.CfnQueue(
        scope,
        id,
        pricing_plan="ON_DEMAND",
        status="ACTIVE",
        description="prime-vod: the asset encodes of this stack",
    )


class Pipeline(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        fns: Functions,
        storage: Storage,
        data: Data,
        mediaconvert: iam.IRole,
        queue_arn: str,
        upload_prefix: str,
    ) -> None:
        super().__init__(scope, id)
        self.tasks = self._task_functions(fns, storage, data, upload_prefix)
        self.state_machine = state_machine(
            self, "StateMachine", self.tasks, mediaconvert, queue_arn
        )
        self.start = fns.function(
            specs.START, {"PRIMEVOD_STATE_MACHINE_ARN": self.state_machine.state_machine_arn}
        )
        self.state_machine.grant_start_execution(self.start)
        self.start_dead_letters = sqs.Queue(
            self,
            "StartDeadLetters",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        self.upload_rule = self._upload_rule(storage, upload_prefix)
        self.execution_failed_rule = self._execution_failed_rule(data)
        self.encode_failed_rule = self._encode_failed_rule(data)

    def _task_functions(
        self, fns: Functions, storage: Storage, data: Data, upload_prefix: str
    ) -> TaskFunctions:
        tasks = TaskFunctions(
            ingest=fns.function(specs.INGEST),
            plan=fns.function(specs.PLAN),
            validate=fns.function(specs.VALIDATE),
            publish=fns.function(specs.PUBLISH),
            failure=fns.function(specs.FAILURE),
        )
        storage.source.grant_read(tasks.ingest, f"{upload_prefix}*")
        tasks.ingest.add_to_role_policy(
            iam.PolicyStatement(
                actions=["mediaconvert:Probe", "mediaconvert:DescribeEndpoints"],
                resources=["*"],  # neither action takes a resource
            )
        )
        storage.destination.grant_read(tasks.validate)
        for fn in (tasks.ingest, tasks.plan, tasks.publish, tasks.failure):
            data.table.grant_read_write_data(fn)
        for fn in (tasks.publish, tasks.failure):
            data.topic.grant_publish(fn)
        return tasks

    def _upload_rule(self, storage: Storage, upload_prefix: str) -> events.Rule:
        return events.Rule(
            self,
            "UploadRule",
            description="prime-vod: a new source object under the upload prefix starts an asset",
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail={
                    "bucket": {"name": [storage.source.bucket_name]},
                    "object": {"key": [{"prefix": upload_prefix}]},
                },
            ),
            targets=[
                targets.LambdaFunction(
                    self.start,
                    retry_attempts=8,
                    max_event_age=Duration.hours(6),
                    dead_letter_queue=self.start_dead_letters,
                )
            ],
        )

    def _execution_failed_rule(self, data: Data) -> events.Rule:
        """The execution's name is the asset id: the event names the asset."""
        return events.Rule(
            self,
            "ExecutionFailedRule",
            description="prime-vod: an asset's execution failed, timed out or was aborted",
            event_pattern=events.EventPattern(
                source=["aws.states"],
                detail_type=["Step Functions Execution Status Change"],
                detail={
                    "status": list(FAILED_STATUSES),
                    "stateMachineArn": [self.state_machine.state_machine_arn],
                },
            ),
            targets=[
                targets.SnsTopic(
                    data.topic,
                    message=events.RuleTargetInput.from_object(
                        {
                            "type": "workflow.failed",
                            "asset_id": events.EventField.from_path("$.detail.name"),
                            "status": events.EventField.from_path("$.detail.status"),
                            "execution_arn": events.EventField.from_path("$.detail.executionArn"),
                        }
                    ),
                )
            ],
        )

    def _encode_failed_rule(self, data: Data) -> events.Rule:
        """Only this stack's jobs: the Encode state tags each with its asset id."""
        return events.Rule(
            self,
            "EncodeFailedRule",
            description="prime-vod: a MediaConvert job of an asset ended in ERROR",
            event_pattern=events.EventPattern(
                source=["aws.mediaconvert"],
                detail_type=["MediaConvert Job State Change"],
                detail={"status": ["ERROR"], "userMetadata": {"asset_id": [{"exists": True}]}},
            ),
            targets=[
                targets.SnsTopic(
                    data.topic,
                    message=events.RuleTargetInput.from_object(
                        {
                            "type": "encode.failed",
                            "asset_id": events.EventField.from_path(
                                "$.detail.userMetadata.asset_id"
                            ),
                            "job_id": events.EventField.from_path("$.detail.jobId"),
                            "error_code": events.EventField.from_path("$.detail.errorCode"),
                            "error_message": events.EventField.from_path("$.detail.errorMessage"),
                        }
                    ),
                )
            ],
        )
