"""The catalog and the events: the DynamoDB table of assets (adapters/aws/dynamo_assets.py:
key `id`, the status index over `status` and `created_at`), and the SNS topic of asset events
with an SQS queue subscribed (and its dead-letter queue) for whatever processes them next.

The topic is encrypted with a customer managed key because EventBridge publishes to it (the
failure rules): a topic under the AWS managed `alias/aws/sns` key refuses EventBridge, whose
service principal cannot be granted that key."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

STATUS_INDEX = "status-index"
MAX_RECEIVES = 5  # deliveries of one event before it moves to the dead-letter queue


class Data(Construct):
    def __init__(self, scope: Construct, id: str, *, stream: bool = False) -> None:
        """`stream`: the table's changes as a DynamoDB stream of new images (what the
        optional search indexer reads; search.py)."""
        super().__init__(scope, id)
        self.table = dynamodb.Table(
            self,
            "Assets",
            partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            stream=dynamodb.StreamViewType.NEW_IMAGE if stream else None,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.table.add_global_secondary_index(
            index_name=STATUS_INDEX,
            partition_key=dynamodb.Attribute(name="status", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="created_at", type=dynamodb.AttributeType.STRING),
            projection_type=dynamodb.ProjectionType.ALL,
        )

        self.events_key = kms.Key(
            self,
            "EventsKey",
            description="prime-vod asset events (SNS topic encryption)",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.DESTROY,  # it encrypts messages in flight only
        )
        self.events_key.grant(
            iam.ServicePrincipal("events.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey*"
        )
        self.topic = sns.Topic(
            self,
            "AssetEvents",
            display_name="prime-vod asset events",
            master_key=self.events_key,
            enforce_ssl=True,
        )

        self.dead_letters = sqs.Queue(
            self,
            "AssetEventsDeadLetters",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        self.queue = sqs.Queue(
            self,
            "AssetEventsQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.dead_letters, max_receive_count=MAX_RECEIVES
            ),
        )
        self.topic.add_subscription(
            subscriptions.SqsSubscription(self.queue, raw_message_delivery=True)
        )
