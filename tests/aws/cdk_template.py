"""Lookups in a synthesized CloudFormation template (a dict), for the tests of this folder."""

from __future__ import annotations

from typing import Any


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def function_ids(template: dict[str, Any]) -> dict[str, str]:
    """Handler string -> the logical id of the Lambda function running it."""
    return {
        props["Properties"]["Handler"]: logical_id
        for logical_id, props in resources(template, "AWS::Lambda::Function").items()
    }
