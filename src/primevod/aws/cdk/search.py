"""Optional search (context `primevod:search=on`): an OpenSearch Service domain of the
assets, kept up to date from the assets table's DynamoDB stream by the indexer function
(handlers/search_indexer.py).

    assets table --stream (new images)--> SearchIndexer (Lambda) --SigV4 _bulk--> domain
                                              | a batch failed for a day
                                              v
                                          dead-letter queue (SQS)

- The domain: one `t3.small.search` data node (the smallest current instance type),
  10 GB gp3, no dedicated masters, one zone: a dev-sized index of a rebuildable copy
  (deleted with the stack; the table is the record). Encryption at rest and between
  nodes, HTTPS only with TLS 1.2, slow search, slow index and application logs to log
  groups kept a month (their resource policy is the stack's own, not CDK's custom
  resource).
- Access: the domain's policy admits the indexer's role alone, for `POST` to
  `/<index>/_bulk`; everything is signed (SigV4). Readers are granted by IAM policies of
  their own in the account (`es:ESHttpGet` on the domain).
- The indexer reads the stream from its start (TRIM_HORIZON), in batches of up to 100
  records, reports failed items (Lambda resumes from the earliest), halves a failing batch,
  and sends what still fails after a day to the dead-letter queue."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_opensearchservice as opensearch
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from primevod.aws.cdk import functions as specs
from primevod.aws.cdk.functions import LOG_RETENTION, Functions
from primevod.aws.handlers.search_indexer import DEFAULT_INDEX

INSTANCE_TYPE = "t3.small.search"
VOLUME_GB = 10
ENGINE = opensearch.EngineVersion.OPENSEARCH_2_19
BATCH_SIZE = 100
MAX_RECORD_AGE = Duration.days(1)
RETRIES = 10
BULK_ACTION = "es:ESHttpPost"


class Search(Construct):
    def __init__(
        self, scope: Construct, id: str, *, fns: Functions, table: dynamodb.ITable
    ) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        # a name of our own: the domain's policy must name the domain, which cannot refer
        # to its own ARN (domain names: 3 to 28 lower-case letters, digits and hyphens)
        self.domain_name = f"{stack.stack_name.lower()}-assets"[:28]
        self.index = DEFAULT_INDEX
        self.log_groups = [
            logs.LogGroup(
                self, f"{kind}Logs", retention=LOG_RETENTION, removal_policy=RemovalPolicy.DESTROY
            )
            for kind in ("SlowSearch", "SlowIndex", "App")
        ]
        self.domain = self._domain()
        self.indexer = self._indexer(fns, table)
        self._admit_only(self.indexer)

    def _domain(self) -> opensearch.Domain:
        slow_search, slow_index, app = self.log_groups
        logs_policy = logs.ResourcePolicy(
            self,
            "LogsPolicy",
            policy_statements=[
                iam.PolicyStatement(
                    principals=[iam.ServicePrincipal("es.amazonaws.com")],
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=[group.log_group_arn for group in self.log_groups],
                    conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
                )
            ],
        )
        domain = opensearch.Domain(
            self,
            "Domain",
            domain_name=self.domain_name,
            version=ENGINE,
            capacity=opensearch.CapacityConfig(
                data_nodes=1,
                data_node_instance_type=INSTANCE_TYPE,
                multi_az_with_standby_enabled=False,
            ),
            ebs=opensearch.EbsOptions(
                volume_size=VOLUME_GB, volume_type=ec2.EbsDeviceVolumeType.GP3
            ),
            zone_awareness=opensearch.ZoneAwarenessConfig(enabled=False),
            encryption_at_rest=opensearch.EncryptionAtRestOptions(enabled=True),
            node_to_node_encryption=True,
            enforce_https=True,
            tls_security_policy=opensearch.TLSSecurityPolicy.TLS_1_2,
            logging=opensearch.LoggingOptions(
                slow_search_log_enabled=True,
                slow_search_log_group=slow_search,
                slow_index_log_enabled=True,
                slow_index_log_group=slow_index,
                app_log_enabled=True,
                app_log_group=app,
            ),
            suppress_logs_resource_policy=True,  # logs_policy instead of a custom resource
            removal_policy=RemovalPolicy.DESTROY,
        )
        domain.node.add_dependency(logs_policy)
        return domain

    def _indexer(self, fns: Functions, table: dynamodb.ITable) -> lambda_.Function:
        fn = fns.function(
            specs.SEARCH_INDEXER,
            {
                "PRIMEVOD_SEARCH_ENDPOINT": f"https://{self.domain.domain_endpoint}",
                "PRIMEVOD_SEARCH_INDEX": self.index,
            },
        )
        fn.add_to_role_policy(
            iam.PolicyStatement(actions=[BULK_ACTION], resources=[self._bulk_arn()])
        )
        self.dead_letters = sqs.Queue(
            self,
            "IndexerDeadLetters",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        fn.add_event_source(
            sources.DynamoEventSource(
                table,
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=BATCH_SIZE,
                max_batching_window=Duration.seconds(5),
                bisect_batch_on_error=True,
                retry_attempts=RETRIES,
                max_record_age=MAX_RECORD_AGE,
                report_batch_item_failures=True,
                on_failure=sources.SqsDlq(self.dead_letters),
            )
        )
        return fn

    def _bulk_arn(self) -> str:
        stack = Stack.of(self)
        return (
            f"arn:{stack.partition}:es:{stack.region}:{stack.account}:"
            f"domain/{self.domain_name}/{self.index}/_bulk"
        )

    def _admit_only(self, fn: lambda_.Function) -> None:
        """The domain's access policy: the indexer's role, bulk requests to its index."""
        assert fn.role is not None
        cfn = self.domain.node.default_child
        assert isinstance(cfn, opensearch.CfnDomain)
        cfn.access_policies = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": fn.role.role_arn},
                    "Action": BULK_ACTION,
                    "Resource": self._bulk_arn(),
                }
            ],
        }
