"""search: each asset's indexed text and filter columns (SQLite FTS5, PostgreSQL tsvector),
with every asset already in the catalog indexed

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 00:30:00
"""

from alembic import op

from primevod.adapters.catalog.search_schema import create_search_tables, drop_search_tables

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_search_tables(op.get_bind())


def downgrade() -> None:
    drop_search_tables(op.get_bind())
