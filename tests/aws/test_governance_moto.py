"""The governance part's synthesized properties taken by moto's Budgets (a mock: a smoke
test of their shapes, with the stack's parameter at its default and the topic's ARN)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto_stack import ACCOUNT, REGION, Stack

pytest.importorskip("aws_cdk")


def test_the_budget_and_its_alerts_are_accepted_by_moto(
    template_json: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(name, value)
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
