"""The search table's schema, apart from the queries (sql_search.py) so that the fresh
database path (sql_database.py) can create it without importing the catalog: SQLite FTS5
(external content, prefix indexes) or a PostgreSQL weighted tsvector with a GIN index, and
the row an asset is indexed as. Created outside the SQLAlchemy models (tables.py): neither
an FTS5 virtual table nor a generated tsvector column is a portable model."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from primevod.core.assets import Asset
from primevod.core.search import FIELDS, indexed_columns


def bind_time(value: datetime, postgres: bool) -> Any:
    """UTC always; as ISO text on SQLite (compared as text there: one format, one zone)."""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    utc = aware.astimezone(UTC)
    return utc if postgres else utc.isoformat()


COLUMNS = (*FIELDS, "status", "collection", "duration", "created_at")

SQLITE_DDL = (
    "CREATE TABLE asset_search (id INTEGER PRIMARY KEY, asset_id VARCHAR(36) NOT NULL UNIQUE, "
    "status VARCHAR(16), collection VARCHAR(64), duration FLOAT, created_at DATETIME, "
    "title TEXT, tags TEXT, description TEXT, meta TEXT, facts TEXT)",
    "CREATE INDEX ix_asset_search_created ON asset_search (created_at, asset_id)",
    # external content: the text is stored once (in asset_search), FTS5 keeps the index;
    # prefix indexes make 2- to 4-letter prefixes (typing) index lookups, not merges
    "CREATE VIRTUAL TABLE asset_search_fts USING fts5(title, tags, description, meta, facts, "
    "content='asset_search', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2', prefix='2 3 4')",
    "CREATE TRIGGER asset_search_ai AFTER INSERT ON asset_search BEGIN "
    "INSERT INTO asset_search_fts(rowid, title, tags, description, meta, facts) "
    "VALUES (new.id, new.title, new.tags, new.description, new.meta, new.facts); END",
    "CREATE TRIGGER asset_search_ad AFTER DELETE ON asset_search BEGIN "
    "INSERT INTO asset_search_fts(asset_search_fts, rowid, title, tags, description, meta, "
    "facts) VALUES ('delete', old.id, old.title, old.tags, old.description, old.meta, "
    "old.facts); END",
    "CREATE TRIGGER asset_search_au AFTER UPDATE ON asset_search BEGIN "
    "INSERT INTO asset_search_fts(asset_search_fts, rowid, title, tags, description, meta, "
    "facts) VALUES ('delete', old.id, old.title, old.tags, old.description, old.meta, "
    "old.facts); INSERT INTO asset_search_fts(rowid, title, tags, description, meta, facts) "
    "VALUES (new.id, new.title, new.tags, new.description, new.meta, new.facts); END",
)

POSTGRES_DDL = (
    "CREATE TABLE asset_search (id BIGSERIAL PRIMARY KEY, "
    "asset_id VARCHAR(36) NOT NULL UNIQUE, status VARCHAR(16), collection VARCHAR(64), "
    "duration DOUBLE PRECISION, created_at TIMESTAMPTZ, title TEXT, tags TEXT, "
    "description TEXT, meta TEXT, facts TEXT, "
    # 'simple': no stemming and no stop words, as FTS5's unicode61 (titles mix languages)
    "tsv tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('simple', coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('simple', coalesce(tags, '')), 'B') || "
    "setweight(to_tsvector('simple', coalesce(description, '')), 'C') || "
    "setweight(to_tsvector('simple', coalesce(meta, '') || ' ' || coalesce(facts, '')), 'D')"
    ") STORED)",
    "CREATE INDEX ix_asset_search_tsv ON asset_search USING GIN (tsv)",
    "CREATE INDEX ix_asset_search_created ON asset_search (created_at, asset_id)",
)


def create_search_tables(conn: Connection) -> None:
    """The search table (and FTS5's index) for the connection's engine; then every asset
    already in the catalog indexed (a database that predates search)."""
    ddl = POSTGRES_DDL if conn.dialect.name == "postgresql" else SQLITE_DDL
    for statement in ddl:
        conn.execute(text(statement))
    # in creation order: the search table's ids then follow it, as for assets added later
    for (doc,) in conn.execute(text("SELECT doc FROM assets ORDER BY created_at, id")):
        asset = Asset.model_validate(json.loads(doc) if isinstance(doc, str) else doc)
        conn.execute(INSERT, row_of(asset, conn.dialect.name == "postgresql"))


def drop_search_tables(conn: Connection) -> None:
    if conn.dialect.name != "postgresql":
        conn.execute(text("DROP TABLE IF EXISTS asset_search_fts"))
    conn.execute(text("DROP TABLE IF EXISTS asset_search"))


INSERT = text(
    f"INSERT INTO asset_search (asset_id, {', '.join(COLUMNS)}) "
    f"VALUES (:asset_id, {', '.join(':' + c for c in COLUMNS)})"
)
UPDATE = text(
    f"UPDATE asset_search SET {', '.join(f'{c} = :{c}' for c in COLUMNS)} "
    "WHERE asset_id = :asset_id"
)


def row_of(asset: Asset, postgres: bool) -> dict[str, Any]:
    row = {"asset_id": asset.id, **indexed_columns(asset)}
    row["created_at"] = bind_time(asset.created_at, postgres)
    return row
