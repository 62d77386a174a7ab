"""Alembic environment: run with the connection the catalog hands over."""

from __future__ import annotations

from alembic import context

from primevod.adapters.catalog.tables import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through primevod.adapters.catalog.sql_catalog.migrate")
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
