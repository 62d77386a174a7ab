"""The two buckets: `source` (uploads land under `uploads/`; EventBridge hears every new
object) and `destination` (the packages MediaConvert writes). Both private, TLS only,
versioned, encrypted with the stack's media key (customer managed, rotated yearly, S3 bucket
keys on to keep KMS requests few), and kept when the stack is deleted (they hold media).

Their lifecycle is the project's lifecycle document (src/primevod/lifecycle/default.json,
which the local lifecycle engine reads too): sources under `uploads/` and `inbox/` expire
after 30 days, noncurrent versions after 7, abandoned multipart uploads after 1; packages
are kept. What S3 refuses is left out with a note (`core/lifecycle.deployable_on_s3`): the
document's move to Standard-IA at day 7 (S3 takes objects into Standard-IA from day 30)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import Annotations, Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from primevod.adapters.lifecycle_files import read_lifecycle
from primevod.core.lifecycle import LifecycleConfiguration, deployable_on_s3


class Storage(Construct):
    def __init__(self, scope: Construct, id: str, *, cors_origins: Sequence[str]) -> None:
        super().__init__(scope, id)
        self.key = kms.Key(
            self,
            "MediaKey",
            description="prime-vod media buckets (sources and packages)",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,  # the media outlives the stack, so must it
        )
        self.lifecycle, notes = deployable_on_s3(read_lifecycle())
        for note in notes:
            Annotations.of(self).add_info(f"lifecycle: {note}")
        self.source = _private_bucket(
            self,
            "Source",
            self.key,
            self.lifecycle,
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
        self.destination = _private_bucket(self, "Destination", self.key, self.lifecycle)


def private_bucket(scope: Construct, id: str, key: kms.IKey, **extra: Any) -> s3.Bucket:
    """Private, TLS only, versioned, under `key` (with an S3 bucket key), kept on delete."""
    return s3.Bucket(
        scope,
        id,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        encryption=s3.BucketEncryption.KMS,
        encryption_key=key,
        bucket_key_enabled=True,
        versioned=True,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        removal_policy=RemovalPolicy.RETAIN,
        **extra,
    )


def scratch_bucket(
    scope: Construct, id: str, *, description: str, days: int
) -> tuple[kms.Key, s3.Bucket]:
    """A private bucket under a rotating key of its own whose objects expire after `days`
    (build artifacts, query results): the key and the bucket, both kept on delete."""
    key = kms.Key(
        scope,
        f"{id}Key",
        description=description,
        enable_key_rotation=True,
        removal_policy=RemovalPolicy.RETAIN,  # as its bucket
    )
    bucket = private_bucket(
        scope,
        id,
        key,
        lifecycle_rules=[
            s3.LifecycleRule(
                expiration=Duration.days(days), noncurrent_version_expiration=Duration.days(1)
            )
        ],
    )
    return key, bucket


def _private_bucket(
    scope: Construct,
    id: str,
    key: kms.IKey,
    lifecycle: LifecycleConfiguration,
    **extra: Any,
) -> s3.Bucket:
    """A media bucket: private, with the lifecycle document's rules."""
    bucket = private_bucket(scope, id, key, **extra)
    cfn = bucket.node.default_child
    assert isinstance(cfn, s3.CfnBucket)
    cfn.add_property_override("LifecycleConfiguration", {"Rules": cloudformation_rules(lifecycle)})
    return bucket


def cloudformation_rules(config: LifecycleConfiguration) -> list[dict[str, Any]]:
    """The document's rules in CloudFormation's `AWS::S3::Bucket` `Rule` shape."""
    rules = []
    for r in config.Rules:
        f = r.Filter
        prefix = f.And.Prefix if f.And else f.Prefix
        tags = f.And.Tags if f.And else ([f.Tag] if f.Tag else [])
        rule: dict[str, Any] = {"Id": r.ID, "Status": r.Status}
        if prefix:
            rule["Prefix"] = prefix
        if tags:
            rule["TagFilters"] = [{"Key": t.Key, "Value": t.Value} for t in tags]
        if r.Transitions:
            rule["Transitions"] = [
                {"StorageClass": t.StorageClass, "TransitionInDays": t.Days} for t in r.Transitions
            ]
        if r.Expiration:
            rule["ExpirationInDays"] = r.Expiration.Days
        if r.NoncurrentVersionExpiration:
            days = r.NoncurrentVersionExpiration.NoncurrentDays
            rule["NoncurrentVersionExpiration"] = {"NoncurrentDays": days}
        if r.AbortIncompleteMultipartUpload:
            days = r.AbortIncompleteMultipartUpload.DaysAfterInitiation
            rule["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": days}
        rules.append(rule)
    return rules
