"""Keyset pages over (created_at, id), newest or oldest first: the cursor names the last row
shown and the order it was shown in, so the next page starts right after it whatever rows
arrive meanwhile (no OFFSET: no row skipped or repeated as the table grows)."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, or_

from primevod.core.assets import SortOrder


def encode_cursor(created: datetime, row_id: str, order: SortOrder) -> str:
    raw = json.dumps([created.isoformat(), row_id, order]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, order: SortOrder) -> tuple[datetime, str]:
    """The last row a cursor names; ValueError for junk or a cursor of the other order (a
    cursor made before orders existed is a newest-first one)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, row_id, *rest = json.loads(raw)
        made_for = rest[0] if rest else "desc"
        last = datetime.fromisoformat(created), str(row_id)
    except (ValueError, TypeError) as exc:
        raise ValueError("invalid cursor") from exc
    if made_for != order:
        raise ValueError(f"the cursor continues order={made_for}, not order={order}")
    return last


def keyset_page(
    query: Select[Any], created: Any, row_id: Any, cursor: str | None, order: SortOrder
) -> Select[Any]:
    """`query` ordered by (created, id) in `order`, starting after the cursor's row."""
    if cursor:
        last_created, last_id = decode_cursor(cursor, order)
        if order == "desc":
            after = or_(created < last_created, and_(created == last_created, row_id < last_id))
        else:
            after = or_(created > last_created, and_(created == last_created, row_id > last_id))
        query = query.where(after)
    if order == "desc":
        return query.order_by(created.desc(), row_id.desc())
    return query.order_by(created.asc(), row_id.asc())
