"""The two buckets: `source` (uploads land under `uploads/`; EventBridge hears every new
object) and `destination` (the packages MediaConvert writes). Both private, TLS only,
encrypted with S3-managed keys, and kept when the stack is deleted (they hold media)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_s3 as s3
from constructs import Construct

# an abandoned browser upload's parts cost storage until aborted: S3 drops them after this
ABANDONED_UPLOAD_DAYS = 7


class Storage(Construct):
    def __init__(self, scope: Construct, id: str, *, cors_origins: Sequence[str]) -> None:
        super().__init__(scope, id)
        self.source = _private_bucket(
            self,
            "Source",
            # the browser PUTs parts straight to S3 through presigned URLs and needs each
            # part's ETag for `complete`: without ETag exposed the upload stalls at 100 %
            cors=[
                s3.CorsRule(
                    allowed_methods=[s3.HttpMethods.PUT, s3.HttpMethods.GET, s3.HttpMethods.HEAD],
                    allowed_origins=list(cors_origins),
                    allowed_headers=["*"],
                    exposed_headers=["ETag"],
                    max_age=3000,
                )
            ],
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="abort-abandoned-uploads",
                    abort_incomplete_multipart_upload_after=Duration.days(ABANDONED_UPLOAD_DAYS),
                )
            ],
        )
        # EventBridge notifications as the bucket's own property: `event_bridge_enabled=True`
        # would set them through a custom resource (one more Lambda, one more way to fail)
        source = self.source.node.default_child
        assert isinstance(source, s3.CfnBucket)
        source.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
            event_bridge_configuration=s3.CfnBucket.EventBridgeConfigurationProperty(
                event_bridge_enabled=True
            )
        )
        self.destination = _private_bucket(self, "Destination")


def _private_bucket(scope: Construct, id: str, **extra: Any) -> s3.Bucket:
    return s3.Bucket(
        scope,
        id,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        encryption=s3.BucketEncryption.S3_MANAGED,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        removal_policy=RemovalPolicy.RETAIN,
        **extra,
    )
