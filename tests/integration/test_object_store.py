"""One contract, two stores: local folders and S3 (moto in server mode on loopback)."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from primevod.adapters.storage.local_store import LocalObjectStore
from primevod.adapters.storage.s3_store import S3ObjectStore
from primevod.core.storage import (
    MIN_PART_SIZE,
    InvalidKey,
    InvalidPart,
    ObjectNotFound,
    UploadNotFound,
)

BUCKET = "media-src"


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path: Path, moto_url: str):
    if request.param == "local":
        s = LocalObjectStore(tmp_path / "store")
    else:
        # moto answers some unknown-upload calls with a 500, which real S3 does not: no
        # retries here keeps those cases fast
        s = S3ObjectStore(
            endpoint_url=moto_url, access_key_id="test", secret_access_key="test", max_attempts=1
        )
    bucket = f"{BUCKET}-{hashlib.md5(str(tmp_path).encode()).hexdigest()[:8]}"
    s.ensure_bucket(bucket)
    s.test_bucket = bucket  # type: ignore[attr-defined]
    return s


def test_put_head_get(store) -> None:
    b = store.test_bucket
    info = store.put(b, "a/b/c.txt", b"hello", content_type="text/plain", metadata={"Title": "x"})
    assert info.size == 5 and info.etag == f'"{hashlib.md5(b"hello").hexdigest()}"'
    head = store.head(b, "a/b/c.txt")
    assert head.content_type == "text/plain" and head.metadata == {"title": "x"}
    assert head.etag == info.etag and head.size == 5
    assert store.get(b, "a/b/c.txt") == b"hello"
    assert store.get_range(b, "a/b/c.txt", 1, 3) == b"ell"
    assert store.exists(b, "a/b/c.txt") and not store.exists(b, "a/b/d.txt")


def test_stream_put_file_and_download(store, tmp_path: Path) -> None:
    b = store.test_bucket
    src = tmp_path / "in.m3u8"
    src.write_bytes(b"#EXTM3U\n")
    info = store.put_file(b, "pkg/master.m3u8", src)
    assert info.content_type == "application/vnd.apple.mpegurl"
    store.put(b, "pkg/blob.bin", io.BytesIO(b"x" * 3_000_000))
    out = tmp_path / "copy" / "blob.bin"
    store.download(b, "pkg/blob.bin", out)
    assert out.read_bytes() == b"x" * 3_000_000


def test_overwrite_and_list_by_prefix(store) -> None:
    b = store.test_bucket
    for key in ("inbox/1.mp4", "inbox/2.mp4", "assets/x/master.m3u8", "inboxed.mp4"):
        store.put(b, key, key.encode())
    store.put(b, "inbox/1.mp4", b"new")
    assert store.get(b, "inbox/1.mp4") == b"new"
    assert [o.key for o in store.list(b, "inbox/")] == ["inbox/1.mp4", "inbox/2.mp4"]
    assert [o.key for o in store.list(b, "inbox")] == ["inbox/1.mp4", "inbox/2.mp4", "inboxed.mp4"]
    assert len(list(store.list(b))) == 4
    assert store.delete_prefix(b, "inbox/") == 2
    assert [o.key for o in store.list(b, "inbox/")] == []


def test_delete_and_missing(store) -> None:
    b = store.test_bucket
    store.put(b, "gone.txt", b"1")
    store.delete(b, "gone.txt")
    store.delete(b, "gone.txt")  # idempotent, like S3
    with pytest.raises(ObjectNotFound):
        store.head(b, "gone.txt")
    with pytest.raises(ObjectNotFound):
        store.get(b, "never.txt")


@pytest.mark.parametrize(
    "key",
    ["../etc/passwd", "/abs", "a/../../b", "a\x00b", "", "a//b", "a/./b", "dir/", "back\\slash"],
)
def test_keys_that_escape_are_rejected(store, key: str) -> None:
    with pytest.raises(InvalidKey):
        store.put(store.test_bucket, key, b"x")


def test_versioning_keeps_old_versions(store) -> None:
    b = store.test_bucket + "-v"
    store.ensure_bucket(b, versioning=True)
    first = store.put(b, "doc.txt", b"one")
    second = store.put(b, "doc.txt", b"two")
    assert first.version_id and second.version_id and first.version_id != second.version_id
    versions = store.list_versions(b, "doc.txt")
    assert {v.etag for v in versions} == {first.etag, second.etag}


def test_multipart_round_trip(store) -> None:
    b = store.test_bucket
    part1 = b"a" * MIN_PART_SIZE
    part2 = b"b" * 1000
    upload = store.create_multipart(
        b, "big/video.mp4", content_type="video/mp4", metadata={"asset": "1"}
    )
    p1 = store.upload_part(b, "big/video.mp4", upload, 1, part1)
    p2 = store.upload_part(b, "big/video.mp4", upload, 2, part2)
    listed = store.list_parts(b, "big/video.mp4", upload)
    assert [(p.part_number, p.etag, p.size) for p in listed] == [
        (1, p1.etag, len(part1)),
        (2, p2.etag, len(part2)),
    ]
    assert [u.upload_id for u in store.list_multipart_uploads(b)] == [upload]
    info = store.complete_multipart(b, "big/video.mp4", upload, [(1, p1.etag), (2, p2.etag)])
    md5s = hashlib.md5(part1).digest() + hashlib.md5(part2).digest()
    assert info.etag == f'"{hashlib.md5(md5s).hexdigest()}-2"'
    assert info.size == len(part1) + len(part2) and info.content_type == "video/mp4"
    assert store.get(b, "big/video.mp4") == part1 + part2
    assert store.list_multipart_uploads(b) == []


def test_multipart_bad_cases(store) -> None:
    b = store.test_bucket
    key = "bad/video.mp4"
    upload = store.create_multipart(b, key)
    small = store.upload_part(b, key, upload, 1, b"tiny")
    last = store.upload_part(b, key, upload, 2, b"end")
    with pytest.raises(InvalidPart):  # part too small
        store.complete_multipart(b, key, upload, [(1, small.etag), (2, last.etag)])
    with pytest.raises(InvalidPart):  # wrong ETag
        store.complete_multipart(b, key, upload, [(1, '"0000"')])
    with pytest.raises(InvalidPart):  # out of order
        store.complete_multipart(b, key, upload, [(2, last.etag), (1, small.etag)])
    with pytest.raises(InvalidPart):  # never uploaded
        store.complete_multipart(b, key, upload, [(1, small.etag), (3, last.etag)])
    with pytest.raises(InvalidPart):
        store.upload_part(b, key, upload, 0, b"x")
    assert not store.exists(b, key)
    store.abort_multipart(b, key, upload)
    with pytest.raises(UploadNotFound):
        store.list_parts(b, key, upload)
    with pytest.raises(UploadNotFound):
        store.complete_multipart(b, key, upload, [(1, small.etag)])
    with pytest.raises(UploadNotFound):
        store.upload_part(b, key, "nope", 1, b"x")


def test_catalog_head_revision_matches_the_migrations() -> None:
    """HEAD_REVISION lets a start skip Alembic; it must name the newest migration."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from primevod.adapters.catalog.sql_catalog import HEAD_REVISION, MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(cfg).get_current_head() == HEAD_REVISION


def test_fresh_catalog_schema_equals_the_migrated_one(tmp_path: Path) -> None:
    """A fresh database gets its tables from the metadata and a stamp; it must be the very
    schema the Alembic migrations build, and later migrations must apply on top of it."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import inspect

    from primevod.adapters.catalog.sql_catalog import HEAD_REVISION, SqlCatalog
    from primevod.adapters.catalog.tables import Base

    fresh = SqlCatalog(f"sqlite:///{tmp_path / 'fresh.db'}")
    migrated = SqlCatalog(f"sqlite:///{tmp_path / 'migrated.db'}", migrate=False)
    with migrated.engine.begin() as conn:  # an old install: an unrelated table already there
        conn.exec_driver_sql("CREATE TABLE legacy_marker (id INTEGER)")
    migrated.migrate()
    assert fresh.schema_version() == migrated.schema_version() == HEAD_REVISION
    with migrated.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert [d[1].name for d in diffs] == ["legacy_marker"]  # nothing but the unrelated table

    def shape(catalog: SqlCatalog) -> dict[str, object]:
        with catalog.engine.connect() as conn:
            insp = inspect(conn)
            return {
                t: (
                    sorted((c["name"], str(c["type"]), c["nullable"]) for c in insp.get_columns(t)),
                    sorted(tuple(i["column_names"]) for i in insp.get_indexes(t)),
                )
                for t in insp.get_table_names()
                if t != "legacy_marker"
            }

    assert shape(fresh) == shape(migrated)
