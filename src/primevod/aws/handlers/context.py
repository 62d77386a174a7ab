"""What every handler reads from its environment (set by the CDK stack) and the AWS clients
it shares across the invocations of one warm Lambda."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config as BotoConfig

from primevod.core.codec_families import PRODUCT_CODECS, codecs_text

if TYPE_CHECKING:
    from primevod.adapters.aws.dynamo_assets import DynamoAssets


@dataclass(frozen=True)
class Config:
    assets_table: str
    events_topic_arn: str
    source_bucket: str
    destination_bucket: str
    ladder: str
    codecs: str  # codec families of every title ("h264,av1"); a start event's `codecs` wins
    profile: str  # the source limits' profile (core/source_rules.limits_for)
    mediaconvert_role_arn: str
    mediaconvert_queue_arn: str  # empty: the account's default queue
    upload_prefix: str
    state_machine_arn: str


def config() -> Config:
    env = os.environ.get
    return Config(
        assets_table=env("PRIMEVOD_ASSETS_TABLE", ""),
        events_topic_arn=env("PRIMEVOD_EVENTS_TOPIC_ARN", ""),
        source_bucket=env("PRIMEVOD_SOURCE_BUCKET", ""),
        destination_bucket=env("PRIMEVOD_DESTINATION_BUCKET", ""),
        ladder=env("PRIMEVOD_LADDER", "aws-vod"),
        codecs=env("PRIMEVOD_CODECS", codecs_text(PRODUCT_CODECS)),
        profile=env("PRIMEVOD_PROFILE", "default"),
        mediaconvert_role_arn=env("PRIMEVOD_MEDIACONVERT_ROLE_ARN", ""),
        mediaconvert_queue_arn=env("PRIMEVOD_MEDIACONVERT_QUEUE_ARN", ""),
        upload_prefix=env("PRIMEVOD_UPLOAD_PREFIX", "uploads/"),
        state_machine_arn=env("PRIMEVOD_STATE_MACHINE_ARN", ""),
    )


@functools.cache
def client(service: str) -> Any:
    """One client per service and warm Lambda (tests clear the cache between mocks); S3's
    presigns with SigV4 (the only signature every region takes)."""
    if service == "s3":
        return boto3.client("s3", config=BotoConfig(signature_version="s3v4"))
    return boto3.client(service)


def assets() -> DynamoAssets:
    # imported here: the asset model (pydantic) is a third of a cold start, and the
    # authorizer and the start function never touch an asset
    from primevod.adapters.aws.dynamo_assets import DynamoAssets

    return DynamoAssets(config().assets_table, client("dynamodb"))
