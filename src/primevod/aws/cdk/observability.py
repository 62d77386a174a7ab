"""Alarms and a dashboard: the local default alarms (core/alarms.DEFAULT_ALARMS) on the AWS
shape's own metrics, with the same thresholds, periods and least sample counts, plus the
workflow's execution time. Every alarm tells the asset events topic.

    local metric            CloudWatch
    workflows_failed        AWS/States ExecutionsFailed (the state machine), sum; a refused
                            source ends in the Rejected state, so it counts as locally: not
    error_rate_5xx / 4xx    AWS/CloudFront 5xxErrorRate / 4xxErrorRate, average (percent)
    cache_hit_ratio         AWS/CloudFront CacheHitRate (an additional metric), average
    origin_latency_p95_ms   AWS/CloudFront OriginLatency (an additional metric), p95
    canary_failed           PrimeVod/Canary CanaryFailed (handlers/canary.py), sum

`min_samples` becomes metric math: the rate counts only when the period saw that many
requests (`IF(requests >= n, rate, 0)`). CloudFront's metrics exist in us-east-1 only: in
any other region the delivery alarms see no data (and stay OK)."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from primevod.aws.cdk import functions as specs
from primevod.aws.cdk.api import PlaybackSettings
from primevod.aws.cdk.data import Data
from primevod.aws.cdk.functions import Functions
from primevod.aws.handlers.canary import NAMESPACE as CANARY_NAMESPACE
from primevod.core.alarms import DEFAULT_ALARMS, AlarmSpec

SLOW_EXECUTION = Duration.hours(2)
CANARY_EVERY = Duration.minutes(5)
# local metric -> (CloudFront metric, statistic, ratio as percent?)
CLOUDFRONT_METRICS = {
    "error_rate_5xx": ("5xxErrorRate", "Average", True),
    "error_rate_4xx": ("4xxErrorRate", "Average", True),
    "cache_hit_ratio": ("CacheHitRate", "Average", True),
    "origin_latency_p95_ms": ("OriginLatency", "p95", False),
}
COMPARISON = {
    ">": cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    "<": cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
}


class Observability(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        state_machine: sfn.StateMachine,
        distribution: cloudfront.Distribution,
        topic: sns.ITopic,
        topic_key: kms.IKey,
        fns: Functions,
        data: Data,
        playback: PlaybackSettings,
    ) -> None:
        super().__init__(scope, id)
        topic_key.grant(
            iam.ServicePrincipal("cloudwatch.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey*"
        )
        # cache hit rate and origin latency are CloudFront's additional metrics
        subscription = cloudfront.CfnMonitoringSubscription
        subscription(
            self,
            "AdditionalMetrics",
            distribution_id=distribution.distribution_id,
            monitoring_subscription=subscription.MonitoringSubscriptionProperty(
                realtime_metrics_subscription_config=subscription.RealtimeMetricsSubscriptionConfigProperty(
                    realtime_metrics_subscription_status="Enabled"
                )
            ),
        )
        self.state_machine, self.distribution = state_machine, distribution
        self.canary = self._canary(fns, data, playback)
        self.alarms = [self._alarm(spec) for spec in DEFAULT_ALARMS if self._covers(spec)]
        self.alarms.append(self._slow_executions())
        for alarm in self.alarms:
            alarm.add_alarm_action(actions.SnsAction(topic))
        self.dashboard = self._dashboard()

    def _canary(self, fns: Functions, data: Data, playback: PlaybackSettings) -> lambda_.Function:
        """The scheduled canary: reads ready assets, signs with the playback key, writes its
        own metrics (PutMetricData takes no resource: the namespace is the condition)."""
        fn = fns.function(specs.CANARY, playback.environment())
        data.table.grant_read_data(fn)
        playback.grant(self, fn)
        fn.add_to_role_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": CANARY_NAMESPACE}},
            )
        )
        events.Rule(
            self,
            "CanarySchedule",
            description="prime-vod: the synthetic HLS canary",
            schedule=events.Schedule.rate(CANARY_EVERY),
            targets=[targets.LambdaFunction(fn, retry_attempts=0)],  # the next run is soon
        )
        return fn

    @staticmethod
    def _covers(spec: AlarmSpec) -> bool:
        return spec.metric in ("workflows_failed", "canary_failed", *CLOUDFRONT_METRICS)

    def _cloudfront(self, name: str, statistic: str, period: Duration) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace="AWS/CloudFront",
            metric_name=name,
            dimensions_map={
                "DistributionId": self.distribution.distribution_id,
                "Region": "Global",
            },
            statistic=statistic,
            period=period,
            region="us-east-1",
        )

    def _measure(self, spec: AlarmSpec) -> tuple[cloudwatch.IMetric, float]:
        """The metric (or math) standing for the local one, and the threshold in its unit."""
        period = Duration.seconds(spec.period_seconds)
        if spec.metric == "workflows_failed":
            return self.state_machine.metric_failed(period=period, statistic="Sum"), spec.threshold
        if spec.metric == "canary_failed":
            failed = cloudwatch.Metric(
                namespace=CANARY_NAMESPACE,
                metric_name="CanaryFailed",
                statistic="Sum",
                period=period,
            )
            return failed, spec.threshold
        name, statistic, percent = CLOUDFRONT_METRICS[spec.metric]
        rate = self._cloudfront(name, statistic, period)
        threshold = spec.threshold * 100 if percent else spec.threshold
        if not spec.min_samples:
            return rate, threshold
        requests = self._cloudfront("Requests", "Sum", period)
        quiet = 0 if spec.comparison == ">" else 100  # a quiet period never breaches
        math = cloudwatch.MathExpression(
            expression=f"IF(requests >= {spec.min_samples}, rate, {quiet})",
            using_metrics={"requests": requests, "rate": rate},
            period=period,
            label=f"{name} (from {spec.min_samples} requests)",
        )
        return math, threshold

    def _alarm(self, spec: AlarmSpec) -> cloudwatch.Alarm:
        metric, threshold = self._measure(spec)
        return cloudwatch.Alarm(
            self,
            "".join(part.title() for part in spec.name.split("-")),
            alarm_description=f"prime-vod {spec.name}: {spec.description}",
            metric=metric,
            threshold=threshold,
            comparison_operator=COMPARISON[spec.comparison],
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )

    def _slow_executions(self) -> cloudwatch.Alarm:
        return cloudwatch.Alarm(
            self,
            "SlowExecutions",
            alarm_description="prime-vod slow-executions: an asset workflow ran over 2 hours",
            metric=self.state_machine.metric_time(statistic="Maximum", period=Duration.minutes(5)),
            threshold=SLOW_EXECUTION.to_milliseconds(),
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )

    def _dashboard(self) -> cloudwatch.Dashboard:
        five = Duration.minutes(5)
        sm = self.state_machine
        dashboard = cloudwatch.Dashboard(self, "Dashboard")
        dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=self.alarms, width=24),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Workflows",
                left=[
                    sm.metric_started(period=five),
                    sm.metric_succeeded(period=five),
                    sm.metric_failed(period=five),
                ],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Workflow time (ms)",
                left=[
                    sm.metric_time(statistic="p50", period=five),
                    sm.metric_time(statistic="p95", period=five),
                ],
                width=12,
            ),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Delivery: requests",
                left=[self._cloudfront("Requests", "Sum", five)],
                right=[self._cloudfront("BytesDownloaded", "Sum", five)],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Delivery: error rates (%)",
                left=[
                    self._cloudfront("4xxErrorRate", "Average", five),
                    self._cloudfront("5xxErrorRate", "Average", five),
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Delivery: cache hit rate (%) and origin latency (ms)",
                left=[self._cloudfront("CacheHitRate", "Average", five)],
                right=[self._cloudfront("OriginLatency", "p95", five)],
                width=8,
            ),
        )
        return dashboard
