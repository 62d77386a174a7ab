"""API keys in the assets table of the AWS shape (items `key#<id>`), as the local catalog
keeps them (core/api_keys): the hash of the secret, the role, a name, revoked or not. The
items carry no `status`, so the status index never lists them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from primevod.core.api_keys import new_key, split_key, verify
from primevod.core.errors import NotFound

PREFIX = "key#"


class DynamoKeys:
    def __init__(self, table: str, client: Any) -> None:
        self.table = table
        self.client = client

    def create_key(self, role: str, name: str | None = None) -> str:
        """A new key of `role`: stored hashed, returned once."""
        made = new_key(role)
        item = {
            "id": {"S": PREFIX + made.key_id},
            "hash": {"S": made.secret_hash},
            "role": {"S": role},
            "revoked": {"BOOL": False},
            "created_at": {"S": datetime.now(UTC).isoformat()},
        }
        if name:
            item["name"] = {"S": name}
        self.client.put_item(
            TableName=self.table, Item=item, ConditionExpression="attribute_not_exists(id)"
        )
        return made.key

    def check_key(self, key: str) -> str | None:
        """The role of a valid, unrevoked key, else None."""
        parts = split_key(key)
        if parts is None:
            return None
        item = self._item(parts[0])
        if item is None or item["revoked"]["BOOL"] or not verify(item["hash"]["S"], parts[1]):
            return None
        return item["role"]["S"]

    def revoke_key(self, key_id: str) -> None:
        try:
            self.client.update_item(
                TableName=self.table,
                Key={"id": {"S": PREFIX + key_id}},
                UpdateExpression="SET revoked = :yes",
                ConditionExpression="attribute_exists(id)",
                ExpressionAttributeValues={":yes": {"BOOL": True}},
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            raise NotFound(f"no key {key_id}") from None

    def list_keys(self) -> list[dict[str, Any]]:
        """Every key, without its hash, oldest first (a scan: the keys are few)."""
        keys, start = [], None
        while True:
            page = self.client.scan(
                TableName=self.table,
                FilterExpression="begins_with(id, :prefix)",
                ExpressionAttributeValues={":prefix": {"S": PREFIX}},
                **({"ExclusiveStartKey": start} if start else {}),
            )
            keys += [_listed(item) for item in page.get("Items", [])]
            start = page.get("LastEvaluatedKey")
            if not start:
                return sorted(keys, key=lambda k: k["created_at"])

    def _item(self, key_id: str) -> dict[str, Any] | None:
        return self.client.get_item(
            TableName=self.table, Key={"id": {"S": PREFIX + key_id}}, ConsistentRead=True
        ).get("Item")


def _listed(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": item["id"]["S"].removeprefix(PREFIX),
        "role": item["role"]["S"],
        "name": item.get("name", {}).get("S"),
        "revoked": item["revoked"]["BOOL"],
        "created_at": item["created_at"]["S"],
    }
