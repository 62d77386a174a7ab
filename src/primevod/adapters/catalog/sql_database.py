"""The catalog's database: the engine (SQLite pragmas for many processes), sessions, and the
schema (Alembic revisions, a fresh database created and stamped at once)."""

from __future__ import annotations

import contextlib
import fcntl
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"
HEAD_REVISION = "0011"  # the newest revision in migrations/versions; bump with each new one


def _aware(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; everything here is UTC."""
    from datetime import UTC

    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def engine_url(url: str) -> str:
    """`postgresql://` (and `postgres://`) is PostgreSQL through psycopg 3, the driver the
    `postgres` extra installs: SQLAlchemy's own default for the bare scheme is psycopg2."""
    for bare in ("postgresql://", "postgres://"):
        if url.startswith(bare):
            return "postgresql+psycopg://" + url[len(bare) :]
    return url


def make_engine(url: str, *, pool_size: int = 5, max_overflow: int = 10) -> Engine:
    url = engine_url(url)
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"timeout": 30, "check_same_thread": False}, pool_pre_ping=True
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            _write_ahead_log(cursor)
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=pool_size, max_overflow=max_overflow)


def _write_ahead_log(cursor: Any, attempts: int = 100, pause: float = 0.05) -> None:
    """WAL mode, a property of the file that the first connection sets. Switching to it
    needs the file to itself, and SQLite answers "locked" at once rather than wait when
    waiting could deadlock (many processes opening a new database together): a mode already
    set is left alone, and the switch is tried again for a few seconds."""
    for attempt in range(attempts):
        try:
            if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
                return
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(pause)


# any fixed number: the advisory lock every migrating process takes on PostgreSQL
_MIGRATION_LOCK = 0x70726D76  # "prmv"


class SqlDatabase:
    def __init__(
        self, url: str, *, migrate: bool = True, pool_size: int = 5, max_overflow: int = 10
    ) -> None:
        self.url = url
        self.engine = make_engine(url, pool_size=pool_size, max_overflow=max_overflow)
        self._session = sessionmaker(self.engine, expire_on_commit=False)
        if migrate:
            self.migrate()

    def migrate(self) -> None:
        """Bring the schema to HEAD_REVISION, safely when many processes start at once: the
        check and the change happen under a lock (a PostgreSQL advisory lock, a file lock
        beside a SQLite database), so one creates the tables and the others find them."""
        if self.schema_version() == HEAD_REVISION:
            return
        with self._migration_lock() as conn:
            version = self._version(conn)
            if version == HEAD_REVISION:
                return
            if version is None and self._create_fresh(conn):
                return
            from alembic import command
            from alembic.config import Config

            cfg = Config()
            cfg.set_main_option("script_location", str(MIGRATIONS))
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    @contextmanager
    def _migration_lock(self) -> Iterator[Connection]:
        if self.engine.dialect.name == "postgresql":
            with self.engine.begin() as conn:
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
                yield conn  # released when the transaction ends
            return
        database = self.engine.url.database
        lock_path = Path(f"{database}.migrate.lock") if database else None
        with contextlib.ExitStack() as stack:
            if lock_path is not None:
                handle = stack.enter_context(open(lock_path, "a+b"))
                fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes
            yield stack.enter_context(self.engine.begin())

    @staticmethod
    def _create_fresh(conn: Connection) -> bool:
        """Create every table and stamp HEAD_REVISION, only on a database with no tables."""
        from primevod.adapters.catalog.tables import Base

        if inspect(conn).get_table_names():
            return False
        Base.metadata.create_all(conn)
        from primevod.adapters.catalog.search_schema import create_search_tables

        create_search_tables(conn)  # engine-specific DDL (FTS5, tsvector) outside the models
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

    @staticmethod
    def _version(conn: Connection) -> str | None:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()

    def schema_version(self) -> str | None:
        with self.engine.connect() as conn:
            return self._version(conn)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._session.begin() as session:
            yield session
