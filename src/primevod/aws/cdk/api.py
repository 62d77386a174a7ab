"""The HTTP API (API Gateway v2): the browser's multipart upload calls and playback, with the
same paths and shapes as the local server (src/primevod/api/uploads.py, playback.py). The
part PUTs do not pass through it: they go straight to S3 through presigned URLs.

    GET  /api/v1/uploads/config              POST /api/v1/uploads/init
    POST /api/v1/uploads/signPart            GET  /api/v1/uploads/{upload_id}/parts
    POST /api/v1/uploads/complete            POST /api/v1/uploads/abort
    GET  /api/v1/assets/{asset_id}/playback

Every route is behind a Lambda authorizer (handlers/authorizer.py): the local API's bearer
keys and roles, stored in the assets table (`primevod aws keys create`), the answer cached
per key and route for `AUTH_CACHE`. CORS for browsers (preflights need no key), a
throttled `$default` stage (a cost guard even with keys) and JSON access logs.

Playback signs CloudFront URLs and cookies (handlers/playback.py) with the distribution's
URL, the key group's public key id and the Secrets Manager secret holding the private key
(PlaybackSettings, from delivery.py).

    Uploads   write and read objects under the upload prefix (multipart calls, presigned
              UploadPart URLs sign with its role), read/write the table (upload sessions)
    Playback  read the table, read the signing key's secret
    Authorizer  read the table's key items (`key#...`) and no other item"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from primevod.aws.cdk import functions as specs
from primevod.aws.cdk.data import Data
from primevod.aws.cdk.functions import Functions
from primevod.aws.cdk.storage import Storage
from primevod.aws.handlers.authorizer import ROUTE_ROLES

UPLOADS = "/api/v1/uploads"
# the routes are the authorizer's (one list: a route it does not know, it refuses)
ROUTES = [tuple(key.split(" ", 1)) for key in ROUTE_ROLES]
UPLOAD_ROUTES = [(m, p) for m, p in ROUTES if p.startswith(UPLOADS)]
PLAYBACK_ROUTES = [(m, p) for m, p in ROUTES if not p.startswith(UPLOADS)]
THROTTLE_RATE = 20  # requests per second, steady
THROTTLE_BURST = 50
AUTH_CACHE = Duration.minutes(5)  # how long a revoked key may still pass
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "latency": "$context.responseLatency",
    "integrationError": "$context.integrationErrorMessage",
}


@dataclass(frozen=True)
class PlaybackSettings:
    """What the playback handler signs with (empty: not configured yet)."""

    base_url: str = ""  # the CloudFront distribution serving the destination bucket
    signing_key_id: str = ""  # the CloudFront public key's id
    signing_key_secret: str = ""  # name of the secret holding the PEM private key

    def environment(self) -> dict[str, str]:
        return {
            "PRIMEVOD_PLAYBACK_BASE_URL": self.base_url,
            "PRIMEVOD_SIGNING_KEY_ID": self.signing_key_id,
            "PRIMEVOD_SIGNING_KEY_SECRET": self.signing_key_secret,
        }

    def grant(self, scope: Construct, fn: lambda_.IFunction) -> None:
        """Let `fn` read the private key's secret (nothing when none is configured)."""
        if self.signing_key_secret:
            secretsmanager.Secret.from_secret_name_v2(
                scope, "SigningKey", self.signing_key_secret
            ).grant_read(fn)


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        fns: Functions,
        storage: Storage,
        data: Data,
        cors_origins: Sequence[str],
        upload_prefix: str,
        playback: PlaybackSettings,
    ) -> None:
        super().__init__(scope, id)
        self.uploads = fns.function(specs.UPLOADS)
        storage.source.grant_put(self.uploads, f"{upload_prefix}*")
        storage.source.grant_read(self.uploads, f"{upload_prefix}*")  # ListParts, HeadObject
        data.table.grant_read_write_data(self.uploads)
        self.playback = fns.function(specs.PLAYBACK, playback.environment())
        data.table.grant_read_data(self.playback)
        playback.grant(self, self.playback)

        self.http_api = apigw.HttpApi(
            self,
            "HttpApi",
            description="prime-vod uploads and playback",
            create_default_stage=False,
            cors_preflight=apigw.CorsPreflightOptions(
                allow_origins=list(cors_origins),
                allow_methods=[
                    apigw.CorsHttpMethod.GET,
                    apigw.CorsHttpMethod.POST,
                    apigw.CorsHttpMethod.OPTIONS,
                ],
                allow_headers=["authorization", "content-type"],
                max_age=Duration.days(1),
            ),
        )
        self._stage()
        self.authorizer = self._authorizer(fns, data)
        self._routes(UPLOAD_ROUTES, "Uploads", self.uploads)
        self._routes(PLAYBACK_ROUTES, "Playback", self.playback)
        self.url = self.http_api.api_endpoint

    def _stage(self) -> apigw.CfnStage:
        access_logs = logs.LogGroup(self, "AccessLogs", retention=logs.RetentionDays.ONE_MONTH)
        return apigw.CfnStage(
            self,
            "DefaultStage",
            api_id=self.http_api.api_id,
            stage_name="$default",
            auto_deploy=True,
            default_route_settings=apigw.CfnStage.RouteSettingsProperty(
                throttling_rate_limit=THROTTLE_RATE, throttling_burst_limit=THROTTLE_BURST
            ),
            access_log_settings=apigw.CfnStage.AccessLogSettingsProperty(
                destination_arn=access_logs.log_group_arn, format=json.dumps(ACCESS_LOG_FORMAT)
            ),
        )

    def _authorizer(self, fns: Functions, data: Data) -> authorizers.HttpLambdaAuthorizer:
        self.authorizer_fn = fns.function(specs.AUTHORIZER)
        self.authorizer_fn.add_to_role_policy(
            iam.PolicyStatement(
                actions=["dynamodb:GetItem"],
                resources=[data.table.table_arn],
                conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["key#*"]}},
            )
        )
        return authorizers.HttpLambdaAuthorizer(
            "ApiKeys",
            self.authorizer_fn,
            response_types=[authorizers.HttpLambdaResponseType.SIMPLE],
            # the route too: a key's answer for one route is never reused for another
            identity_source=["$request.header.Authorization", "$context.routeKey"],
            results_cache_ttl=AUTH_CACHE,
        )

    def _routes(self, routes: Sequence[tuple[str, str]], name: str, fn: lambda_.IFunction) -> None:
        integration = integrations.HttpLambdaIntegration(f"{name}Integration", fn)
        for method, path in routes:
            self.http_api.add_routes(
                path=path,
                methods=[apigw.HttpMethod(method)],
                integration=integration,
                authorizer=self.authorizer,
            )
