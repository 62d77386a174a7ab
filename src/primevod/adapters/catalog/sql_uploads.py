"""Multipart upload sessions: what was initiated, for which asset, until when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from primevod.adapters.catalog.sql_database import SqlDatabase
from primevod.adapters.catalog.tables import UploadRow
from primevod.core.errors import NotFound
from primevod.core.uploads import UploadSession


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
