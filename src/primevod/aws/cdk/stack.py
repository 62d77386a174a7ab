"""`PrimeVodStack`: the AWS shape in one stack, assembled from the constructs of this package.

    storage (buckets) + data (table, topic, queues)
        -> functions (one bundle, one environment) -> pipeline (state machine, rules) + api
    governance: the monthly budget's alerts, cost allocation tags, CloudTrail
    optional, off by default: search (OpenSearch from the table's stream), analytics
    (Glue + Athena over CloudFront's access logs)

Environment-agnostic: no account, region or lookup is needed to synthesize it (no
`from_lookup`, no context queries), so `primevod aws synth` runs with no credentials."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from primevod.aws.cdk.analytics import Analytics
from primevod.aws.cdk.api import Api, PlaybackSettings
from primevod.aws.cdk.data import Data
from primevod.aws.cdk.delivery import ACCESS_LOG_PREFIX, Delivery
from primevod.aws.cdk.functions import Functions
from primevod.aws.cdk.governance import Governance, tag_for_costs
from primevod.aws.cdk.observability import Observability
from primevod.aws.cdk.pipeline import Pipeline, mediaconvert_queue, mediaconvert_role
from primevod.aws.cdk.search import Search
from primevod.aws.cdk.storage import Storage
from primevod.core.codec_families import PRODUCT_CODECS, codecs_text

DEFAULT_LADDER = "aws-vod"
DEFAULT_CODECS = codecs_text(PRODUCT_CODECS)  # the local default too (Settings.codecs)
UPLOAD_PREFIX = "uploads/"  # core/layout.source_key: uploads/<asset>/<file name>


class PrimeVodStack(Stack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        bundle: Path,
        ladder: str = DEFAULT_LADDER,
        codecs: str = DEFAULT_CODECS,
        profile: str = "default",
        cors_origins: Sequence[str] = ("*",),
        search: bool = False,
        analytics: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        self.storage = Storage(self, "Storage", cors_origins=cors_origins)
        self.data = Data(self, "Data", stream=search)
        self.mediaconvert_role = mediaconvert_role(
            self, "MediaConvertRole", self.storage, UPLOAD_PREFIX
        )
        self.mediaconvert_queue = mediaconvert_queue(self, "MediaConvertQueue")
        self.functions = Functions(
            self, "Functions", bundle=bundle, environment=self._environment(ladder, codecs, profile)
        )
        self.pipeline = Pipeline(
            self,
            "Pipeline",
            fns=self.functions,
            storage=self.storage,
            data=self.data,
            mediaconvert=self.mediaconvert_role,
            queue_arn=self.mediaconvert_queue.attr_arn,
            upload_prefix=UPLOAD_PREFIX,
        )
        self._delivery_and_api(cors_origins)
        self.governance = Governance(
            self, "Governance", topic=self.data.topic, topic_key=self.data.events_key
        )
        self.observability = Observability(
            self,
            "Observability",
            state_machine=self.pipeline.state_machine,
            distribution=self.delivery.distribution,
            topic=self.data.topic,
            topic_key=self.data.events_key,
            fns=self.functions,
            data=self.data,
            playback=self.playback,
        )
        self.search = (
            Search(self, "Search", fns=self.functions, table=self.data.table) if search else None
        )
        self.analytics = (
            Analytics(
                self,
                "Analytics",
                log_bucket=self.delivery.log_bucket,
                log_prefix=ACCESS_LOG_PREFIX,
            )
            if analytics
            else None
        )
        tag_for_costs(self)
        self._outputs()

    def _environment(self, ladder: str, codecs: str, profile: str) -> dict[str, str]:
        """What every function's handler reads (handlers/context.py)."""
        return {
            "PRIMEVOD_ASSETS_TABLE": self.data.table.table_name,
            "PRIMEVOD_EVENTS_TOPIC_ARN": self.data.topic.topic_arn,
            "PRIMEVOD_SOURCE_BUCKET": self.storage.source.bucket_name,
            "PRIMEVOD_DESTINATION_BUCKET": self.storage.destination.bucket_name,
            "PRIMEVOD_LADDER": ladder,
            "PRIMEVOD_CODECS": codecs,
            "PRIMEVOD_PROFILE": profile,  # dev: sources of 30 s at most, as locally
            "PRIMEVOD_MEDIACONVERT_ROLE_ARN": self.mediaconvert_role.role_arn,
            "PRIMEVOD_MEDIACONVERT_QUEUE_ARN": self.mediaconvert_queue.attr_arn,
            "PRIMEVOD_UPLOAD_PREFIX": UPLOAD_PREFIX,
        }

    def _delivery_and_api(self, cors_origins: Sequence[str]) -> None:
        """CloudFront, and the HTTP API whose playback signs for it."""
        self.delivery = delivery = Delivery(
            self,
            "Delivery",
            destination=self.storage.destination,
            media_key=self.storage.key,
            cors_origins=cors_origins,
        )
        self.playback = PlaybackSettings(
            base_url=delivery.base_url,
            signing_key_id=delivery.public_key.public_key_id,
            signing_key_secret=delivery.signing_key_secret.value_as_string,
        )
        self.api = Api(
            self,
            "Api",
            fns=self.functions,
            storage=self.storage,
            data=self.data,
            cors_origins=cors_origins,
            upload_prefix=UPLOAD_PREFIX,
            playback=self.playback,
        )

    def _outputs(self) -> None:
        for name, value in {
            "ApiUrl": self.api.url,
            "PlaybackUrl": self.delivery.base_url,
            "SourceBucket": self.storage.source.bucket_name,
            "DestinationBucket": self.storage.destination.bucket_name,
            "StateMachineArn": self.pipeline.state_machine.state_machine_arn,
            "MediaConvertQueueArn": self.mediaconvert_queue.attr_arn,
            "AssetsTable": self.data.table.table_name,
            "AssetEventsTopic": self.data.topic.topic_arn,
            "AssetEventsQueueUrl": self.data.queue.queue_url,
            **self._optional_outputs(),
        }.items():
            CfnOutput(self, name, value=value)

    def _optional_outputs(self) -> dict[str, str]:
        found = {}
        if self.search:
            found["SearchEndpoint"] = f"https://{self.search.domain.domain_endpoint}"
        if self.analytics:
            found["AthenaWorkGroup"] = self.analytics.workgroup.ref
            found["GlueDatabase"] = self.analytics.database.ref
        return found
