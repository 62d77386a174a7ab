"""The search query language: parsing, its FTS5 and tsquery renderings, and the indexed
document of an asset. Any text either parses into an expression SQLite's FTS5 accepts or is
refused with a reason: never engine syntax errors."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from primevod.core.assets import Asset
from primevod.core.search import (
    SearchSyntaxError,
    Term,
    document,
    fts5_match,
    parse,
    probe_facts,
    tsquery,
)


def test_the_last_word_is_a_prefix_and_all_lower_case() -> None:
    query = parse("Mountain Bi")
    assert query.groups == [[Term("mountain"), Term("bi", prefix=True)]]
    assert fts5_match(query) == '("mountain" AND "bi"*)'
    assert tsquery(query) == "('mountain' & 'bi':*)"


def test_a_finished_word_a_star_and_one_letter() -> None:
    assert parse("mountain bike ").groups == [[Term("mountain"), Term("bike")]]
    assert parse("moun* bike").groups == [[Term("moun", prefix=True), Term("bike", prefix=True)]]
    assert parse("bik,").groups == [[Term("bik", prefix=True)]]
    assert parse("a").groups == [[Term("a")]]


def test_phrases_exclusions_and_or() -> None:
    query = parse('"Slow  motion" -draft OR cats -"old cut"')
    assert query.groups == [[Term("slow motion", phrase=True)], [Term("cats")]]
    assert query.excluded == [Term("draft"), Term("old cut", phrase=True)]
    assert fts5_match(query) == '(("slow motion") OR ("cats")) NOT ("draft" OR "old cut")'
    assert tsquery(query) == (
        "(((('slow' <-> 'motion')) | ('cats')) & !'draft') & !('old' <-> 'cut')"
    )


def test_punctuation_separates_words() -> None:
    assert parse("title:cats AND(dogs*)").groups == [
        [Term("title"), Term("cats"), Term("and"), Term("dogs", prefix=True)]
    ]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('"unclosed', "unbalanced quote"),
        ("-draft", "exclusions only"),
        ("x " * 20, "more than 16"),
        ("y" * 501, "longer than 500"),
    ],
)
def test_refusals_say_why(text: str, reason: str) -> None:
    with pytest.raises(SearchSyntaxError, match=reason):
        parse(text)


def test_empty_query() -> None:
    assert parse("  ").empty
    assert parse("OR").empty


@pytest.fixture(scope="module")
def fts() -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(title, description, prefix='2 3')")
    db.execute("INSERT INTO t VALUES ('Mountain bike', 'a slow motion descent')")
    return db


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=80))
def test_any_text_is_valid_fts5_or_refused(fts: sqlite3.Connection, text: str) -> None:
    try:
        query = parse(text)
    except SearchSyntaxError:
        return
    if not query.empty:
        fts.execute("SELECT count(*) FROM t WHERE t MATCH ?", (fts5_match(query),)).fetchone()


def test_fts5_semantics(fts: sqlite3.Connection) -> None:
    def hits(text: str) -> int:
        sql = "SELECT count(*) FROM t WHERE t MATCH ?"
        return fts.execute(sql, (fts5_match(parse(text)),)).fetchone()[0]

    assert hits("moun") == 1
    assert hits('"slow motion"') == 1
    assert hits('"motion slow"') == 0
    assert hits("bike -descent") == 0
    assert hits("zebra OR bike") == 1


def test_document_of_an_asset() -> None:
    asset = Asset(
        id="a1",
        source_bucket="s",
        source_key="k",
        title="Alps",
        description="A ride",
        tags=["mtb", "summer"],
        metadata={"ladder": "auto", "camera": {"model": "GoPro"}, "take": 3, "ok": True},
        probe={
            "video": [{"codec": "h264", "width": 1920, "height": 1080}],
            "audio": [{"codec": "aac", "language": "fra"}],
        },
        duration=95.0,
    )
    assert document(asset) == {
        "title": "Alps",
        "tags": "mtb summer",
        "description": "A ride",
        "meta": "GoPro 3",
        "facts": "h264 1080p hd aac fra medium",
    }


def test_portrait_video_is_named_by_its_short_side() -> None:
    probe = {"video": [{"codec": "hevc", "width": 1080, "height": 1920}]}
    assert probe_facts(probe, 30.0) == "hevc 1080p hd short"
