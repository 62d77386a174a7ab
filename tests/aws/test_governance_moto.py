"""The governance part's synthesized properties taken by moto's Budgets (a mock: a smoke
test of their shapes, with the stack's parameter at its default and the topic's ARN)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto_stack import ACCOUNT, REGION, Stack

pytest.importorskip("aws_cdk")


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Placeholder credentials: botocore needs some, moto takes any."""
    for name, value in {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(name, value)


def test_the_budget_and_its_alerts_are_accepted_by_moto(template_json: dict[str, Any]) -> None:
    stack = Stack(template_json)
    [props] = stack.of_type("AWS::Budgets::Budget").values()
    budget = stack.resolve(props["Budget"])
    budget["BudgetName"] = "prime-vod-monthly"
    budget["BudgetLimit"]["Amount"] = str(budget["BudgetLimit"]["Amount"])
    with mock_aws():
        client = boto3.client("budgets", region_name=REGION)
        client.create_budget(
            AccountId=ACCOUNT,
            Budget=budget,
            NotificationsWithSubscribers=stack.resolve(props["NotificationsWithSubscribers"]),
        )
        got = client.describe_budget(AccountId=ACCOUNT, BudgetName="prime-vod-monthly")
        assert got["Budget"]["BudgetLimit"] == {"Amount": "20", "Unit": "USD"}
        notes = client.describe_notifications_for_budget(
            AccountId=ACCOUNT, BudgetName="prime-vod-monthly"
        )["Notifications"]
        assert sorted((n["Threshold"], n["NotificationType"]) for n in notes) == [
            (80, "ACTUAL"),
            (100, "FORECASTED"),
        ]


def test_the_alarms_and_the_dashboard_are_accepted_by_moto(template_json: dict[str, Any]) -> None:
    stack = Stack(template_json)
    alarms = stack.of_type("AWS::CloudWatch::Alarm")
    with mock_aws():
        cloudwatch = boto3.client("cloudwatch", region_name=REGION)
        for logical_id, props in alarms.items():
            resolved = stack.resolve(dict(props))
            resolved["AlarmName"] = logical_id
            for metric in resolved.get("Metrics", []):
                metric.pop("Period", None)  # CloudFormation's own field, not the API's
            cloudwatch.put_metric_alarm(**resolved)
        names = {a["AlarmName"] for a in cloudwatch.describe_alarms()["MetricAlarms"]}
        assert names == set(alarms)
        [dashboard] = stack.of_type("AWS::CloudWatch::Dashboard").values()
        body = stack.resolve(dashboard["DashboardBody"])
        cloudwatch.put_dashboard(DashboardName="prime-vod", DashboardBody=body)
        assert json.loads(cloudwatch.get_dashboard(DashboardName="prime-vod")["DashboardBody"])
