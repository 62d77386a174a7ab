"""The S3 trigger: an `Object Created` event for the source bucket (through EventBridge)
starts the state machine, in an execution named after the asset, so a repeated event for
the same upload cannot start a second one (Step Functions answers a running execution's
name and input with that execution, and a finished one's with ExecutionAlreadyExists)."""

from __future__ import annotations

import json
import re
from typing import Any

from primevod.aws.handlers.context import client, config
from primevod.core.layout import new_asset_id

EXECUTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,80}")  # what Step Functions takes as a name


def asset_id_of(bucket: str, key: str, prefix: str, etag: str = "") -> str:
    """`uploads/<asset>/<file>` (the ingest API's keys) names its asset; any other key
    under the prefix gets an id derived from the object (the same object, the same id)."""
    parts = key[len(prefix) :].split("/") if key.startswith(prefix) else []
    if len(parts) == 2 and parts[1] and EXECUTION_NAME.fullmatch(parts[0]):
        return parts[0]
    return new_asset_id(seed=f"s3://{bucket}/{key}#{etag}")


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    detail = event.get("detail") or {}
    bucket = (detail.get("bucket") or {}).get("name", "")
    obj = detail.get("object") or {}
    key = obj.get("key", "")
    cfg = config()
    if not key.startswith(cfg.upload_prefix) or key.endswith("/"):
        return {"started": False, "reason": f"not an upload: {key}"}
    asset_id = asset_id_of(bucket, key, cfg.upload_prefix, obj.get("etag", ""))
    sfn = client("stepfunctions")
    try:
        sfn.start_execution(
            stateMachineArn=cfg.state_machine_arn,
            name=asset_id,
            input=json.dumps({"asset_id": asset_id, "bucket": bucket, "key": key}),
        )
    except sfn.exceptions.ExecutionAlreadyExists:
        return {"started": False, "asset_id": asset_id, "reason": "already started"}
    return {"started": True, "asset_id": asset_id}
