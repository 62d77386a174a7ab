"""The SQL catalog: assets, executions with their steps, the event outbox and its fan-out to
subscriptions (webhook deliveries and queue messages), and API keys."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, func, inspect, or_, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from primevod.adapters.catalog.tables import (
    ApiKeyRow,
    AssetRow,
    DeliveryRow,
    EventRow,
    ExecutionRow,
    StepRow,
    SubscriptionRow,
    UploadRow,
)
from primevod.core.assets import (
    Asset,
    AssetError,
    AssetStatus,
    Event,
    Execution,
    Page,
    StepRecord,
    utcnow,
)
from primevod.core.errors import NotFound
from primevod.core.event_patterns import matches
from primevod.core.uploads import UploadSession

MIGRATIONS = Path(__file__).parent / "migrations"
HEAD_REVISION = "0003"  # the newest revision in migrations/versions; bump with each new one
ROLES = ("admin", "uploader", "viewer")
__all__ = ["ROLES", "NotFound", "SqlCatalog", "new_asset_id"]


_events_log = logging.getLogger("primevod.events")


def _aware(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; everything here is UTC."""
    from datetime import UTC

    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"timeout": 30, "check_same_thread": False}, pool_pre_ping=True
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


class SqlCatalog:
    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._session = sessionmaker(self.engine, expire_on_commit=False)
        if migrate:
            self.migrate()

    def migrate(self) -> None:
        """Apply pending Alembic revisions (Alembic is imported only when one is pending).
        An empty database gets the current tables at once and is stamped with the newest
        revision, which Alembic itself recommends for a fresh install."""
        version = self.schema_version()
        if version == HEAD_REVISION:
            return
        if version is None and self._create_fresh():
            return
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def _create_fresh(self) -> bool:
        """Create every table and stamp HEAD_REVISION, only on a database with no tables."""
        from primevod.adapters.catalog.tables import Base

        with self.engine.begin() as conn:
            if inspect(conn).get_table_names():
                return False
            Base.metadata.create_all(conn)
            conn.execute(
                text(
                    "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
                    "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
                )
            )
            conn.execute(
                text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": HEAD_REVISION}
            )
        return True

    def schema_version(self) -> str | None:
        with self.engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._session.begin() as session:
            yield session

    # assets ------------------------------------------------------------------------------
    @staticmethod
    def _fill(row: AssetRow, asset: Asset) -> None:
        row.status = asset.status.value
        row.title = asset.title
        row.checksum = asset.checksum
        row.execution_id = asset.execution_id
        row.error_code = asset.error.code if asset.error else None
        row.doc = asset.model_dump(mode="json")
        row.created_at = asset.created_at
        row.updated_at = asset.updated_at

    def create_asset(self, asset: Asset, *, event_type: str | None = "asset.created") -> Asset:
        with self.session() as s:
            row = AssetRow(id=asset.id)
            self._fill(row, asset)
            s.add(row)
            if event_type:
                self._emit(s, Event(type=event_type, asset_id=asset.id, data=_event_data(asset)))
        return asset

    def get_asset(self, asset_id: str) -> Asset:
        with self.session() as s:
            row = s.get(AssetRow, asset_id)
            if row is None:
                raise NotFound(f"no asset {asset_id}")
            return Asset.model_validate(row.doc)

    def update_asset(
        self,
        asset_id: str,
        *,
        event_type: str | None = None,
        event_data: dict[str, Any] | None = None,
        **changes: Any,
    ) -> Asset:
        """Change fields of an asset and, in the same transaction, record the event."""
        with self.session() as s:
            row = s.get(AssetRow, asset_id, with_for_update=True)
            if row is None:
                raise NotFound(f"no asset {asset_id}")
            asset = Asset.model_validate(row.doc)
            data = asset.model_dump()
            data.update(changes)
            data["updated_at"] = utcnow()
            asset = Asset.model_validate(data)
            self._fill(row, asset)
            if event_type:
                self._emit(
                    s,
                    Event(
                        type=event_type,
                        asset_id=asset_id,
                        data={**_event_data(asset), **(event_data or {})},
                    ),
                )
            return asset

    def delete_asset(self, asset_id: str) -> Asset:
        with self.session() as s:
            row = s.get(AssetRow, asset_id)
            if row is None:
                raise NotFound(f"no asset {asset_id}")
            asset = Asset.model_validate(row.doc)
            s.delete(row)
            self._emit(s, Event(type="asset.deleted", asset_id=asset_id, data=_event_data(asset)))
            return asset

    def list_assets(
        self, *, status: str | None = None, limit: int = 50, cursor: str | None = None
    ) -> Page:
        limit = max(1, min(limit, 500))
        with self.session() as s:
            query = select(AssetRow.doc, AssetRow.created_at, AssetRow.id)
            if status:
                query = query.where(AssetRow.status == status)
            if cursor:
                created, last_id = _decode_cursor(cursor)
                query = query.where(
                    or_(
                        AssetRow.created_at < created,
                        (AssetRow.created_at == created) & (AssetRow.id < last_id),
                    )
                )
            query = query.order_by(AssetRow.created_at.desc(), AssetRow.id.desc())
            rows = s.execute(query.limit(limit + 1)).all()
        items = [Asset.model_validate(r.doc) for r in rows[:limit]]
        next_cursor = None
        if len(rows) > limit:
            last = rows[limit - 1]
            next_cursor = _encode_cursor(last.created_at, last.id)
        return Page(items=items, next_cursor=next_cursor)

    def count_assets(self, status: str | None = None) -> int:
        with self.session() as s:
            query = select(func.count()).select_from(AssetRow)
            if status:
                query = query.where(AssetRow.status == status)
            return int(s.execute(query).scalar_one())

    # executions --------------------------------------------------------------------------
    def start_execution(self, execution_id: str, asset_id: str) -> None:
        with self.session() as s:
            row = s.get(ExecutionRow, execution_id)
            if row is None:
                s.add(
                    ExecutionRow(
                        id=execution_id, asset_id=asset_id, status="running", started_at=utcnow()
                    )
                )
            else:  # resumed after a crash
                row.status = "running"
                row.finished_at = None

    def finish_execution(
        self, execution_id: str, status: str, error: AssetError | None = None
    ) -> None:
        with self.session() as s:
            row = s.get(ExecutionRow, execution_id)
            if row is not None:
                row.status = status
                row.finished_at = utcnow()
                row.error = error.model_dump() if error else None
                if status in ("failed", "cancelled"):
                    s.execute(
                        update(StepRow)
                        .where(StepRow.execution_id == execution_id, StepRow.status == "running")
                        .values(status="interrupted", finished_at=utcnow())
                    )

    def step_started(self, execution_id: str, name: str) -> int:
        with self.session() as s:
            attempts = s.execute(
                select(func.count())
                .select_from(StepRow)
                .where(StepRow.execution_id == execution_id, StepRow.name == name)
            ).scalar_one()
            # an earlier attempt still marked running died with its process
            s.execute(
                update(StepRow)
                .where(
                    StepRow.execution_id == execution_id,
                    StepRow.name == name,
                    StepRow.status == "running",
                )
                .values(status="interrupted", finished_at=utcnow())
            )
            row = StepRow(
                execution_id=execution_id,
                name=name,
                attempt=int(attempts) + 1,
                status="running",
                started_at=utcnow(),
            )
            s.add(row)
            s.flush()
            return int(row.id)

    def step_finished(self, step_id: int, status: str, error: str | None = None) -> None:
        with self.session() as s:
            row = s.get(StepRow, step_id)
            if row is not None:
                row.status = status
                row.finished_at = utcnow()
                row.duration = (row.finished_at - _aware(row.started_at)).total_seconds()
                row.error = error

    def get_execution(self, execution_id: str) -> Execution:
        with self.session() as s:
            row = s.get(ExecutionRow, execution_id)
            if row is None:
                raise NotFound(f"no execution {execution_id}")
            steps = (
                s.execute(
                    select(StepRow).where(StepRow.execution_id == execution_id).order_by(StepRow.id)
                )
                .scalars()
                .all()
            )
            return Execution(
                id=row.id,
                asset_id=row.asset_id,
                status=row.status,
                started_at=_aware(row.started_at),
                finished_at=_aware(row.finished_at),
                error=AssetError.model_validate(row.error) if row.error else None,
                steps=[
                    StepRecord(
                        name=st.name,
                        attempt=st.attempt,
                        status=st.status,
                        started_at=_aware(st.started_at),
                        finished_at=_aware(st.finished_at),
                        duration=st.duration,
                        error=st.error,
                    )
                    for st in steps
                ],
            )

    def list_executions(self, asset_id: str) -> list[Execution]:
        with self.session() as s:
            ids = (
                s.execute(
                    select(ExecutionRow.id)
                    .where(ExecutionRow.asset_id == asset_id)
                    .order_by(ExecutionRow.started_at)
                )
                .scalars()
                .all()
            )
        return [self.get_execution(i) for i in ids]

    # events and their fan-out ------------------------------------------------------------
    def _emit(self, s: Session, ev: Event) -> None:
        row = EventRow(
            type=ev.type,
            asset_id=ev.asset_id,
            data=ev.data,
            created_at=ev.created_at,
            dispatched=True,
        )
        s.add(row)
        s.flush()
        now = utcnow()
        subs = s.execute(select(SubscriptionRow)).scalars().all()
        body = {
            "type": ev.type,
            "asset_id": ev.asset_id,
            "created_at": ev.created_at.isoformat(),
            "data": ev.data,
        }
        for sub in subs:
            if not _matches(sub.event_types, ev.type) or not matches(sub.pattern, body):
                continue
            if sub.kind == "log":
                _events_log.info(
                    "event %s matched rule %s",
                    ev.type,
                    sub.name,
                    extra={"event": {"id": row.id, **body}, "rule": sub.name},
                )
                continue
            s.add(
                DeliveryRow(
                    subscription_id=sub.id,
                    event_id=row.id,
                    status="pending" if sub.kind == "webhook" else "ready",
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                    updated_at=now,
                )
            )

    def emit(self, ev: Event) -> None:
        with self.session() as s:
            self._emit(s, ev)

    def list_events(
        self, *, asset_id: str | None = None, after_id: int = 0, limit: int = 100
    ) -> list[Event]:
        with self.session() as s:
            query = select(EventRow).where(EventRow.id > after_id)
            if asset_id:
                query = query.where(EventRow.asset_id == asset_id)
            rows = s.execute(query.order_by(EventRow.id).limit(limit)).scalars().all()
            return [
                Event(
                    id=r.id,
                    type=r.type,
                    asset_id=r.asset_id,
                    data=r.data,
                    created_at=_aware(r.created_at),
                )
                for r in rows
            ]

    # upload sessions ---------------------------------------------------------------------
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

    # API keys ----------------------------------------------------------------------------
    def create_key(self, role: str, name: str | None = None) -> str:
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(24)
        with self.session() as s:
            s.add(
                ApiKeyRow(
                    id=key_id,
                    hash=_hash_secret(secret),
                    role=role,
                    name=name,
                    created_at=utcnow(),
                    revoked=False,
                )
            )
        return f"pv_{key_id}_{secret}"

    def check_key(self, key: str) -> str | None:
        """The role of a valid key, else None."""
        parts = key.split("_", 2)
        if len(parts) != 3 or parts[0] != "pv":
            return None
        with self.session() as s:
            row = s.get(ApiKeyRow, parts[1])
            if row is None or row.revoked:
                return None
            if not hmac.compare_digest(row.hash, _hash_secret(parts[2])):
                return None
            return row.role

    def list_keys(self) -> list[dict[str, Any]]:
        with self.session() as s:
            rows = s.execute(select(ApiKeyRow).order_by(ApiKeyRow.created_at)).scalars().all()
            return [
                {
                    "id": r.id,
                    "role": r.role,
                    "name": r.name,
                    "revoked": r.revoked,
                    "created_at": _aware(r.created_at).isoformat(),
                }
                for r in rows
            ]

    def revoke_key(self, key_id: str) -> None:
        with self.session() as s:
            row = s.get(ApiKeyRow, key_id)
            if row is None:
                raise NotFound(f"no key {key_id}")
            row.revoked = True


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _matches(patterns: list[str], event_type: str) -> bool:
    for pattern in patterns or ["*"]:
        if pattern in ("*", event_type) or (
            pattern.endswith(".*") and event_type.startswith(pattern[:-1])
        ):
            return True
    return False


def _event_data(asset: Asset) -> dict[str, Any]:
    data: dict[str, Any] = {
        "asset_id": asset.id,
        "status": asset.status.value,
        "title": asset.title,
    }
    if asset.status is AssetStatus.READY:
        data.update(hls_path=asset.hls_path, dash_path=asset.dash_path)
    if asset.error:
        data["error"] = asset.error.model_dump()
    return data


def _encode_cursor(created: datetime, asset_id: str) -> str:
    raw = json.dumps([created.isoformat(), asset_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, asset_id = json.loads(raw)
        return datetime.fromisoformat(created), str(asset_id)
    except (ValueError, TypeError) as exc:
        raise ValueError("invalid cursor") from exc


def new_asset_id() -> str:
    return str(uuid.uuid4())
