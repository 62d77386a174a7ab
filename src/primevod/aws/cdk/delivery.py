"""Signed delivery: a CloudFront distribution in front of the destination bucket.

    viewer --https--> CloudFront (trusted key group: signed URLs or cookies only)
                         |  origin access control (SigV4; no OAI, no public bucket)
                         v
                      destination bucket (assets/<id>/<n>/...)

- The bucket's policy admits this distribution only (`AWS:SourceArn`). The media key lets
  CloudFront decrypt for the account's distributions (CDK's statement: naming this one
  would make the key, the bucket and the distribution depend on each other in a circle).
- The key group holds one public key: the PEM given as the stack's `SigningPublicKey`
  parameter (`primevod signing-keys export-public KEY_ID`). CloudFront names the key itself
  (`K...`), and the playback function signs with that id and the private key kept in
  Secrets Manager (`SigningPrivateKeyName`, the secret's name).
- Manifests (`*.m3u8`, `*.mpd`) are cached briefly, segments and pictures long (they never
  change under a given path); CORS headers let a player on another origin read them.
- Access logs go to a bucket of their own (kept 90 days)."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import CfnParameter, Duration, RemovalPolicy
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

MANIFEST_PATTERNS = ("*.m3u8", "*.mpd")
MANIFEST_TTL = Duration.seconds(10)
SEGMENT_TTL = Duration.days(365)
ACCESS_LOG_DAYS = 90
ACCESS_LOG_PREFIX = "cloudfront/"  # standard logs, read by the optional analytics (analytics.py)


class Delivery(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        destination: s3.IBucket,
        media_key: kms.IKey,
        cors_origins: Sequence[str],
    ) -> None:
        super().__init__(scope, id)
        self.public_key_pem = CfnParameter(
            self,
            "SigningPublicKey",
            type="String",
            description="prime-vod: PEM of the public key that signs playback "
            "(primevod signing-keys export-public KEY_ID)",
        )
        self.signing_key_secret = CfnParameter(
            self,
            "SigningPrivateKeyName",  # a name, not a secret (no NoEcho needed)
            type="String",
            description="prime-vod: name of the Secrets Manager secret holding the matching "
            "PEM private key",
        )
        self.public_key = cloudfront.PublicKey(
            self,
            "PlaybackKey",
            encoded_key=self.public_key_pem.value_as_string,
            comment="prime-vod playback signing key",
        )
        self.key_group = cloudfront.KeyGroup(
            self, "PlaybackKeys", items=[self.public_key], comment="prime-vod playback"
        )
        self.log_bucket = self._log_bucket()
        self.distribution = self._distribution(destination, cors_origins)
        self.base_url = f"https://{self.distribution.distribution_domain_name}"

    def _log_bucket(self) -> s3.Bucket:
        # CloudFront's standard logs are written with ACLs: the log bucket must allow them
        return s3.Bucket(
            self,
            "AccessLogs",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            encryption=s3.BucketEncryption.S3_MANAGED,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            removal_policy=RemovalPolicy.RETAIN,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(ACCESS_LOG_DAYS))],
        )

    def _distribution(
        self, destination: s3.IBucket, cors_origins: Sequence[str]
    ) -> cloudfront.Distribution:
        origin = origins.S3BucketOrigin.with_origin_access_control(destination)
        cors = cloudfront.ResponseHeadersPolicy(
            self,
            "PlayerCors",
            cors_behavior=cloudfront.ResponseHeadersCorsBehavior(
                access_control_allow_origins=list(cors_origins),
                access_control_allow_methods=["GET", "HEAD", "OPTIONS"],
                access_control_allow_headers=["*"],
                access_control_allow_credentials=False,
                access_control_expose_headers=["Content-Length", "Content-Range"],
                access_control_max_age=Duration.days(1),
                origin_override=True,
            ),
        )

        def behavior(ttl: Duration, name: str) -> cloudfront.BehaviorOptions:
            policy = cloudfront.CachePolicy(
                self,
                name,
                default_ttl=ttl,
                min_ttl=Duration.seconds(0),
                max_ttl=ttl,
                enable_accept_encoding_gzip=True,
                enable_accept_encoding_brotli=True,
                # the signature is in the query or the cookies: neither is a cache key
                query_string_behavior=cloudfront.CacheQueryStringBehavior.none(),
                cookie_behavior=cloudfront.CacheCookieBehavior.none(),
            )
            return cloudfront.BehaviorOptions(
                origin=origin,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
                cached_methods=cloudfront.CachedMethods.CACHE_GET_HEAD_OPTIONS,
                trusted_key_groups=[self.key_group],
                cache_policy=policy,
                response_headers_policy=cors,
            )

        segments = behavior(SEGMENT_TTL, "Segments")
        manifests = behavior(MANIFEST_TTL, "Manifests")
        return cloudfront.Distribution(
            self,
            "Distribution",
            comment="prime-vod packages (signed)",
            default_behavior=segments,
            additional_behaviors=dict.fromkeys(MANIFEST_PATTERNS, manifests),
            enable_logging=True,
            log_bucket=self.log_bucket,
            log_file_prefix=ACCESS_LOG_PREFIX,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
        )
