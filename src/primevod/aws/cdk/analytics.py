"""Optional analytics (context `primevod:analytics=on`): CloudFront's access logs as a Glue
table that Athena queries in a workgroup of the stack.

    CloudFront --standard logs--> access log bucket (cloudfront/, kept 90 days)
                                      ^ Glue table `cloudfront_logs` (database <stack>_analytics)
    Athena workgroup <stack>-analytics --results--> results bucket (KMS, kept 30 days)

- The table is CloudFront's standard (legacy) log format: gzip'd text, tab-separated, two
  header lines (`#Version`, `#Fields`) skipped, the 33 fields in CloudFront's order with
  Athena's documented names and types (CLOUDFRONT_LOG_COLUMNS). The files lie flat under
  the prefix (no date folders), so the table has no partitions: a query reads up to the
  90 days the bucket keeps.
- The workgroup enforces its configuration (clients cannot send results elsewhere or
  unencrypted): results under a bucket of their own, encrypted with a key of its own
  (SSE-KMS), a scan cutoff per query (BYTES_SCANNED_CUTOFF) as a cost guard, and query
  metrics in CloudWatch.
- Nobody is granted anything: an analyst's IAM policy needs Athena on the workgroup, Glue
  reads of the database and table, S3 reads of the log prefix, and the results bucket
  and key."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_athena as athena
from aws_cdk import aws_glue as glue
from aws_cdk import aws_s3 as s3
from constructs import Construct

from primevod.aws.cdk.storage import scratch_bucket

TABLE = "cloudfront_logs"
RESULT_DAYS = 30
BYTES_SCANNED_CUTOFF = 1_000_000_000  # 1 GB a query: half a US cent at 5 USD a TB
# CloudFront's standard log fields, in order (Athena's documentation of the format)
CLOUDFRONT_LOG_COLUMNS = (
    ("date", "date"),
    ("time", "string"),
    ("x_edge_location", "string"),
    ("sc_bytes", "bigint"),
    ("c_ip", "string"),
    ("cs_method", "string"),
    ("cs_host", "string"),
    ("cs_uri_stem", "string"),
    ("sc_status", "int"),
    ("cs_referrer", "string"),
    ("cs_user_agent", "string"),
    ("cs_uri_query", "string"),
    ("cs_cookie", "string"),
    ("x_edge_result_type", "string"),
    ("x_edge_request_id", "string"),
    ("x_host_header", "string"),
    ("cs_protocol", "string"),
    ("cs_bytes", "bigint"),
    ("time_taken", "float"),
    ("x_forwarded_for", "string"),
    ("ssl_protocol", "string"),
    ("ssl_cipher", "string"),
    ("x_edge_response_result_type", "string"),
    ("cs_protocol_version", "string"),
    ("fle_status", "string"),
    ("fle_encrypted_fields", "int"),
    ("c_port", "int"),
    ("time_to_first_byte", "float"),
    ("x_edge_detailed_result_type", "string"),
    ("sc_content_type", "string"),
    ("sc_content_len", "bigint"),
    ("sc_range_start", "bigint"),
    ("sc_range_end", "bigint"),
)
HEADER_LINES = 2  # "#Version: 1.0" and "#Fields: ..."
TEXT_INPUT = "org.apache.hadoop.mapred.TextInputFormat"
TEXT_OUTPUT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
LAZY_SIMPLE_SERDE = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"


class Analytics(Construct):
    def __init__(
        self, scope: Construct, id: str, *, log_bucket: s3.IBucket, log_prefix: str
    ) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        prefix = stack.stack_name.lower()
        self.key, self.results = scratch_bucket(
            self, "Results", description="prime-vod Athena query results", days=RESULT_DAYS
        )
        self.database = glue.CfnDatabase(
            self,
            "Database",
            catalog_id=stack.account,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=f"{prefix}_analytics",
                description="prime-vod: CloudFront access logs of the playback distribution",
            ),
        )
        self.table = self._table(stack, log_bucket, log_prefix)
        self.workgroup = athena.CfnWorkGroup(
            self,
            "WorkGroup",
            name=f"{prefix}-analytics",
            description="prime-vod: queries of the CloudFront access logs",
            state="ENABLED",
            recursive_delete_option=True,  # its saved queries go with the stack
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                enforce_work_group_configuration=True,
                publish_cloud_watch_metrics_enabled=True,
                bytes_scanned_cutoff_per_query=BYTES_SCANNED_CUTOFF,
                result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                    output_location=f"s3://{self.results.bucket_name}/",
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_KMS", kms_key=self.key.key_arn
                    ),
                ),
            ),
        )

    def _table(self, stack: Stack, log_bucket: s3.IBucket, log_prefix: str) -> glue.CfnTable:
        return glue.CfnTable(
            self,
            "AccessLogs",
            catalog_id=stack.account,
            database_name=self.database.ref,
            table_input=glue.CfnTable.TableInputProperty(
                name=TABLE,
                description="CloudFront standard logs (tab-separated, two header lines)",
                table_type="EXTERNAL_TABLE",
                parameters={"EXTERNAL": "TRUE", "skip.header.line.count": str(HEADER_LINES)},
                storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                    columns=[
                        glue.CfnTable.ColumnProperty(name=name, type=kind)
                        for name, kind in CLOUDFRONT_LOG_COLUMNS
                    ],
                    location=f"s3://{log_bucket.bucket_name}/{log_prefix}",
                    input_format=TEXT_INPUT,
                    output_format=TEXT_OUTPUT,
                    serde_info=glue.CfnTable.SerdeInfoProperty(
                        serialization_library=LAZY_SIMPLE_SERDE,
                        parameters={"field.delim": "\t", "serialization.format": "\t"},
                    ),
                ),
            ),
        )
