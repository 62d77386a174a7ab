"""Multipart upload sessions in the assets table of the AWS shape (items `upload#<id>`),
with the local catalog's fields (core/uploads.UploadSession). A status change is
conditional on the status it leaves, so two completes of one upload cannot both win."""

from __future__ import annotations

from typing import Any

from primevod.core.errors import NotFound
from primevod.core.uploads import UploadSession

PREFIX = "upload#"


class DynamoUploads:
    def __init__(self, table: str, client: Any) -> None:
        self.table = table
        self.client = client

    def create(self, session: UploadSession) -> None:
        self.client.put_item(
            TableName=self.table,
            Item=_item(session),
            ConditionExpression="attribute_not_exists(id)",
        )

    def get(self, upload_id: str) -> UploadSession:
        item = self.client.get_item(
            TableName=self.table, Key={"id": {"S": PREFIX + upload_id}}, ConsistentRead=True
        ).get("Item")
        if item is None:
            raise NotFound(f"no upload {upload_id}")
        return UploadSession.model_validate_json(item["record"]["S"])

    def move(self, upload_id: str, from_status: str, **changes: Any) -> UploadSession | None:
        """The session with `changes` applied if it was still `from_status`; None if it had
        moved on (another call got there first)."""
        updated = self.get(upload_id).model_copy(update=changes)
        try:
            self.client.put_item(
                TableName=self.table,
                Item=_item(updated),
                ConditionExpression="#s = :from",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":from": {"S": from_status}},
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return None
        return updated


def _item(session: UploadSession) -> dict[str, Any]:
    return {
        "id": {"S": PREFIX + session.upload_id},
        "status": {"S": session.status},
        "created_at": {"S": session.created_at.isoformat()},
        "record": {"S": session.model_dump_json()},
    }
