"""The SQL catalog (the Catalog port): assets, executions with their steps, the event outbox
and its fan-out, upload sessions and API keys, one module per aggregate, over one database
(SQLAlchemy: SQLite by default)."""

from __future__ import annotations

from primevod.adapters.catalog.sql_assets import SqlAssets
from primevod.adapters.catalog.sql_beacons import SqlBeacons
from primevod.adapters.catalog.sql_content_keys import SqlContentKeys
from primevod.adapters.catalog.sql_database import HEAD_REVISION, MIGRATIONS, _aware, make_engine
from primevod.adapters.catalog.sql_executions import SqlExecutions
from primevod.adapters.catalog.sql_exports import SqlExports
from primevod.adapters.catalog.sql_keys import ROLES, SqlKeys
from primevod.adapters.catalog.sql_sessions import SqlSessions
from primevod.adapters.catalog.sql_uploads import SqlUploads
from primevod.adapters.catalog.sql_workers import SqlWorkers
from primevod.core.errors import NotFound

__all__ = [
    "HEAD_REVISION",
    "MIGRATIONS",
    "ROLES",
    "NotFound",
    "SqlCatalog",
    "_aware",
    "make_engine",
]


class SqlCatalog(
    SqlAssets,
    SqlExecutions,
    SqlUploads,
    SqlKeys,
    SqlSessions,
    SqlWorkers,
    SqlContentKeys,
    SqlBeacons,
    SqlExports,
):
    """Every aggregate of the catalog on one engine."""
