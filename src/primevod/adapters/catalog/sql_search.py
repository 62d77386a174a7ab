"""Library search in the catalog's own database: SQLite FTS5 on the embedded default,
PostgreSQL full-text search (a weighted tsvector with a GIN index) on PostgreSQL. One table,
`asset_search`, holds each asset's indexed text and filter columns; it is written in the
same transaction as the asset (SqlAssets calls `_index_asset`), so a search never sees an
asset its catalog row contradicts. Ranking: title above tags above description above the
rest (core/search.py WEIGHTS), then newest; pages are keyset pages on (score, created, id)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from primevod.adapters.catalog.search_schema import INSERT, UPDATE, bind_time, row_of
from primevod.adapters.catalog.sql_database import SqlDatabase, _aware
from primevod.core.assets import Asset, Page
from primevod.core.search import FIELDS, WEIGHTS, Filters, Query, fts5_match, tsquery

# PostgreSQL's ts_rank weights in the order {D, C, B, A}; A is the title
_PG_ORDER = (WEIGHTS["facts"], WEIGHTS["description"], WEIGHTS["tags"], WEIGHTS["title"])
_PG_WEIGHTS = "{" + ", ".join(str(round(w / WEIGHTS["title"], 3)) for w in _PG_ORDER) + "}"


_ORDER = "ORDER BY {t}.score, {t}.created_at DESC, {t}.asset_id DESC"


class SqlSearch(SqlDatabase):
    def _index_asset(self, s: Session, asset: Asset, before: Asset | None = None) -> None:
        """Index the asset in the caller's transaction; nothing when no indexed column
        changed (progress updates, timings)."""
        postgres = self.engine.dialect.name == "postgresql"
        row = row_of(asset, postgres)
        if before is not None:
            if row_of(before, postgres) == row:
                return
            s.execute(UPDATE, row)
            return
        s.execute(INSERT, row)

    def _unindex_asset(self, s: Session, asset_id: str) -> None:
        s.execute(text("DELETE FROM asset_search WHERE asset_id = :a"), {"a": asset_id})

    def search_assets(
        self,
        query: Query,
        filters: Filters | None = None,
        *,
        limit: int = 20,
        cursor: str | None = None,
    ) -> Page:
        """Assets matching the query and filters, best first; newest first without words or
        with more than RANK_LIMIT matches. ValueError: a cursor that is not one of ours."""
        limit = max(1, min(limit, 100))
        after = _decode_cursor(cursor) if cursor else None
        plan = _Plan(query, filters or Filters(), self.engine.dialect.name == "postgresql")
        with self.session() as s:
            mode = after.mode if after else plan.mode(s)
            sql, params = plan.statement(mode, after)
            params["limit"] = limit + 1
            rows = s.execute(text(sql), params).all()
        items = [Asset.model_validate(_json(r.doc)) for r in rows[:limit]]
        next_cursor = None
        if len(rows) > limit:
            last = rows[limit - 1]
            next_cursor = _Cursor(
                mode, float(last.score), _time(last.created_at), last.asset_id
            ).encode()
        return Page(items=items, next_cursor=next_cursor)


def _json(doc: Any) -> Any:
    return json.loads(doc) if isinstance(doc, str) else doc


def _time(value: Any) -> datetime:
    """A created_at as read back: SQLite gives the ISO text it was given."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    result = _aware(value)
    assert result is not None
    return result


def _filter_sql(filters: Filters, postgres: bool) -> tuple[list[str], dict[str, Any]]:
    where: list[str] = []
    params: dict[str, Any] = {}
    checks = (
        ("status", "s.status = :status"),
        ("collection", "s.collection = :collection"),
        ("min_duration", "s.duration >= :min_duration"),
        ("max_duration", "s.duration <= :max_duration"),
        ("created_after", "s.created_at >= :created_after"),
        ("created_before", "s.created_at < :created_before"),
    )
    for name, clause in checks:
        value = getattr(filters, name)
        if isinstance(value, datetime):
            value = bind_time(value, postgres)
        if value is not None:
            where.append(clause)
            params[name] = value
    return where, params


# Ranking a match costs a look at its column lengths: past this many matches (the first
# letters typed into the search box) the matches are listed newest first instead, which the
# engines answer from their index in a fraction of a millisecond (docs/analytics.md).
RANK_LIMIT = 2000
RANKED, RECENT, LISTING = "ranked", "recent", "listing"


@dataclass(frozen=True)
class _Cursor:
    mode: str
    score: float
    created: datetime
    asset_id: str

    def encode(self) -> str:
        raw = json.dumps([self.mode, self.score, self.created.isoformat(), self.asset_id])
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> _Cursor:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        mode, score, created, asset_id = json.loads(raw)
        if mode not in (RANKED, RECENT, LISTING):
            raise ValueError(mode)
        return _Cursor(mode, float(score), datetime.fromisoformat(created), str(asset_id))
    except (ValueError, TypeError) as exc:
        raise ValueError("invalid cursor") from exc


class _Plan:
    """The statements of one search: its filters, and its words in the engine's syntax."""

    def __init__(self, query: Query, filters: Filters, postgres: bool) -> None:
        self.query = query
        self.postgres = postgres
        self.where, self.params = _filter_sql(filters, postgres)
        if not query.empty:
            self.params["q"] = tsquery(query) if postgres else fts5_match(query)
        if postgres:
            self.match = "s.tsv @@ to_tsquery('simple', :q)"
            self.source = "asset_search s"
        else:
            self.match = "asset_search_fts MATCH :q"
            self.source = "asset_search_fts JOIN asset_search s ON s.id = asset_search_fts.rowid"

    def mode(self, s: Session) -> str:
        """Ranked, unless there are no words or too many matches to rank quickly (counted
        up to RANK_LIMIT + 1 only, on the words alone)."""
        if self.query.empty:
            return LISTING
        source = "asset_search s" if self.postgres else "asset_search_fts"
        bounded = (
            f"SELECT count(*) FROM (SELECT 1 FROM {source} WHERE "
            f"{self.match if self.postgres else 'asset_search_fts MATCH :q'} LIMIT :cap) m"
        )
        found = s.execute(text(bounded), {"q": self.params["q"], "cap": RANK_LIMIT + 1})
        return RANKED if int(found.scalar_one()) <= RANK_LIMIT else RECENT

    def statement(self, mode: str, after: _Cursor | None) -> tuple[str, dict[str, Any]]:
        where, params = list(self.where), dict(self.params)
        if mode == LISTING:
            return self._listing(where, params, after)
        where.append(self.match)
        if mode == RANKED:
            return self._ranked(where, params, after)
        # RECENT: the engine's own order (rowids follow creation), so it stops after a page
        rowid = "s.id" if self.postgres else "asset_search_fts.rowid"
        if after is not None:
            where.append(f"{rowid} < :after_rowid")
            params["after_rowid"] = int(-after.score)
        return self._page(self.source, f"-{rowid}", where, f"ORDER BY {rowid} DESC", params)

    def _listing(
        self, where: list[str], params: dict[str, Any], after: _Cursor | None
    ) -> tuple[str, dict[str, Any]]:
        """No words: the filtered library newest first, along the created_at index."""
        if after is not None:
            where.append(
                "(s.created_at < :after_created OR "
                "(s.created_at = :after_created AND s.asset_id < :after_id))"
            )
            params.update(
                after_created=bind_time(after.created, self.postgres), after_id=after.asset_id
            )
        order = "ORDER BY s.created_at DESC, s.asset_id DESC"
        return self._page("asset_search s", "0.0", where, order, params)

    def _ranked(
        self, where: list[str], params: dict[str, Any], after: _Cursor | None
    ) -> tuple[str, dict[str, Any]]:
        if self.postgres:
            # float8: ts_rank's float4 would come back rounded to text, and the keyset's
            # equality on the score must hold exactly
            score = f"-ts_rank('{_PG_WEIGHTS}', s.tsv, to_tsquery('simple', :q))::float8"
        else:
            weights = ", ".join(str(WEIGHTS[f]) for f in FIELDS)
            score = f"bm25(asset_search_fts, {weights})"
        inner = f"SELECT s.asset_id, s.created_at, {score} AS score FROM {self.source}"
        inner += f" WHERE {' AND '.join(where)}"
        page = f"SELECT m.asset_id, m.created_at, m.score FROM ({inner}) m"
        if after is not None:
            page += (
                " WHERE (m.score > :after_score OR (m.score = :after_score AND "
                "(m.created_at < :after_created OR (m.created_at = :after_created AND "
                "m.asset_id < :after_id))))"
            )
            params.update(
                after_score=after.score,
                after_created=bind_time(after.created, self.postgres),
                after_id=after.asset_id,
            )
        page += f" {_ORDER.format(t='m')} LIMIT :limit"
        return _with_documents(page), params

    @staticmethod
    def _page(
        source: str, score: str, where: list[str], order: str, params: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        page = f"SELECT s.asset_id, s.created_at, {score} AS score FROM {source}"
        if where:
            page += f" WHERE {' AND '.join(where)}"
        return _with_documents(f"{page} {order} LIMIT :limit"), params


def _with_documents(page: str) -> str:
    """The page's rows with their asset documents, in the page's order (the documents of
    the page only, not of every match)."""
    return (
        f"SELECT p.asset_id, p.created_at, p.score, a.doc FROM ({page}) p "
        f"JOIN assets a ON a.id = p.asset_id {_ORDER.format(t='p')}"
    )
