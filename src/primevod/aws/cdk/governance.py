"""Cost and audit around the pipeline: a monthly AWS Budget that tells the asset events topic
at 80 % of actual spend and at 100 % of forecast spend, cost allocation tags on every
resource, and a CloudTrail trail (log file validation on) into a bucket of its own,
encrypted with a key of its own.

    BudgetMonthlyUsd   a stack parameter, default 20 (the seed's dev budget)

The budget only tells: AWS Budgets cannot stop MediaConvert jobs. What refuses a job that
would break the budget is the project's own guardrail (a plan of the cost issue)."""

from __future__ import annotations

from aws_cdk import CfnParameter, Duration, RemovalPolicy, Stack, Tags
from aws_cdk import aws_budgets as budgets
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from primevod.aws.cdk.storage import private_bucket

DEFAULT_BUDGET_USD = 20
# (threshold %, what it is measured on): the seed's alerts
BUDGET_ALERTS = ((80, "ACTUAL"), (100, "FORECASTED"))
COMPONENT_TAG = "prime-vod:component"
COST_TAGS = {"project": "prime-vod", COMPONENT_TAG: "vod-pipeline"}
TRAIL_LOG_DAYS = 365


def tag_for_costs(stack: Stack, component: str | None = None) -> None:
    """Every taggable resource of the stack carries the tags (activate them as cost
    allocation tags in the Billing console to split the bill by them); `component`
    replaces the pipeline's own (the CI/CD stack's is `ci-cd`)."""
    tags = {**COST_TAGS, **({COMPONENT_TAG: component} if component else {})}
    for key, value in tags.items():
        # CloudFormation's dashboards take no tags (CDK would write them anyway)
        Tags.of(stack).add(key, value, exclude_resource_types=["AWS::CloudWatch::Dashboard"])


class Governance(Construct):
    def __init__(
        self, scope: Construct, id: str, *, topic: sns.ITopic, topic_key: kms.IKey
    ) -> None:
        super().__init__(scope, id)
        self.budget_usd = CfnParameter(
            self,
            "BudgetMonthlyUsd",
            type="Number",
            default=DEFAULT_BUDGET_USD,
            min_value=1,
            description="prime-vod: monthly AWS budget in USD (alerts at 80 % actual and "
            "100 % forecast on the asset events topic)",
        )
        self.budget = self._budget(topic, topic_key)
        self.trail = self._trail()

    def _budget(self, topic: sns.ITopic, topic_key: kms.IKey) -> budgets.CfnBudget:
        principal = iam.ServicePrincipal("budgets.amazonaws.com")
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                actions=["sns:Publish"],
                principals=[principal],
                resources=[topic.topic_arn],
                conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
            )
        )
        topic_key.grant(principal, "kms:Decrypt", "kms:GenerateDataKey*")
        subscriber = budgets.CfnBudget.SubscriberProperty(
            subscription_type="SNS", address=topic.topic_arn
        )
        return budgets.CfnBudget(
            self,
            "MonthlyBudget",
            budget=budgets.CfnBudget.BudgetDataProperty(
                budget_type="COST",
                time_unit="MONTHLY",
                budget_limit=budgets.CfnBudget.SpendProperty(
                    amount=self.budget_usd.value_as_number, unit="USD"
                ),
            ),
            notifications_with_subscribers=[
                budgets.CfnBudget.NotificationWithSubscribersProperty(
                    notification=budgets.CfnBudget.NotificationProperty(
                        comparison_operator="GREATER_THAN",
                        notification_type=kind,
                        threshold=percent,
                        threshold_type="PERCENTAGE",
                    ),
                    subscribers=[subscriber],
                )
                for percent, kind in BUDGET_ALERTS
            ],
        )

    def _trail(self) -> cloudtrail.Trail:
        key = kms.Key(
            self,
            "TrailKey",
            description="prime-vod CloudTrail logs",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.trail_bucket = bucket = private_bucket(
            self,
            "TrailLogs",
            key,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(TRAIL_LOG_DAYS))],
        )
        return cloudtrail.Trail(
            self,
            "Trail",
            bucket=bucket,
            encryption_key=key,
            enable_file_validation=True,
            include_global_service_events=True,
            is_multi_region_trail=True,
        )
