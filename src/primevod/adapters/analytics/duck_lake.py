"""The analytics lake: Parquet files under one folder, a folder per table and per day
(`beacons/day=2026-12-05/part_<uuid>.parquet`, Hive-style), written and read by DuckDB
embedded in this process. A day is always rewritten whole, so an export can run again over
the same days without doubling a row."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from primevod.core.analytics import DAY_OF, TABLES, VIEWS

STATE = "_state.json"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _columns(table: str) -> str:
    """The table's columns as read_json's `columns` struct (names and types are ours)."""
    return "{" + ", ".join(f"{_literal(c)}: {_literal(t)}" for c, t in TABLES[table].items()) + "}"


class ParquetLake:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    # -- writing ---------------------------------------------------------------------------
    def write_days(
        self, table: str, sources: Sequence[Path], since: date | None = None
    ) -> dict[str, int]:
        """The rows of newline-delimited JSON files (the table's columns; lines that do not
        parse are skipped), from the day `since` on, into the table's day folders; each day
        found replaces that day's files. Returns rows per day written."""
        existing = [str(p) for p in sources if Path(p).is_file() and Path(p).stat().st_size]
        if not existing:
            return {}
        con = duckdb.connect()
        try:
            con.execute(
                f"CREATE TEMP TABLE incoming AS SELECT *, {DAY_OF[table]} AS day "
                f"FROM read_json(?, format = 'newline_delimited', columns = {_columns(table)}, "
                "ignore_errors = true)",
                [existing],
            )
            con.execute("DELETE FROM incoming WHERE day IS NULL")  # a line that did not parse
            if since is not None:
                con.execute("DELETE FROM incoming WHERE day < ?", [since])
            counts = dict(
                con.execute(
                    "SELECT CAST(day AS VARCHAR), count(*) FROM incoming GROUP BY day"
                ).fetchall()
            )
            folder = self.root / table
            for day in counts:
                shutil.rmtree(folder / f"day={day}", ignore_errors=True)
            if counts:
                folder.mkdir(parents=True, exist_ok=True)
                con.execute(
                    f"COPY incoming TO {_literal(str(folder))} (FORMAT parquet, "
                    "PARTITION_BY (day), OVERWRITE_OR_IGNORE true, FILENAME_PATTERN 'part_{uuid}')"
                )
        finally:
            con.close()
        return counts

    def state(self) -> dict[str, float]:
        """Each table's export mark (epoch seconds of the last export's start)."""
        try:
            return dict(json.loads((self.root / STATE).read_text()))
        except (OSError, ValueError):
            return {}

    def save_state(self, state: dict[str, float]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".{STATE}.tmp"
        tmp.write_text(json.dumps(state, indent=2))
        tmp.replace(self.root / STATE)

    # -- reading ---------------------------------------------------------------------------
    def connect(self) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB with the lake's tables and the shipped views (a table with no
        files yet is an empty one with the same columns)."""
        con = duckdb.connect()
        for table, columns in TABLES.items():
            files = self.root / table
            if any(files.glob("day=*/*.parquet")):
                pattern = _literal(str(files / "day=*" / "*.parquet"))
                con.execute(
                    f"CREATE VIEW {table} AS SELECT * FROM read_parquet({pattern}, "
                    "hive_partitioning = true, hive_types = {'day': DATE}, union_by_name = true)"
                )
            else:
                typed = ", ".join(f"{c} {t}" for c, t in columns.items())
                con.execute(f"CREATE TABLE {table} ({typed}, day DATE)")
        for name, sql in VIEWS.items():
            con.execute(f"CREATE VIEW {name} AS {sql}")
        return con

    def query(
        self, sql: str, params: Iterable[Any] | None = None
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """The column names and rows of one statement over the lake (duckdb.Error on a bad
        statement, with DuckDB's message)."""
        con = self.connect()
        try:
            cursor = con.execute(sql, list(params or []))
            names = [d[0] for d in cursor.description or []]
            return names, cursor.fetchall()
        finally:
            con.close()
