"""The state machine's definition as plain JSON, from a synthesized template.

CDK writes `DefinitionString` as an `Fn::Join` of text and references (`Ref`,
`Fn::GetAtt`), which neither cfn-lint nor a Step Functions validator can read. Rendering
substitutes each reference, by default with a placeholder ARN that names the resource:

    definition = render_definition(template)            # asl-validator, assertions
    definition = render_definition(template, resolve)   # real ARNs (e.g. in moto)

Pure: no aws_cdk, no I/O."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

STATE_MACHINE_TYPE = "AWS::StepFunctions::StateMachine"
Resolver = Callable[[Mapping[str, Any]], str]


def state_machine_ids(template: Mapping[str, Any]) -> list[str]:
    resources = template.get("Resources", {})
    return [k for k, v in resources.items() if v.get("Type") == STATE_MACHINE_TYPE]


def placeholder(reference: Mapping[str, Any], template: Mapping[str, Any] | None = None) -> str:
    """A well-formed ARN standing for a reference: the Lambda, role or pseudo parameter it
    names (`arn:aws:lambda:us-east-1:123456789012:function:FunctionsIngest66EFBB2C`)."""
    if "Ref" in reference:
        name = str(reference["Ref"])
        pseudo = {
            "AWS::Partition": "aws",
            "AWS::Region": "us-east-1",
            "AWS::AccountId": "123456789012",
            "AWS::URLSuffix": "amazonaws.com",
        }
        if name in pseudo:
            return pseudo[name]
    elif "Fn::GetAtt" in reference:
        name = str(reference["Fn::GetAtt"][0])
    else:
        raise ValueError(f"cannot render {json.dumps(reference)} in a definition")
    kind = ((template or {}).get("Resources", {}).get(name) or {}).get("Type", "")
    if kind == "AWS::Lambda::Function":
        return f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
    if kind == "AWS::IAM::Role":
        return f"arn:aws:iam::123456789012:role/{name}"
    return f"arn:aws:states:us-east-1:123456789012:resource:{name}"


def render_definition(
    template: Mapping[str, Any],
    resolve: Resolver | None = None,
    logical_id: str | None = None,
) -> dict[str, Any]:
    """The definition of the template's (only, or `logical_id`'s) state machine as JSON."""
    ids = [logical_id] if logical_id else state_machine_ids(template)
    if len(ids) != 1:
        raise ValueError(f"expected one state machine, found {ids}")
    body = template["Resources"][ids[0]]["Properties"]["DefinitionString"]
    return json.loads(_text(body, resolve or (lambda ref: placeholder(ref, template))))


def _text(value: Any, resolve: Resolver) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(_text(part, resolve) for part in parts)
    if isinstance(value, Mapping):
        return resolve(value)
    raise ValueError(f"unexpected {type(value).__name__} in a definition string")
