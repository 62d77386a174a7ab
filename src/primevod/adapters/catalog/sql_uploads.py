"""Multipart upload sessions: what was initiated, by whom, for which asset, until when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from primevod.adapters.catalog.keyset import encode_cursor, keyset_page
from primevod.adapters.catalog.sql_database import SqlDatabase
from primevod.adapters.catalog.tables import UploadRow
from primevod.core.errors import NotFound
from primevod.core.uploads import UploadPage, UploadSession


class SqlUploads(SqlDatabase):
    def create_upload(self, session: UploadSession) -> None:
        with self.session() as s:
            s.add(
                UploadRow(
                    upload_id=session.upload_id,
                    key=session.key,
                    asset_id=session.asset_id,
                    status=session.status,
                    doc=session.model_dump(mode="json"),
                    created_at=session.created_at,
                    expires_at=session.expires_at,
                )
            )

    def get_upload(self, upload_id: str) -> UploadSession:
        with self.session() as s:
            row = s.get(UploadRow, upload_id)
            if row is None:
                raise NotFound(f"no upload {upload_id}")
            return UploadSession.model_validate(row.doc)

    def update_upload(self, upload_id: str, **changes: Any) -> UploadSession:
        with self.session() as s:
            row = s.get(UploadRow, upload_id, with_for_update=True)
            if row is None:
                raise NotFound(f"no upload {upload_id}")
            session = UploadSession.model_validate({**row.doc, **changes})
            row.status = session.status
            row.expires_at = session.expires_at
            row.doc = session.model_dump(mode="json")
            return session

    def expired_uploads(self, now: datetime, limit: int = 100) -> list[UploadSession]:
        with self.session() as s:
            rows = s.execute(
                select(UploadRow.doc)
                .where(UploadRow.status == "open", UploadRow.expires_at < now)
                .limit(limit)
            ).all()
            return [UploadSession.model_validate(r.doc) for r in rows]

    def list_uploads(self, owner: str, *, limit: int = 20, cursor: str | None = None) -> UploadPage:
        """The uploads `owner` began, newest first. The owner lives in the document (no
        new column: the table needs no migration), matched with the database's JSON
        operator; the table holds one small row per upload."""
        limit = max(1, min(limit, 100))
        with self.session() as s:
            query = select(UploadRow.doc, UploadRow.created_at, UploadRow.upload_id).where(
                UploadRow.doc["owner"].as_string() == owner
            )
            query = keyset_page(query, UploadRow.created_at, UploadRow.upload_id, cursor, "desc")
            rows = s.execute(query.limit(limit + 1)).all()
        items = [UploadSession.model_validate(r.doc) for r in rows[:limit]]
        next_cursor = None
        if len(rows) > limit:
            last = rows[limit - 1]
            next_cursor = encode_cursor(last.created_at, last.upload_id, "desc")
        return UploadPage(items=items, next_cursor=next_cursor)
