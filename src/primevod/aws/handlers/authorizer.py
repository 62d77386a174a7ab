"""The HTTP API's Lambda authorizer (payload 2.0, simple responses): the local API's bearer
keys and roles (core/api_keys) in front of the AWS shape's routes.

API Gateway calls it with the `Authorization` header and the route key as the identity
sources, and caches the answer per (header, route) for a few minutes: a key admitted to
one route is never cached as admitted to another, and a revoked key stops working when
its cached answers expire. A request without the header is refused by API Gateway itself
(401); a key that is unknown, revoked or of a role the route does not admit gets 403."""

from __future__ import annotations

from typing import Any

from primevod.adapters.aws.dynamo_keys import DynamoKeys
from primevod.aws.handlers.context import client, config
from primevod.core.api_keys import UPLOAD, VIEW

# which roles each route admits: the local routes' `require(...)`
ROUTE_ROLES: dict[str, tuple[str, ...]] = {
    "GET /api/v1/uploads/config": UPLOAD,
    "POST /api/v1/uploads/init": UPLOAD,
    "POST /api/v1/uploads/signPart": UPLOAD,
    "GET /api/v1/uploads/{upload_id}/parts": UPLOAD,
    "POST /api/v1/uploads/complete": UPLOAD,
    "POST /api/v1/uploads/abort": UPLOAD,
    "GET /api/v1/assets/{asset_id}/playback": VIEW,
}


def bearer(headers: dict[str, str]) -> str | None:
    value = {k.lower(): v for k, v in headers.items()}.get("authorization", "")
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    roles = ROUTE_ROLES.get(str(event.get("routeKey")), ())
    token = bearer(event.get("headers") or {})
    role = DynamoKeys(config().assets_table, client("dynamodb")).check_key(token) if token else None
    if role is None or role not in roles:
        return {"isAuthorized": False}
    return {"isAuthorized": True, "context": {"role": role}}
