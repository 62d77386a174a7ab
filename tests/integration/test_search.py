"""Library search on both catalog engines (SQLite FTS5, PostgreSQL tsvector): ranking,
prefixes, phrases and exclusions, filters, keyset paging, and the index following every
change of an asset in the asset's own transaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from primevod.adapters.catalog.sql_catalog import SqlCatalog
from primevod.core.assets import Asset, AssetStatus
from primevod.core.search import Filters, parse

T0 = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgres"])
def catalog(request: pytest.FixtureRequest, tmp_path: Path) -> SqlCatalog:
    if request.param == "postgres":
        return SqlCatalog(request.getfixturevalue("postgres")())
    return SqlCatalog(f"sqlite:///{tmp_path / 'catalog.db'}")


def add(catalog: SqlCatalog, asset_id: str, minutes: int = 0, **fields: object) -> Asset:
    asset = Asset(
        id=asset_id,
        source_bucket="source",
        source_key=f"{asset_id}/in.mp4",
        created_at=T0 + timedelta(minutes=minutes),
        **fields,  # type: ignore[arg-type]
    )
    return catalog.create_asset(asset, event_type=None)


def ids(catalog: SqlCatalog, q: str, filters: Filters | None = None, **kw: object) -> list[str]:
    page = catalog.search_assets(parse(q), filters, **kw)  # type: ignore[arg-type]
    return [a.id for a in page.items]


def test_a_title_match_ranks_above_a_description_match(catalog: SqlCatalog) -> None:
    add(catalog, "desc", 2, title="Coastline", description="a peregrine falcon dives")
    add(catalog, "tag", 1, title="Birds", tags=["falcon"])
    add(catalog, "title", 0, title="Falcon at dawn")
    add(catalog, "none", 3, title="Harbour")
    assert ids(catalog, "falcon") == ["title", "tag", "desc"]


def test_prefix_phrase_exclusion_and_alternatives(catalog: SqlCatalog) -> None:
    add(catalog, "a", 0, title="Mountain bike descent", description="slow motion crash")
    add(catalog, "b", 1, title="Mountain lake", metadata={"camera": {"model": "Hasselblad"}})
    assert sorted(ids(catalog, "moun")) == ["a", "b"]
    assert ids(catalog, '"slow motion"') == ["a"]
    assert ids(catalog, '"motion slow"') == []
    assert ids(catalog, "mountain -bike") == ["b"]
    assert sorted(ids(catalog, "hasselblad OR crash")) == ["a", "b"]
    assert ids(catalog, "MOUNTAIN Lake") == ["b"]


def test_probe_facts_are_words(catalog: SqlCatalog) -> None:
    probe = {"video": [{"codec": "hevc", "width": 3840, "height": 2160}], "audio": []}
    add(catalog, "uhd", 0, title="Drone", probe=probe, duration=30.0)
    add(catalog, "other", 1, title="Drone 2")
    assert ids(catalog, "4k") == ["uhd"]
    assert ids(catalog, "drone hevc short") == ["uhd"]


def test_filters(catalog: SqlCatalog) -> None:
    add(catalog, "a", 0, title="clip", duration=10.0, status=AssetStatus.READY)
    add(catalog, "b", 10, title="clip", duration=100.0, metadata={"collection": "course-1"})
    add(catalog, "c", 20, title="clip", duration=1000.0, status=AssetStatus.FAILED)
    assert ids(catalog, "clip", Filters(status="ready")) == ["a"]
    assert ids(catalog, "clip", Filters(collection="course-1")) == ["b"]
    assert sorted(ids(catalog, "clip", Filters(min_duration=50, max_duration=500))) == ["b"]
    after = T0 + timedelta(minutes=5)
    assert sorted(ids(catalog, "clip", Filters(created_after=after))) == ["b", "c"]
    # the same instant in another zone: compared as instants, not as text
    before = (T0 + timedelta(minutes=15)).astimezone(timezone_plus_two())
    assert sorted(ids(catalog, "clip", Filters(created_before=before))) == ["a", "b"]
    # no words: the filtered library, newest first
    assert ids(catalog, "", Filters(min_duration=50)) == ["c", "b"]


def timezone_plus_two():  # type: ignore[no-untyped-def]
    from datetime import timezone

    return timezone(timedelta(hours=2))


def test_keyset_pages_cover_every_match_once(catalog: SqlCatalog) -> None:
    for i in range(23):
        title = "river " * (1 + i % 4) + f"take {i}"
        add(catalog, f"r{i:02d}", i, title=title, description="river" if i % 3 else None)
    seen: list[str] = []
    cursor = None
    while True:
        page = catalog.search_assets(parse("river"), limit=10, cursor=cursor)
        seen += [a.id for a in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(seen) == [f"r{i:02d}" for i in range(23)]
    assert seen == ids(catalog, "river", limit=100)  # pages follow the ranking
    with pytest.raises(ValueError, match="invalid cursor"):
        catalog.search_assets(parse("river"), cursor="not-a-cursor")


def test_the_index_follows_updates_and_deletes(catalog: SqlCatalog) -> None:
    add(catalog, "x", 0, title="Old name")
    catalog.update_asset("x", title="Heron", tags=["wading"])
    assert ids(catalog, "old") == []
    assert ids(catalog, "heron wading") == ["x"]
    catalog.update_asset("x", progress=0.5)  # not indexed: the row is left alone
    catalog.update_asset("x", status=AssetStatus.READY)
    assert ids(catalog, "heron", Filters(status="ready")) == ["x"]
    catalog.delete_asset("x")
    assert ids(catalog, "heron") == []


def test_an_older_catalog_is_indexed_by_its_migration(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    catalog = SqlCatalog(url)
    add(catalog, "kept", 0, title="Lighthouse")
    with catalog.engine.begin() as conn:  # back to the revision before search
        conn.execute(text("DROP TABLE asset_search_fts"))
        conn.execute(text("DROP TABLE asset_search"))
        conn.execute(text("DROP TABLE beacon_events"))  # (later revisions)
        conn.execute(text("DROP TABLE console_sessions"))
        conn.execute(text("UPDATE alembic_version SET version_num = '0008'"))
    catalog.engine.dispose()
    assert ids(SqlCatalog(url), "light") == ["kept"]


def test_too_many_matches_are_listed_newest_first(
    catalog: SqlCatalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    from primevod.adapters.catalog import sql_search

    monkeypatch.setattr(sql_search, "RANK_LIMIT", 4)
    for i in range(9):  # the later, the newer (and the weaker match: "otter" once)
        add(catalog, f"o{i}", i, title="otter " * (9 - i), status=AssetStatus.READY)
    add(catalog, "other", 20, title="Heron")
    newest = [f"o{i}" for i in reversed(range(9))]
    assert ids(catalog, "otter", limit=50) == newest  # 9 > 4 matches: by age, not by rank
    seen, cursor = [], None
    while True:
        page = catalog.search_assets(parse("ott"), limit=4, cursor=cursor)
        seen += [a.id for a in page.items]
        if not (cursor := page.next_cursor):
            break
    assert seen == newest
    assert ids(catalog, "otter", Filters(status="failed")) == []  # filters still apply
    monkeypatch.setattr(sql_search, "RANK_LIMIT", 100)
    assert ids(catalog, "otter", limit=50) == [f"o{i}" for i in range(9)]  # ranked again
