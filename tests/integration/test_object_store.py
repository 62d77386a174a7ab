"""One contract, three stores: local folders, moto's S3 server and a real S3-compatible server
(OpenStack Swift with its s3api middleware), both of the latter on loopback."""

from __future__ import annotations

import hashlib
import io
import time
from pathlib import Path

import httpx
import pytest
from botocore.exceptions import ClientError
from support.swift_s3 import swift_s3  # noqa: F401  (the session fixture)

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


def open_store(request: pytest.FixtureRequest, backend: str, tmp_path: Path):
    if backend == "local":
        s = LocalObjectStore(tmp_path / "store")
    elif backend == "moto":
        # moto answers some unknown-upload calls with a 500, which real S3 does not: no
        # retries here keeps those cases fast
        s = S3ObjectStore(
            endpoint_url=request.getfixturevalue("moto_url"),
            access_key_id="test",
            secret_access_key="test",
            max_attempts=1,
        )
    else:
        swift = request.getfixturevalue("swift_s3")
        s = S3ObjectStore(
            endpoint_url=swift.endpoint_url,
            access_key_id=swift.access_key_id,
            secret_access_key=swift.secret_access_key,
            region=swift.region,
            max_attempts=1,
        )
    bucket = f"{BUCKET}-{hashlib.md5(str(tmp_path).encode()).hexdigest()[:8]}"
    s.ensure_bucket(bucket)
    s.test_bucket = bucket  # type: ignore[attr-defined]
    return s


@pytest.fixture(params=["local", "moto", "swift"])
def store(request: pytest.FixtureRequest, tmp_path: Path):
    return open_store(request, request.param, tmp_path)


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


def test_ensure_bucket_when_another_worker_just_created_it(store) -> None:
    """Workers start at once: each finds no bucket and creates it; the later ones go on."""
    b = store.test_bucket + "-race"
    store.ensure_bucket(b)  # the other worker
    if isinstance(store, S3ObjectStore):
        head_bucket = store.client.head_bucket
        seen = []

        def not_there_yet(**kwargs: object) -> object:
            if not seen:  # this worker's look, just before the other one created it
                seen.append(kwargs)
                raise ClientError({"Error": {"Code": "404", "Message": "Not Found"}}, "HeadBucket")
            return head_bucket(**kwargs)

        store.client.head_bucket = not_there_yet
    store.ensure_bucket(b)
    assert store.put(b, "after.txt", b"1").size == 1


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


@pytest.mark.parametrize("backend", ["moto", "swift"])
def test_presigned_part_url_takes_the_part(request, backend: str, tmp_path: Path) -> None:
    """The S3 stores hand out presigned UploadPart URLs (the local store has none: the server
    signs its own part URLs, tests/integration/test_uploads_api.py)."""
    store = open_store(request, backend, tmp_path)
    b, key = store.test_bucket, "direct/video.mp4"
    upload = store.create_multipart(b, key)
    url = store.presign_upload_part(b, key, upload, 1, expires_in=60)
    put = httpx.put(url, content=b"part one")
    assert put.status_code == 200, put.text
    parts = store.list_parts(b, key, upload)
    assert [(p.part_number, p.etag, p.size) for p in parts] == [(1, put.headers["ETag"], 8)]


@pytest.mark.parametrize(
    "backend",
    [
        pytest.param(
            "moto",
            marks=pytest.mark.xfail(
                strict=True, reason="moto takes expired presigned URLs (S3 and Swift refuse them)"
            ),
        ),
        "swift",
    ],
)
def test_expired_presigned_part_url_is_refused(request, backend: str, tmp_path: Path) -> None:
    store = open_store(request, backend, tmp_path)
    b, key = store.test_bucket, "late/video.mp4"
    upload = store.create_multipart(b, key)
    url = store.presign_upload_part(b, key, upload, 1, expires_in=1)
    time.sleep(2.1)  # signed at a whole second; expired once that second plus 1 s is past
    put = httpx.put(url, content=b"too late")
    assert put.status_code == 403, put.text
    assert store.list_parts(b, key, upload) == []


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
    # nothing but the unrelated table and the search tables, which are engine-specific DDL
    # outside the models (adapters/catalog/search_schema.py)
    extra = [d[1].name for d in diffs if "asset_search" not in d[1].name]
    assert extra == ["legacy_marker"]

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
