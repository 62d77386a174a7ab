"""The synthesized stack's pipeline, stood up in moto from the template itself: its buckets
(with their EventBridge notifications), the assets table and its index, the topic, queues
and subscriptions, the roles, the Lambda functions (each with the handler and environment
the template gives it) and the state machine (its definition rendered with these
resources' ARNs), and the EventBridge rules (their patterns and targets).

Two gaps in moto are filled here, as narrowly as possible:
- Lambda without Docker answers every invocation with its input: `run_handlers` makes an
  invocation import the function's `Handler` and call it, and answers an exception as the
  Python runtime does (`FunctionError: Unhandled`, `{"errorType", "errorMessage"}`). The
  functions' environments are set in the process once, before anything runs
  (`environment`: their union, which must not disagree on any variable), and each
  invocation checks that its function's variables are there: changing `os.environ` per
  invocation would race with other threads reading it.
- EventBridge does not deliver to Lambda targets: `deliver_to_lambda` does, for a rule
  whose pattern matched (moto matches it).

What moto cannot stand in for (MediaConvert) is in `mediaconvert_stand_in.py`."""

from __future__ import annotations

import importlib
import io
import json
import os
import threading
import time
import traceback
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest

from primevod.aws.cdk.definition import render_definition

REGION, ACCOUNT = "us-east-1", "123456789012"


def _names(logical_id: str, kind: str) -> dict[str, str]:
    """The physical names this deployment gives a resource: {"Ref": ..., "Arn": ...}."""
    short = logical_id
    if kind == "AWS::S3::Bucket":
        return {"Ref": short.lower(), "Arn": f"arn:aws:s3:::{short.lower()}"}
    if kind == "AWS::DynamoDB::Table":
        return {"Ref": short, "Arn": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{short}"}
    if kind == "AWS::SNS::Topic":
        arn = f"arn:aws:sns:{REGION}:{ACCOUNT}:{short}"
        return {"Ref": arn, "TopicArn": arn}
    if kind == "AWS::SQS::Queue":
        return {
            "Ref": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{short}",
            "Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{short}",
            "QueueName": short,
        }
    if kind == "AWS::IAM::Role":
        return {"Ref": short, "Arn": f"arn:aws:iam::{ACCOUNT}:role/{short}"}
    if kind == "AWS::Lambda::Function":
        return {"Ref": short, "Arn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{short}"}
    if kind == "AWS::CloudWatch::Alarm":
        return {"Ref": short, "Arn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{short}"}
    if kind == "AWS::CloudFront::Distribution":
        return {"Ref": f"E{short[:12].upper()}", "DomainName": f"{short.lower()}.cloudfront.net"}
    if kind == "AWS::CloudFront::PublicKey":
        return {"Ref": f"K{short[:12].upper()}", "Id": f"K{short[:12].upper()}"}
    if kind == "AWS::MediaConvert::Queue":
        return {"Arn": f"arn:aws:mediaconvert:{REGION}:{ACCOUNT}:queues/{short}", "Name": short}
    if kind == "AWS::StepFunctions::StateMachine":
        arn = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{short}"
        return {"Ref": arn, "Arn": arn, "Name": short}
    return {}


PSEUDO = {
    "AWS::Partition": "aws",
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::URLSuffix": "amazonaws.com",
}


@dataclass
class Stack:
    """The template's resources as deployed here, and how to name them."""

    template: Mapping[str, Any]
    names: dict[str, dict[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for logical_id, resource in self.template["Resources"].items():
            self.names[logical_id] = _names(logical_id, resource["Type"])
        for name, parameter in self.template.get("Parameters", {}).items():
            self.names[name] = {"Ref": str(parameter.get("Default", f"parameter-{name}"))}

    def of_type(self, kind: str) -> dict[str, Mapping[str, Any]]:
        resources = self.template["Resources"].items()
        return {k: v.get("Properties", {}) for k, v in resources if v["Type"] == kind}

    def one(self, kind: str, contains: str = "") -> str:
        """The logical id of the only resource of `kind` whose id contains `contains`."""
        [logical_id] = [k for k in self.of_type(kind) if contains in k]
        return logical_id

    def ref(self, reference: Mapping[str, Any]) -> str:
        """A `Ref` or `Fn::GetAtt` as this deployment's name or ARN; anything else fails
        loudly (a template that grows a reference this file cannot name)."""
        if "Ref" in reference:
            name = str(reference["Ref"])
            if name in PSEUDO:
                return PSEUDO[name]
            return self.names[name]["Ref"]
        logical_id, attribute = reference["Fn::GetAtt"]
        return self.names[logical_id][attribute]

    def resolve(self, value: Any) -> Any:
        """`value` with every reference in it resolved (Fn::Join included)."""
        if isinstance(value, Mapping):
            if "Ref" in value or "Fn::GetAtt" in value:
                return self.ref(value)
            if "Fn::Join" in value:
                separator, parts = value["Fn::Join"]
                return str(separator).join(str(self.resolve(p)) for p in parts)
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        return value

    def name(self, logical_id: str, attribute: str = "Ref") -> str:
        return self.names[logical_id][attribute]


def deploy(template: Mapping[str, Any]) -> Stack:
    """Create the pipeline's resources in moto (inside `mock_aws`)."""
    stack = Stack(template)
    _storage(stack)
    _data(stack)
    _roles(stack)
    _functions(stack)
    _state_machines(stack)
    _rules(stack)
    return stack


def _storage(stack: Stack) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    for logical_id, props in stack.of_type("AWS::S3::Bucket").items():
        bucket = stack.name(logical_id)
        s3.create_bucket(Bucket=bucket)
        if "EventBridgeConfiguration" in props.get("NotificationConfiguration", {}):
            s3.put_bucket_notification_configuration(
                Bucket=bucket,
                NotificationConfiguration={"EventBridgeConfiguration": {}},
            )


def _data(stack: Stack) -> None:
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    for logical_id, props in stack.of_type("AWS::DynamoDB::Table").items():
        extra = {}
        if props.get("GlobalSecondaryIndexes"):
            extra["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        dynamodb.create_table(
            TableName=stack.name(logical_id),
            KeySchema=props["KeySchema"],
            AttributeDefinitions=props["AttributeDefinitions"],
            BillingMode=props.get("BillingMode", "PAY_PER_REQUEST"),
            **extra,
        )
    sns = boto3.client("sns", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    for logical_id in stack.of_type("AWS::SNS::Topic"):
        sns.create_topic(Name=logical_id)
    for logical_id in stack.of_type("AWS::SQS::Queue"):
        sqs.create_queue(QueueName=logical_id)
    for props in stack.of_type("AWS::SNS::Subscription").values():
        attributes = {}
        if props.get("RawMessageDelivery"):
            attributes["RawMessageDelivery"] = "true"
        sns.subscribe(
            TopicArn=stack.resolve(props["TopicArn"]),
            Protocol=props["Protocol"],
            Endpoint=stack.resolve(props["Endpoint"]),
            Attributes=attributes,
        )


def _roles(stack: Stack) -> None:
    iam = boto3.client("iam", region_name=REGION)
    for logical_id, props in stack.of_type("AWS::IAM::Role").items():
        iam.create_role(
            RoleName=logical_id,
            AssumeRolePolicyDocument=json.dumps(stack.resolve(props["AssumeRolePolicyDocument"])),
        )


def _functions(stack: Stack) -> None:
    lambda_ = boto3.client("lambda", region_name=REGION)
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:  # the code runs from this checkout instead
        archive.writestr("index.py", "")
    for logical_id, props in stack.of_type("AWS::Lambda::Function").items():
        variables = props.get("Environment", {}).get("Variables", {})
        lambda_.create_function(
            FunctionName=logical_id,
            Runtime=props["Runtime"],
            Role=stack.resolve(props["Role"]),
            Handler=props["Handler"],
            Code={"ZipFile": code.getvalue()},
            Environment={"Variables": {k: str(stack.resolve(v)) for k, v in variables.items()}},
            Timeout=int(props.get("Timeout", 3)),
        )


def _state_machines(stack: Stack) -> None:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    for logical_id, props in stack.of_type("AWS::StepFunctions::StateMachine").items():
        definition = render_definition(stack.template, stack.ref, logical_id)
        sfn.create_state_machine(
            name=logical_id,
            definition=json.dumps(definition),
            roleArn=stack.resolve(props["RoleArn"]),
            type=props.get("StateMachineType", "STANDARD"),
        )


def _rules(stack: Stack) -> None:
    events = boto3.client("events", region_name=REGION)
    for logical_id, props in stack.of_type("AWS::Events::Rule").items():
        trigger = (
            {"EventPattern": json.dumps(stack.resolve(props["EventPattern"]))}
            if "EventPattern" in props
            else {"ScheduleExpression": props["ScheduleExpression"]}  # never fired here
        )
        events.put_rule(Name=logical_id, State=props.get("State", "ENABLED"), **trigger)
        targets = [
            {k: stack.resolve(v) for k, v in target.items() if k in ("Id", "Arn")}
            for target in props.get("Targets", [])
        ]
        events.put_targets(Rule=logical_id, Targets=targets)


# -- the gaps in moto ----------------------------------------------------------------------

_SERIAL = threading.Lock()  # one handler at a time: the MediaConvert stand-in's stubs are a queue


def environment(stack: Stack) -> dict[str, str]:
    """Every function's environment, resolved, in one mapping (a variable two functions set
    differently fails here: one process cannot hold both)."""
    merged: dict[str, str] = {}
    for logical_id, props in stack.of_type("AWS::Lambda::Function").items():
        for key, value in props.get("Environment", {}).get("Variables", {}).items():
            resolved = str(stack.resolve(value))
            if merged.setdefault(key, resolved) != resolved:
                raise AssertionError(f"{logical_id} sets {key} unlike another function")
    return merged


@dataclass
class Invocations:
    """What the functions were called with, in order, and faults to inject: a handler name
    mapped to exceptions its next calls raise instead of running."""

    calls: list[tuple[str, Any]] = field(default_factory=list)
    faults: dict[str, list[Exception]] = field(default_factory=dict)


def _handler(spec: str) -> Any:
    module, _, name = spec.rpartition(".")
    return getattr(importlib.import_module(module), name)


def run_handlers(monkeypatch: pytest.MonkeyPatch) -> Invocations:
    """Make moto's Lambda (without Docker) run each function's real handler."""
    from moto.awslambda_simple.models import LambdaSimpleBackend

    record = Invocations()

    def invoke(self, function_name, qualifier, body, headers, response_headers):
        fn = self.get_function(function_name, qualifier)
        event = json.loads(body or "{}")
        record.calls.append((fn.handler, event))
        missing = {k for k, v in fn.environment_vars.items() if os.environ.get(k) != v}
        assert not missing, f"{fn.handler} would run without {missing} (set `environment`)"
        with _SERIAL:
            try:
                pending = record.faults.get(fn.handler)
                if pending:
                    raise pending.pop(0)
                result = _handler(fn.handler)(event, None)
            except Exception as exc:  # what the Lambda Python runtime answers
                response_headers["x-amz-function-error"] = "Unhandled"
                return json.dumps(
                    {
                        "errorType": type(exc).__name__,
                        "errorMessage": str(exc),
                        "stackTrace": traceback.format_tb(exc.__traceback__)[-3:],
                    }
                ).encode()
        return json.dumps(result).encode()

    monkeypatch.setattr(LambdaSimpleBackend, "invoke", invoke)
    return record


def deliver_to_lambda(monkeypatch: pytest.MonkeyPatch) -> list[threading.Thread]:
    """Let a matched EventBridge rule invoke its Lambda targets (asynchronously, as
    EventBridge does), besides the targets moto delivers to itself. Returns the delivery
    threads, for the test to join before its mocked account goes away."""
    from moto.awslambda.utils import get_backend
    from moto.events.models import Rule

    delivers = Rule.send_to_targets
    deliveries: list[threading.Thread] = []

    def send_to_targets(self, original_event, transform_input=True):
        lambdas = [t for t in self.targets if t["Arn"].startswith("arn:aws:lambda:")]
        others = [t for t in self.targets if t not in lambdas]
        if others:
            self.targets = others
            try:
                delivers(self, original_event, transform_input)
            finally:
                self.targets = others + lambdas
        if not lambdas or not self.event_pattern.matches_event(original_event):
            return
        for target in lambdas:
            backend = get_backend(ACCOUNT, target["Arn"].split(":")[3])
            body = json.dumps(original_event)
            delivery = threading.Thread(
                target=backend.invoke, args=(target["Arn"], None, body, {}, {}), daemon=True
            )
            deliveries.append(delivery)
            delivery.start()

    monkeypatch.setattr(Rule, "send_to_targets", send_to_targets)
    return deliveries


def settle(deliveries: list[threading.Thread], timeout: float = 60.0) -> None:
    """Wait for the event deliveries and the executions they started, so that nothing of
    one test runs on into the next one's account; stop what is still running then."""
    for delivery in deliveries:
        delivery.join(timeout)
    sfn = boto3.client("stepfunctions", region_name=REGION)
    deadline = time.monotonic() + timeout
    for machine in sfn.list_state_machines()["stateMachines"]:
        listed = sfn.list_executions(stateMachineArn=machine["stateMachineArn"])["executions"]
        for execution in listed:
            arn = execution["executionArn"]
            while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
                if time.monotonic() > deadline:
                    sfn.stop_execution(executionArn=arn)
                    break
                time.sleep(0.2)
