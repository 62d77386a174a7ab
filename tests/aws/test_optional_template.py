"""The optional search and analytics constructs (search.py, analytics.py): absent from the
default synthesis; with `primevod:search=on` and `primevod:analytics=on` (conftest.py's
second synthesis), the OpenSearch domain with its encryption and its policy naming the
indexer alone, the table's stream, the indexer and its event source mapping, the Glue
database and table over the distribution's access logs, and the Athena workgroup with
encrypted, enforced results. Neither was deployed: this is the template."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("aws_cdk")

from cdk_template import as_list, function_ids, joined, policy_statements, resources

from primevod.aws.cdk.analytics import CLOUDFRONT_LOG_COLUMNS

INDEXER = "primevod.aws.handlers.search_indexer.handler"
OPTIONAL_KINDS = (
    "AWS::OpenSearchService::Domain",
    "AWS::Lambda::EventSourceMapping",
    "AWS::Glue::Database",
    "AWS::Glue::Table",
    "AWS::Athena::WorkGroup",
)
BULK_ARN = (
    "arn:${AWS::Partition}:es:${AWS::Region}:${AWS::AccountId}:domain/primevod-assets/assets/_bulk"
)


def _only(template: dict[str, Any], kind: str) -> tuple[str, dict[str, Any]]:
    found = resources(template, kind)
    assert len(found) == 1, f"{len(found)} {kind}"
    logical_id, resource = next(iter(found.items()))
    return logical_id, resource["Properties"]


def _indexer(template: dict[str, Any]) -> tuple[str, str]:
    """The indexer function's logical id and its role's."""
    function_id = function_ids(template)[INDEXER]
    role = template["Resources"][function_id]["Properties"]["Role"]["Fn::GetAtt"][0]
    return function_id, role


def test_the_default_synthesis_has_none_of_them(template_json: dict[str, Any]) -> None:
    for kind in OPTIONAL_KINDS:
        assert not resources(template_json, kind), kind
    _, table = _only(template_json, "AWS::DynamoDB::Table")
    assert "StreamSpecification" not in table
    assert INDEXER not in function_ids(template_json)
    assert not {"SearchEndpoint", "AthenaWorkGroup", "GlueDatabase"} & set(template_json["Outputs"])


# search


def test_the_domain_encrypts_at_rest_and_between_nodes_over_https_only(
    flags_template_json: dict[str, Any],
) -> None:
    _, domain = _only(flags_template_json, "AWS::OpenSearchService::Domain")
    assert domain["EncryptionAtRestOptions"] == {"Enabled": True}
    assert domain["NodeToNodeEncryptionOptions"] == {"Enabled": True}
    assert domain["DomainEndpointOptions"] == {
        "EnforceHTTPS": True,
        "TLSSecurityPolicy": "Policy-Min-TLS-1-2-2019-07",
    }
    cluster = domain["ClusterConfig"]
    assert (cluster["InstanceType"], cluster["InstanceCount"]) == ("t3.small.search", 1)
    assert cluster["DedicatedMasterEnabled"] is False
    assert domain["EngineVersion"].startswith("OpenSearch_")
    assert domain["EBSOptions"]["VolumeSize"] == 10
    groups = resources(flags_template_json, "AWS::Logs::LogGroup")
    published = domain["LogPublishingOptions"]
    assert set(published) == {"SEARCH_SLOW_LOGS", "INDEX_SLOW_LOGS", "ES_APPLICATION_LOGS"}
    for option in published.values():
        group = option["CloudWatchLogsLogGroupArn"]["Fn::GetAtt"][0]
        assert groups[group]["Properties"]["RetentionInDays"] == 30
    # the logs' resource policy is a plain resource, not CDK's custom resource (a Lambda)
    _only(flags_template_json, "AWS::Logs::ResourcePolicy")
    assert not [k for k in flags_template_json["Resources"] if "AWS679f53fac" in k]
    assert not resources(flags_template_json, "Custom::OpenSearchAccessPolicy")


def test_the_domain_admits_the_indexers_role_alone_for_bulk_requests(
    flags_template_json: dict[str, Any],
) -> None:
    _, domain = _only(flags_template_json, "AWS::OpenSearchService::Domain")
    _, role = _indexer(flags_template_json)
    [statement] = domain["AccessPolicies"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"AWS": {"Fn::GetAtt": [role, "Arn"]}}
    assert statement["Action"] == "es:ESHttpPost"
    assert joined(statement["Resource"]) == BULK_ARN
    assert "Condition" not in statement
    [grant] = [
        s
        for s in policy_statements(flags_template_json, role)
        if any(a.startswith("es:") for a in as_list(s["Action"]))
    ]
    assert grant["Action"] == "es:ESHttpPost" and joined(grant["Resource"]) == BULK_ARN


def test_the_table_streams_new_images_to_the_indexer(flags_template_json: dict[str, Any]) -> None:
    table_id, table = _only(flags_template_json, "AWS::DynamoDB::Table")
    assert table["StreamSpecification"] == {"StreamViewType": "NEW_IMAGE"}
    function_id, role = _indexer(flags_template_json)
    _, mapping = _only(flags_template_json, "AWS::Lambda::EventSourceMapping")
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": [table_id, "StreamArn"]}
    assert mapping["FunctionName"] == {"Ref": function_id}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    assert mapping["MaximumRecordAgeInSeconds"] == 86400
    queue = mapping["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
    assert flags_template_json["Resources"][queue]["Type"] == "AWS::SQS::Queue"
    reads = [
        s
        for s in policy_statements(flags_template_json, role)
        if "dynamodb:GetRecords" in as_list(s["Action"])
    ]
    assert reads == [
        {
            "Action": [
                "dynamodb:DescribeStream",
                "dynamodb:GetRecords",
                "dynamodb:GetShardIterator",
            ],
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [table_id, "StreamArn"]},
        }
    ]


def test_the_indexer_knows_the_domains_https_endpoint_and_index(
    flags_template_json: dict[str, Any],
) -> None:
    function_id, _ = _indexer(flags_template_json)
    domain_id, _ = _only(flags_template_json, "AWS::OpenSearchService::Domain")
    env = flags_template_json["Resources"][function_id]["Properties"]["Environment"]["Variables"]
    assert joined(env["PRIMEVOD_SEARCH_ENDPOINT"]) == f"https://${{{domain_id}.DomainEndpoint}}"
    assert env["PRIMEVOD_SEARCH_INDEX"] == "assets"
    assert "SearchEndpoint" in flags_template_json["Outputs"]


# analytics


def test_a_glue_table_reads_the_distributions_access_logs(
    flags_template_json: dict[str, Any],
) -> None:
    database_id, database = _only(flags_template_json, "AWS::Glue::Database")
    assert database["DatabaseInput"]["Name"] == "primevod_analytics"
    _, table = _only(flags_template_json, "AWS::Glue::Table")
    assert table["DatabaseName"] == {"Ref": database_id}
    spec = table["TableInput"]
    assert spec["TableType"] == "EXTERNAL_TABLE"
    assert spec["Parameters"]["skip.header.line.count"] == "2"
    storage = spec["StorageDescriptor"]
    assert [(c["Name"], c["Type"]) for c in storage["Columns"]] == list(CLOUDFRONT_LOG_COLUMNS)
    assert len(storage["Columns"]) == 33
    assert storage["SerdeInfo"]["Parameters"]["field.delim"] == "\t"
    assert storage["InputFormat"] == "org.apache.hadoop.mapred.TextInputFormat"
    # where the distribution writes its standard logs
    _, distribution = _only(flags_template_json, "AWS::CloudFront::Distribution")
    logging = distribution["DistributionConfig"]["Logging"]
    log_bucket = logging["Bucket"]["Fn::GetAtt"][0]
    assert joined(storage["Location"]) == f"s3://${{{log_bucket}}}/{logging['Prefix']}"


def test_the_athena_workgroup_enforces_encrypted_results(
    flags_template_json: dict[str, Any],
) -> None:
    _, workgroup = _only(flags_template_json, "AWS::Athena::WorkGroup")
    config = workgroup["WorkGroupConfiguration"]
    assert config["EnforceWorkGroupConfiguration"] is True
    assert config["BytesScannedCutoffPerQuery"] <= 10**9
    result = config["ResultConfiguration"]
    key_id = result["EncryptionConfiguration"]["KmsKey"]["Fn::GetAtt"][0]
    assert result["EncryptionConfiguration"]["EncryptionOption"] == "SSE_KMS"
    location = result["OutputLocation"]["Fn::Join"][1]
    assert location[0] == "s3://" and location[2] == "/"
    bucket = flags_template_json["Resources"][location[1]["Ref"]]["Properties"]
    [rule] = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"] == {
        "Fn::GetAtt": [key_id, "Arn"]
    }
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    assert flags_template_json["Resources"][key_id]["Properties"]["EnableKeyRotation"] is True
    assert {"AthenaWorkGroup", "GlueDatabase"} <= set(flags_template_json["Outputs"])


def test_the_optional_parts_carry_the_cost_tags(flags_template_json: dict[str, Any]) -> None:
    for kind in (
        "AWS::OpenSearchService::Domain",
        "AWS::Athena::WorkGroup",
        "AWS::Lambda::EventSourceMapping",
    ):
        _, props = _only(flags_template_json, kind)
        tags = {t["Key"]: t["Value"] for t in props["Tags"]}
        assert tags["project"] == "prime-vod", kind
