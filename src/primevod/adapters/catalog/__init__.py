"""The catalog: assets, executions, events, subscriptions and keys in SQL (SQLite or
PostgreSQL) through SQLAlchemy 2, with Alembic migrations."""
