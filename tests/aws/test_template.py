"""The synthesized CloudFormation template of the AWS shape: the state machine as the story
(states, retries, catches), the event rules, the catalog, the events, the functions, the API,
and what each role may do. Synthesized offline once per session (conftest.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

pytest.importorskip("aws_cdk")

from aws_cdk.assertions import Match
from cdk_template import function_ids, resources

from primevod.aws.bundle import LAMBDA_RUNTIME
from primevod.aws.cdk.definition import placeholder

H = "primevod.aws.handlers"
TASK_HANDLERS = {
    "Ingest": f"{H}.tasks.ingest_handler",
    "Plan": f"{H}.tasks.plan_handler",
    "Validate": f"{H}.tasks.validate_handler",
    "Publish": f"{H}.tasks.publish_handler",
    "RecordFailure": f"{H}.tasks.failure_handler",
}
ALL_HANDLERS = {
    *TASK_HANDLERS.values(),
    f"{H}.start.handler",
    f"{H}.uploads.handler",
    f"{H}.playback.handler",
    f"{H}.authorizer.handler",
    f"{H}.canary.handler",
}
STORY = ["Ingest", "Plan", "Encode", "Validate", "Publish", "Ready"]
LAMBDA_TRANSIENT = {
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "TransientError",
}
PERMANENT = {"SourceRejected", "PackageInvalid", "PlanRejected"}
COMMON_ENV = {
    "PRIMEVOD_ASSETS_TABLE",
    "PRIMEVOD_EVENTS_TOPIC_ARN",
    "PRIMEVOD_SOURCE_BUCKET",
    "PRIMEVOD_DESTINATION_BUCKET",
    "PRIMEVOD_LADDER",
    "PRIMEVOD_PROFILE",
    "PRIMEVOD_MEDIACONVERT_ROLE_ARN",
    "PRIMEVOD_MEDIACONVERT_QUEUE_ARN",
    "PRIMEVOD_UPLOAD_PREFIX",
}


def _only(template_json: dict[str, Any], kind: str) -> tuple[str, dict[str, Any]]:
    found = resources(template_json, kind)
    assert len(found) == 1, f"{len(found)} {kind}"
    return next(iter(found.items()))


def _policy_statements(template_json: dict[str, Any], role_id: str) -> list[dict[str, Any]]:
    statements = []
    for policy in resources(template_json, "AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def _actions(statements: list[dict[str, Any]]) -> set[str]:
    found: set[str] = set()
    for statement in statements:
        action = statement["Action"]
        found |= {action} if isinstance(action, str) else set(action)
    return found


def _role_of(template_json: dict[str, Any], function_id: str) -> str:
    role = template_json["Resources"][function_id]["Properties"]["Role"]
    return role["Fn::GetAtt"][0]


# the state machine


def test_one_standard_state_machine_logged_and_traced(template: Any) -> None:
    template.resource_count_is("AWS::StepFunctions::StateMachine", 1)
    template.has_resource_properties(
        "AWS::StepFunctions::StateMachine",
        {
            "StateMachineType": "STANDARD",
            "TracingConfiguration": {"Enabled": True},
            "LoggingConfiguration": Match.object_like({"Level": "ALL"}),
        },
    )


def test_the_states_follow_the_story(definition: dict[str, Any]) -> None:
    states = definition["States"]
    assert list(states)[: len(STORY)] == STORY
    walked, name = [], definition["StartAt"]
    while name:
        walked.append(name)
        name = states[name].get("Next")
    assert walked == STORY
    assert states["Ready"]["Type"] == "Succeed"
    assert states["RecordFailure"]["Next"] == "SourceRefused"
    refused = states["SourceRefused"]
    assert refused["Type"] == "Choice" and refused["Default"] == "Failed"
    assert refused["Choices"] == [
        {"Variable": "$.failure.error.code", "StringMatches": "source.*", "Next": "Rejected"}
    ]
    assert states["Rejected"]["Type"] == "Succeed"  # a bad upload is no failed workflow
    assert states["Failed"]["Type"] == "Fail"
    assert definition["TimeoutSeconds"] >= 3 * 3600


def test_every_task_retries_with_backoff_and_is_caught(definition: dict[str, Any]) -> None:
    tasks = {n: s for n, s in definition["States"].items() if s["Type"] == "Task"}
    assert set(tasks) == {"Ingest", "Plan", "Encode", "Validate", "Publish", "RecordFailure"}
    for name, state in tasks.items():
        assert len(state["Retry"]) == 1, name
        retry = state["Retry"][0]
        assert (retry["IntervalSeconds"], retry["MaxAttempts"], retry["BackoffRate"]) == (2, 3, 2)
        assert not PERMANENT & set(retry["ErrorEquals"]), f"{name} retries a permanent error"
        assert "States.ALL" not in retry["ErrorEquals"], name
        if name != "Encode":
            assert set(retry["ErrorEquals"]) >= LAMBDA_TRANSIENT, name
        assert state["TimeoutSeconds"] > 0, name
        if name == "RecordFailure":
            assert "Catch" not in state  # it would catch itself
            continue
        assert state["Catch"] == [
            {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "RecordFailure"}
        ], name


def test_lambda_tasks_call_their_handlers(
    definition: dict[str, Any], template_json: dict[str, Any]
) -> None:
    ids = function_ids(template_json)
    results = {
        "Ingest": "$",
        "Plan": "$.plan",
        "Validate": "$.validation",
        "Publish": "$.published",
        "RecordFailure": "$.failure",
    }
    for name, handler in TASK_HANDLERS.items():
        state = definition["States"][name]
        expected = placeholder({"Fn::GetAtt": [ids[handler], "Arn"]}, template_json)
        assert state["Resource"] == expected, name  # payload_response_only: the function
        assert state["ResultPath"] == results[name], name
        assert 60 <= state["TimeoutSeconds"] <= 360, name


def test_encode_runs_a_mediaconvert_job_to_its_end(
    definition: dict[str, Any], template_json: dict[str, Any]
) -> None:
    encode = definition["States"]["Encode"]
    assert encode["Resource"] == "arn:aws:states:::mediaconvert:createJob.sync"
    role_id, _ = _mediaconvert_role(template_json)
    queue_id, queue = _only(template_json, "AWS::MediaConvert::Queue")
    assert queue["Properties"]["PricingPlan"] == "ON_DEMAND"
    assert encode["Parameters"] == {
        "Role": placeholder({"Fn::GetAtt": [role_id, "Arn"]}, template_json),
        "Queue": placeholder({"Fn::GetAtt": [queue_id, "Arn"]}, template_json),
        "Settings.$": "$.plan.job.Settings",
        "AccelerationSettings.$": "$.plan.job.AccelerationSettings",
        "UserMetadata": {"asset_id.$": "$.asset_id"},
    }
    assert encode["ResultSelector"] == {"job_id.$": "$.Job.Id"}
    assert encode["ResultPath"] == "$.encode"
    assert 3600 <= encode["TimeoutSeconds"] <= 6 * 3600
    assert "MediaConvert.TooManyRequestsException" in encode["Retry"][0]["ErrorEquals"]


def test_the_failure_path_fails_with_the_recorded_error(definition: dict[str, Any]) -> None:
    failed = definition["States"]["Failed"]
    assert definition["States"]["RecordFailure"]["ResultPath"] == "$.failure"
    assert failed["ErrorPath"] == "$.failure.error.code"
    assert failed["CausePath"] == "$.failure.error.message"


def _mediaconvert_role(template_json: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    roles = {
        k: v
        for k, v in resources(template_json, "AWS::IAM::Role").items()
        if v["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"].get("Service")
        == "mediaconvert.amazonaws.com"
    }
    assert len(roles) == 1
    return next(iter(roles.items()))


def test_only_the_state_machine_passes_only_the_mediaconvert_role(
    template_json: dict[str, Any],
) -> None:
    role_id, _ = _mediaconvert_role(template_json)
    _, machine = _only(template_json, "AWS::StepFunctions::StateMachine")
    machine_role = machine["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    passing = []
    for policy in resources(template_json, "AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if "iam:PassRole" in _actions([statement]):
                passing.append((policy["Properties"]["Roles"], statement))
    assert len(passing) == 1
    roles, statement = passing[0]
    assert roles == [{"Ref": machine_role}]
    assert statement["Resource"] == {"Fn::GetAtt": [role_id, "Arn"]}
    assert statement["Condition"] == {
        "StringLike": {"iam:PassedToService": "mediaconvert.amazonaws.com"}
    }
    assert {"mediaconvert:CreateJob", "mediaconvert:GetJob"} <= _actions(
        _policy_statements(template_json, machine_role)
    )


def test_mediaconvert_reads_uploads_and_writes_the_destination(
    template_json: dict[str, Any],
) -> None:
    role_id, _ = _mediaconvert_role(template_json)
    source, destination = _buckets(template_json)
    statements = _policy_statements(template_json, role_id)
    text = json.dumps(statements)
    assert "s3:GetObject*" in text and "s3:PutObject" in text
    for statement in statements:
        if "s3:PutObject" in _actions([statement]):
            assert destination in json.dumps(statement["Resource"])
            assert source not in json.dumps(statement["Resource"])


# the event rules


def _rules(template_json: dict[str, Any], source: str) -> list[dict[str, Any]]:
    return [
        r["Properties"]
        for r in resources(template_json, "AWS::Events::Rule").values()
        if r["Properties"].get("EventPattern", {}).get("source") == [source]
    ]


def test_a_new_upload_starts_the_pipeline(template_json: dict[str, Any]) -> None:
    (rule,) = _rules(template_json, "aws.s3")
    source, _ = _buckets(template_json)
    assert rule["EventPattern"] == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {
            "bucket": {"name": [{"Ref": source}]},
            "object": {"key": [{"prefix": "uploads/"}]},
        },
    }
    (target,) = rule["Targets"]
    start = function_ids(template_json)[f"{H}.start.handler"]
    assert target["Arn"] == {"Fn::GetAtt": [start, "Arn"]}
    assert "DeadLetterConfig" in target and target["RetryPolicy"]["MaximumRetryAttempts"] > 0


def test_the_start_function_may_start_this_state_machine_only(
    template_json: dict[str, Any],
) -> None:
    start = function_ids(template_json)[f"{H}.start.handler"]
    machine_id, _ = _only(template_json, "AWS::StepFunctions::StateMachine")
    env = template_json["Resources"][start]["Properties"]["Environment"]["Variables"]
    assert env["PRIMEVOD_STATE_MACHINE_ARN"] == {"Ref": machine_id}
    statements = _policy_statements(template_json, _role_of(template_json, start))
    (allowed,) = [s for s in statements if "states:StartExecution" in _actions([s])]
    assert allowed["Resource"] == {"Ref": machine_id}


def test_failures_reach_the_events_topic(template_json: dict[str, Any]) -> None:
    topic, _ = _only(template_json, "AWS::SNS::Topic")
    machine_id, _ = _only(template_json, "AWS::StepFunctions::StateMachine")
    (execution,) = _rules(template_json, "aws.states")
    assert execution["EventPattern"]["detail-type"] == ["Step Functions Execution Status Change"]
    assert execution["EventPattern"]["detail"] == {
        "status": ["FAILED", "TIMED_OUT", "ABORTED"],
        "stateMachineArn": [{"Ref": machine_id}],
    }
    (encode,) = _rules(template_json, "aws.mediaconvert")
    assert encode["EventPattern"]["detail-type"] == ["MediaConvert Job State Change"]
    assert encode["EventPattern"]["detail"]["status"] == ["ERROR"]
    for rule in (execution, encode):
        (target,) = rule["Targets"]
        assert target["Arn"] == {"Ref": topic}
        assert '"asset_id"' in target["InputTransformer"]["InputTemplate"]


# storage, catalog, events


def _buckets(template_json: dict[str, Any]) -> tuple[str, str]:
    """(source, destination) logical ids: the source is the one EventBridge hears."""
    buckets = {
        k: v
        for k, v in resources(template_json, "AWS::S3::Bucket").items()
        if k.startswith("Storage")  # the media buckets (not the trail's)
    }
    source = [k for k, v in buckets.items() if "NotificationConfiguration" in v["Properties"]]
    assert len(buckets) == 2 and len(source) == 1
    (destination,) = set(buckets) - set(source)
    return source[0], destination


def test_buckets_are_private_encrypted_and_tls_only(template_json: dict[str, Any]) -> None:
    source, destination = _buckets(template_json)
    for logical_id in (source, destination):
        bucket = template_json["Resources"][logical_id]
        props = bucket["Properties"]
        assert set(props["PublicAccessBlockConfiguration"].values()) == {True}
        rule = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
        assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
        key_id = rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]["Fn::GetAtt"][0]
        assert key_id.startswith("StorageMediaKey") and rule["BucketKeyEnabled"] is True
        key = template_json["Resources"][key_id]
        assert key["Properties"]["EnableKeyRotation"] is True
        assert key["DeletionPolicy"] == "Retain"
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}
        assert bucket["DeletionPolicy"] == "Retain"
    policies = [
        p["Properties"]
        for p in resources(template_json, "AWS::S3::BucketPolicy").values()
        if "aws:SecureTransport" in json.dumps(p)
    ]
    assert {source, destination} <= {p["Bucket"]["Ref"] for p in policies}


def test_the_buckets_follow_the_lifecycle_document_as_far_as_s3_allows(
    template_json: dict[str, Any],
) -> None:
    for logical_id in _buckets(template_json):
        rules = template_json["Resources"][logical_id]["Properties"]["LifecycleConfiguration"]
        by_id = {r["Id"]: r for r in rules["Rules"]}
        uploads = by_id["uploads-to-infrequent-access-then-expire"]
        assert (uploads["Prefix"], uploads["ExpirationInDays"]) == ("uploads/", 30)
        assert "Transitions" not in uploads  # S3 takes Standard-IA from day 30 only
        assert by_id["inbox-to-infrequent-access-then-expire"]["Prefix"] == "inbox/"
        noncurrent = by_id["noncurrent-versions-expire"]
        assert noncurrent["NoncurrentVersionExpiration"] == {"NoncurrentDays": 7}
        assert "Prefix" not in noncurrent  # the whole bucket
        abort = by_id["abort-abandoned-uploads"]["AbortIncompleteMultipartUpload"]
        assert abort == {"DaysAfterInitiation": 1}
        assert all(r["Status"] == "Enabled" for r in rules["Rules"])
        # packages (assets/...) match no expiring rule
        assert not any(r.get("Prefix", "").startswith("assets") for r in rules["Rules"])


def test_the_source_bucket_tells_eventbridge_without_a_custom_resource(
    template_json: dict[str, Any],
) -> None:
    source, _ = _buckets(template_json)
    props = template_json["Resources"][source]["Properties"]
    assert props["NotificationConfiguration"] == {
        "EventBridgeConfiguration": {"EventBridgeEnabled": True}
    }
    assert not resources(template_json, "Custom::S3BucketNotifications")
    (cors,) = props["CorsConfiguration"]["CorsRules"]
    assert "ETag" in cors["ExposedHeaders"] and "PUT" in cors["AllowedMethods"]


def test_the_assets_table_has_the_status_index(template: Any) -> None:
    template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST",
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "GlobalSecondaryIndexes": [
                Match.object_like(
                    {
                        "IndexName": "status-index",
                        "KeySchema": [
                            {"AttributeName": "status", "KeyType": "HASH"},
                            {"AttributeName": "created_at", "KeyType": "RANGE"},
                        ],
                    }
                )
            ],
        },
    )


def test_asset_events_flow_from_the_topic_to_a_queue_with_a_dead_letter_queue(
    template_json: dict[str, Any],
) -> None:
    topic, props = _only(template_json, "AWS::SNS::Topic")
    assert "KmsMasterKeyId" in props["Properties"]
    _, subscription = _only(template_json, "AWS::SNS::Subscription")
    sub = subscription["Properties"]
    assert sub["Protocol"] == "sqs" and sub["TopicArn"] == {"Ref": topic}
    queue = sub["Endpoint"]["Fn::GetAtt"][0]
    redrive = template_json["Resources"][queue]["Properties"]["RedrivePolicy"]
    dead_letters = redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]
    assert template_json["Resources"][dead_letters]["Type"] == "AWS::SQS::Queue"
    assert redrive["maxReceiveCount"] >= 3


# functions


def test_every_function_runs_its_handler_on_the_shared_bundle(
    template_json: dict[str, Any],
) -> None:
    functions = resources(template_json, "AWS::Lambda::Function")
    assert {f["Properties"]["Handler"] for f in functions.values()} == ALL_HANDLERS
    codes = set()
    for logical_id, function in functions.items():
        props = function["Properties"]
        assert props["Runtime"] == LAMBDA_RUNTIME, logical_id
        assert props["Architectures"] == ["x86_64"], logical_id
        assert props["TracingConfig"] == {"Mode": "Active"}, logical_id
        assert set(props["Environment"]["Variables"]) >= COMMON_ENV, logical_id
        assert props["Environment"]["Variables"]["PRIMEVOD_LADDER"] == "aws-vod"
        assert props["Environment"]["Variables"]["PRIMEVOD_UPLOAD_PREFIX"] == "uploads/"
        # the bundle's service models first (MediaConvert's Probe on any runtime boto3)
        assert props["Environment"]["Variables"]["AWS_DATA_PATH"] == "/var/task/aws-models"
        codes.add(json.dumps(props["Code"], sort_keys=True))
    assert len(codes) == 1, "one shared code bundle"


def test_no_docker_and_no_bundling_in_the_assets(template_path: Any) -> None:
    """Code.from_asset of a prepared folder: no PythonFunction, no container image."""
    assets = json.loads((template_path.parent / "PrimeVod.assets.json").read_text())
    assert not assets.get("dockerImages")
    folders = [f["source"] for f in assets["files"].values() if f["source"]["packaging"] == "zip"]
    assert len(folders) == 1
    bundle = template_path.parent / folders[0]["path"]
    assert (bundle / "primevod" / "aws" / "handlers").is_dir()


def test_each_function_gets_only_what_it_needs(template_json: dict[str, Any]) -> None:
    ids = function_ids(template_json)

    def actions(handler: str) -> set[str]:
        return _actions(_policy_statements(template_json, _role_of(template_json, ids[handler])))

    ingest = actions(f"{H}.tasks.ingest_handler")
    assert {"mediaconvert:Probe", "s3:GetObject*", "dynamodb:PutItem"} <= ingest
    assert "sns:Publish" not in ingest and "s3:PutObject" not in ingest
    assert "s3:GetObject*" in actions(f"{H}.tasks.validate_handler")
    assert "dynamodb:PutItem" not in actions(f"{H}.tasks.validate_handler")
    for handler in (f"{H}.tasks.publish_handler", f"{H}.tasks.failure_handler"):
        assert {"sns:Publish", "dynamodb:UpdateItem"} <= actions(handler)
    assert {"s3:PutObject", "s3:Abort*", "s3:List*"} <= actions(f"{H}.uploads.handler")
    playback = actions(f"{H}.playback.handler")
    assert "dynamodb:GetItem" in playback and "dynamodb:PutItem" not in playback
    for handler in ALL_HANDLERS:
        granted = actions(handler)
        assert "iam:PassRole" not in granted and "*" not in granted, handler
        if not handler.endswith(".start.handler"):
            assert not any(a.startswith("states:") for a in granted), handler


def test_functions_have_their_own_roles_without_managed_policies(
    template_json: dict[str, Any],
) -> None:
    ids = function_ids(template_json)
    roles = {_role_of(template_json, logical_id) for logical_id in ids.values()}
    assert len(roles) == len(ids)
    for role in roles:
        assert "ManagedPolicyArns" not in template_json["Resources"][role]["Properties"]


# the API


def test_the_api_routes_match_the_local_server(
    template: Any, template_json: dict[str, Any]
) -> None:
    routes = {
        r["Properties"]["RouteKey"]
        for r in resources(template_json, "AWS::ApiGatewayV2::Route").values()
    }
    assert routes == {
        "GET /api/v1/uploads/config",
        "POST /api/v1/uploads/init",
        "POST /api/v1/uploads/signPart",
        "GET /api/v1/uploads/{upload_id}/parts",
        "POST /api/v1/uploads/complete",
        "POST /api/v1/uploads/abort",
        "GET /api/v1/assets/{asset_id}/playback",
    }
    template.has_resource_properties(
        "AWS::ApiGatewayV2::Api",
        {
            "ProtocolType": "HTTP",
            "CorsConfiguration": Match.object_like(
                {"AllowOrigins": ["*"], "AllowHeaders": Match.array_with(["authorization"])}
            ),
        },
    )
    template.has_resource_properties(
        "AWS::ApiGatewayV2::Stage",
        {
            "StageName": "$default",
            "AutoDeploy": True,
            "DefaultRouteSettings": Match.object_like({"ThrottlingRateLimit": Match.any_value()}),
            "AccessLogSettings": Match.object_like({"DestinationArn": Match.any_value()}),
        },
    )


def test_every_route_needs_a_key_of_a_role_it_admits(template_json: dict[str, Any]) -> None:
    from primevod.aws.handlers.authorizer import ROUTE_ROLES

    authorizer_id, authorizer = _only(template_json, "AWS::ApiGatewayV2::Authorizer")
    props = authorizer["Properties"]
    assert props["AuthorizerType"] == "REQUEST"
    assert props["EnableSimpleResponses"] is True
    assert props["AuthorizerPayloadFormatVersion"] == "2.0"
    # cached per key AND route: a key's answer for one route is not reused for another
    assert set(props["IdentitySource"]) == {"$request.header.Authorization", "$context.routeKey"}
    assert 0 < props["AuthorizerResultTtlInSeconds"] <= 300
    routes = resources(template_json, "AWS::ApiGatewayV2::Route").values()
    assert {r["Properties"]["RouteKey"] for r in routes} == set(ROUTE_ROLES)
    for route in routes:
        assert route["Properties"]["AuthorizationType"] == "CUSTOM"
        assert route["Properties"]["AuthorizerId"] == {"Ref": authorizer_id}


def test_the_authorizer_reads_key_items_only(template_json: dict[str, Any]) -> None:
    ids = function_ids(template_json)
    role = _role_of(template_json, ids[f"{H}.authorizer.handler"])
    reads = [
        s for s in _policy_statements(template_json, role) if "dynamodb:GetItem" in s["Action"]
    ]
    assert len(reads) == 1 and reads[0]["Action"] == "dynamodb:GetItem"
    assert reads[0]["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["key#*"]}}


def test_the_stack_needs_no_account_or_region(template_path: Any) -> None:
    """Environment-agnostic: no lookups, nothing pinned to an account."""
    manifest = json.loads((template_path.parent / "manifest.json").read_text())
    stack = manifest["artifacts"]["PrimeVod"]
    assert stack["environment"] == "aws://unknown-account/unknown-region"
    assert "123456789012" not in template_path.read_text()


# governance


def test_a_monthly_budget_alerts_the_topic_at_80_actual_and_100_forecast(
    template_json: dict[str, Any],
) -> None:
    _, budget = _only(template_json, "AWS::Budgets::Budget")
    props = budget["Properties"]
    assert props["Budget"]["TimeUnit"] == "MONTHLY" and props["Budget"]["BudgetType"] == "COST"
    parameter = next(k for k in template_json["Parameters"] if "BudgetMonthlyUsd" in k)
    assert template_json["Parameters"][parameter]["Default"] == 20
    assert props["Budget"]["BudgetLimit"] == {"Amount": {"Ref": parameter}, "Unit": "USD"}
    topic_id, _ = _only(template_json, "AWS::SNS::Topic")
    alerts = {
        (n["Notification"]["Threshold"], n["Notification"]["NotificationType"])
        for n in props["NotificationsWithSubscribers"]
        if n["Subscribers"] == [{"SubscriptionType": "SNS", "Address": {"Ref": topic_id}}]
    }
    assert alerts == {(80, "ACTUAL"), (100, "FORECASTED")}
    # the budgets service may publish to the topic (and use its key)
    policies = resources(template_json, "AWS::SNS::TopicPolicy").values()
    statements = [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]]
    assert any(
        s["Principal"] == {"Service": "budgets.amazonaws.com"} and s["Action"] == "sns:Publish"
        for s in statements
    )


def test_every_taggable_resource_carries_the_cost_allocation_tags(
    template_json: dict[str, Any],
) -> None:
    tagged = [
        (k, v) for k, v in template_json["Resources"].items() if "Tags" in v.get("Properties", {})
    ]
    assert len(tagged) > 20
    for logical_id, resource in tagged:
        tags = resource["Properties"]["Tags"]
        found = {t["Key"]: t["Value"] for t in tags} if isinstance(tags, list) else dict(tags)
        assert found.get("project") == "prime-vod", logical_id
    for kind in ("AWS::S3::Bucket", "AWS::Lambda::Function", "AWS::DynamoDB::Table"):
        for logical_id, resource in resources(template_json, kind).items():
            assert "Tags" in resource["Properties"], logical_id


def test_cloudtrail_validates_its_log_files_into_an_encrypted_bucket(
    template_json: dict[str, Any],
) -> None:
    _, trail = _only(template_json, "AWS::CloudTrail::Trail")
    props = trail["Properties"]
    assert props["EnableLogFileValidation"] is True and props["IsLogging"] is True
    assert props["IsMultiRegionTrail"] is True and "KMSKeyId" in props
    bucket = template_json["Resources"][props["S3BucketName"]["Ref"]]["Properties"]
    rule = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}


# delivery


def test_cloudfront_reads_the_destination_through_origin_access_control(
    template_json: dict[str, Any],
) -> None:
    distribution_id, distribution = _only(template_json, "AWS::CloudFront::Distribution")
    config = distribution["Properties"]["DistributionConfig"]
    [origin] = config["Origins"]
    _, destination = _buckets(template_json)
    assert origin["DomainName"] == {"Fn::GetAtt": [destination, "RegionalDomainName"]}
    assert "OriginAccessControlId" in origin
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}  # no OAI
    assert not resources(template_json, "AWS::CloudFront::CloudFrontOriginAccessIdentity")
    _only(template_json, "AWS::CloudFront::OriginAccessControl")
    # the destination's policy admits CloudFront for this distribution only
    policy = next(
        p["Properties"]["PolicyDocument"]
        for p in resources(template_json, "AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": destination}
    )
    [read] = [
        s
        for s in policy["Statement"]
        if s.get("Principal") == {"Service": "cloudfront.amazonaws.com"}
    ]
    assert read["Action"] == "s3:GetObject"
    assert distribution_id in json.dumps(read["Condition"]["StringEquals"]["AWS:SourceArn"])
    # and the media key decrypts for CloudFront
    key = next(
        k for k in resources(template_json, "AWS::KMS::Key") if k.startswith("StorageMediaKey")
    )
    key_policy = template_json["Resources"][key]["Properties"]["KeyPolicy"]["Statement"]
    assert any(s.get("Principal") == {"Service": "cloudfront.amazonaws.com"} for s in key_policy)


def test_every_behaviour_needs_a_signature_and_manifests_expire_quickly(
    template_json: dict[str, Any],
) -> None:
    _, distribution = _only(template_json, "AWS::CloudFront::Distribution")
    config = distribution["Properties"]["DistributionConfig"]
    key_group_id, _ = _only(template_json, "AWS::CloudFront::KeyGroup")
    behaviours = [config["DefaultCacheBehavior"], *config["CacheBehaviors"]]
    assert sorted(b.get("PathPattern", "*") for b in behaviours) == ["*", "*.m3u8", "*.mpd"]
    policies = resources(template_json, "AWS::CloudFront::CachePolicy")
    for behaviour in behaviours:
        assert behaviour["TrustedKeyGroups"] == [{"Ref": key_group_id}]
        assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https"
        assert "ResponseHeadersPolicyId" in behaviour
        ttl = policies[behaviour["CachePolicyId"]["Ref"]]["Properties"]["CachePolicyConfig"]
        manifest = behaviour.get("PathPattern", "*") != "*"
        assert ttl["DefaultTTL"] == (10 if manifest else 365 * 86400)
        keys = ttl["ParametersInCacheKeyAndForwardedToOrigin"]
        assert keys["QueryStringsConfig"] == {"QueryStringBehavior": "none"}
        assert keys["CookiesConfig"] == {"CookieBehavior": "none"}
    assert config["Logging"]["Bucket"]["Fn::GetAtt"][0].startswith("DeliveryAccessLogs")
    _, cors = _only(template_json, "AWS::CloudFront::ResponseHeadersPolicy")
    allowed = cors["Properties"]["ResponseHeadersPolicyConfig"]["CorsConfig"]
    assert allowed["AccessControlAllowOrigins"] == {"Items": ["*"]}


def test_playback_signs_for_the_distribution_with_the_key_groups_key(
    template_json: dict[str, Any],
) -> None:
    ids = function_ids(template_json)
    playback = template_json["Resources"][ids[f"{H}.playback.handler"]]
    env = playback["Properties"]["Environment"]["Variables"]
    public_key_id, public_key = _only(template_json, "AWS::CloudFront::PublicKey")
    assert env["PRIMEVOD_SIGNING_KEY_ID"] == {"Ref": public_key_id}
    distribution_id, _ = _only(template_json, "AWS::CloudFront::Distribution")
    assert env["PRIMEVOD_PLAYBACK_BASE_URL"] == {
        "Fn::Join": ["", ["https://", {"Fn::GetAtt": [distribution_id, "DomainName"]}]]
    }
    encoded = public_key["Properties"]["PublicKeyConfig"]["EncodedKey"]
    assert encoded["Ref"] in template_json["Parameters"]  # the PEM is a deploy-time parameter
    assert env["PRIMEVOD_SIGNING_KEY_SECRET"]["Ref"] in template_json["Parameters"]


# observability


def test_the_local_default_alarms_watch_the_aws_metrics_and_tell_the_topic(
    template_json: dict[str, Any],
) -> None:
    from primevod.core.alarms import DEFAULT_ALARMS

    alarms = resources(template_json, "AWS::CloudWatch::Alarm")
    topic_id, _ = _only(template_json, "AWS::SNS::Topic")
    by_name = {
        props["AlarmDescription"].split(":")[0].removeprefix("prime-vod "): props
        for props in (a["Properties"] for a in alarms.values())
    }
    mirrored = {s.name: s for s in DEFAULT_ALARMS}
    assert set(by_name) == {*mirrored, "slow-executions"}
    for name, props in by_name.items():
        assert props["AlarmActions"] == [{"Ref": topic_id}], name
        assert props["TreatMissingData"] == "notBreaching"
    failures = by_name["workflow-failures"]
    assert (failures["MetricName"], failures["Namespace"]) == ("ExecutionsFailed", "AWS/States")
    assert (failures["Threshold"], failures["Period"]) == (0, 300)
    percents = (("delivery-5xx-rate", 1), ("delivery-4xx-rate", 5), ("cache-hit-ratio", 80))
    for name, percent in percents:
        props = by_name[name]
        assert props["Threshold"] == percent  # the local ratio, as CloudFront's percent
        expression = next(m["Expression"] for m in props["Metrics"] if "Expression" in m)
        samples = mirrored[name].min_samples
        assert expression.startswith(f"IF(requests >= {samples}, rate, ")
    assert by_name["cache-hit-ratio"]["ComparisonOperator"] == "LessThanThreshold"
    assert by_name["origin-latency-p95"]["Threshold"] == 500
    assert by_name["slow-executions"]["Threshold"] == 2 * 3600 * 1000
    canary = by_name["canary-failure"]
    assert (canary["Namespace"], canary["MetricName"]) == ("PrimeVod/Canary", "CanaryFailed")
    assert (canary["Period"], canary["Threshold"]) == (600, 0)
    _only(template_json, "AWS::CloudFront::MonitoringSubscription")  # hit rate, latency


def test_a_dashboard_and_a_retention_on_every_log_group(template_json: dict[str, Any]) -> None:
    _, dashboard = _only(template_json, "AWS::CloudWatch::Dashboard")
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for title in ("Alarms", "Workflows", "Delivery: requests", "Delivery: error rates"):
        assert title in body
    groups = resources(template_json, "AWS::Logs::LogGroup")
    assert len(groups) >= 10
    for logical_id, group in groups.items():
        assert group["Properties"].get("RetentionInDays"), logical_id


def test_the_canary_runs_every_5_minutes_and_may_write_only_its_metrics(
    template_json: dict[str, Any],
) -> None:
    ids = function_ids(template_json)
    canary = ids[f"{H}.canary.handler"]
    [schedule] = [
        r["Properties"]
        for r in resources(template_json, "AWS::Events::Rule").values()
        if "ScheduleExpression" in r["Properties"]
    ]
    assert schedule["ScheduleExpression"] == "rate(5 minutes)"
    assert schedule["Targets"][0]["Arn"] == {"Fn::GetAtt": [canary, "Arn"]}
    statements = _policy_statements(template_json, _role_of(template_json, canary))
    [put] = [s for s in statements if s["Action"] == "cloudwatch:PutMetricData"]
    assert put["Condition"] == {"StringEquals": {"cloudwatch:namespace": "PrimeVod/Canary"}}
    env = template_json["Resources"][canary]["Properties"]["Environment"]["Variables"]
    assert {"PRIMEVOD_PLAYBACK_BASE_URL", "PRIMEVOD_SIGNING_KEY_ID"} <= set(env)
