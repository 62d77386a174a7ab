"""Asset records in DynamoDB: the AWS shape's catalog of assets, with the local catalog's
fields (core/assets.Asset). The table's key is `id`; `status` and `created_at` are top-level
attributes for the status index; the whole record is kept as JSON in `record`, so a field
added to Asset needs no table change and no float-to-Decimal conversion.

Writes are conditional on the record's `updated_at` (optimistic locking): two tasks that
change the same asset at once cannot overwrite each other's change silently; the loser
re-reads and applies its change again."""

from __future__ import annotations

from typing import Any

from primevod.core.assets import Asset, check_changes, utcnow
from primevod.core.errors import NotFound

ATTEMPTS = 5
STATUS_INDEX = "status-index"  # the stack's index: status, then created_at


class DynamoAssets:
    def __init__(self, table: str, client: Any) -> None:
        self.table = table
        self.client = client

    def get(self, asset_id: str) -> Asset:
        item = self.client.get_item(
            TableName=self.table, Key={"id": {"S": asset_id}}, ConsistentRead=True
        ).get("Item")
        if item is None:
            raise NotFound(f"no asset {asset_id}")
        return Asset.model_validate_json(item["record"]["S"])

    def recent(self, status: str, limit: int) -> list[Asset]:
        """The newest `limit` assets in `status`, from the status index."""
        page = self.client.query(
            TableName=self.table,
            IndexName=STATUS_INDEX,
            KeyConditionExpression="#s = :status",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":status": {"S": status}},
            ScanIndexForward=False,
            Limit=limit,
        )
        return [Asset.model_validate_json(item["record"]["S"]) for item in page.get("Items", [])]

    def create(self, asset: Asset) -> Asset:
        """Record a new asset; an existing record of the same id is left as it is (a
        repeated start of the same upload) and returned."""
        try:
            self.client.put_item(
                TableName=self.table,
                Item=_item(asset),
                ConditionExpression="attribute_not_exists(id)",
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return self.get(asset.id)
        return asset

    def update(self, asset_id: str, **changes: Any) -> Asset:
        """Apply `changes` (the fields a local catalog update may change) to the record."""
        check_changes(changes)
        for _ in range(ATTEMPTS):
            current = self.get(asset_id)
            updated = Asset.model_validate(
                {**current.model_dump(), **changes, "updated_at": utcnow()}
            )
            try:
                self.client.put_item(
                    TableName=self.table,
                    Item=_item(updated),
                    ConditionExpression="updated_at = :seen",
                    ExpressionAttributeValues={":seen": {"S": current.updated_at.isoformat()}},
                )
            except self.client.exceptions.ConditionalCheckFailedException:
                continue  # changed in between: read again
            return updated
        raise RuntimeError(f"asset {asset_id} kept changing under {ATTEMPTS} updates")


def _item(asset: Asset) -> dict[str, Any]:
    return {
        "id": {"S": asset.id},
        "status": {"S": asset.status.value},
        "created_at": {"S": asset.created_at.isoformat()},
        "updated_at": {"S": asset.updated_at.isoformat()},
        "record": {"S": asset.model_dump_json()},
    }
