"""Lookups in a synthesized CloudFormation template (a dict), for the tests of this folder."""

from __future__ import annotations

from typing import Any

# the app's context with every optional part on (app.py FLAGS)
ALL_FLAGS = {"primevod:search": "on", "primevod:analytics": "on", "primevod:cicd": "on"}


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def function_ids(template: dict[str, Any]) -> dict[str, str]:
    """Handler string -> the logical id of the Lambda function running it."""
    return {
        props["Properties"]["Handler"]: logical_id
        for logical_id, props in resources(template, "AWS::Lambda::Function").items()
    }


def policy_statements(template: dict[str, Any], role_id: str) -> list[dict[str, Any]]:
    """Every statement of the inline policies attached to the role `role_id`."""
    statements = []
    for policy in resources(template, "AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def as_list(value: Any) -> list[Any]:
    """A policy's Action or Resource, which is one value or a list of them."""
    return value if isinstance(value, list) else [value]


def joined(value: Any) -> str:
    """An `Fn::Join` (or a plain string) as text, references as `${Name}` (`${Name.Attr}`)."""
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return "${" + value["Ref"] + "}"
    if "Fn::GetAtt" in value:
        return "${" + ".".join(value["Fn::GetAtt"]) + "}"
    separator, parts = value["Fn::Join"]
    return separator.join(joined(part) for part in parts)
