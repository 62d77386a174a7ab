"""Sidecar subtitle files in the object store: a file that is gone is the user's problem
(`source.subtitles_invalid`, never retried); a store that fails for a moment is not (the
error goes up, so the step retries). Stored files go with the metadata that lists them,
and only keys the sidecar store makes are ever removed. Real stores: a local one, and an
S3 client pointed at a port where nothing listens."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from botocore.exceptions import EndpointConnectionError
from support.server import free_port

from primevod.adapters.media.subtitle_tracks import check_sidecars
from primevod.adapters.storage.local_store import LocalObjectStore
from primevod.adapters.storage.s3_store import S3ObjectStore
from primevod.core.errors import MediaError
from primevod.core.subtitles import MAX_SIDECAR_TOTAL_BYTES, SidecarSubtitle
from primevod.pipeline import subtitle_sidecars
from primevod.pipeline.subtitle_sidecars import SidecarInvalid, SidecarText

SOURCE = "source"
VTT = b"WEBVTT\n\n00:00.000 --> 00:01.000\nhi\n"


def local_runtime(tmp_path: Path) -> SimpleNamespace:
    store = LocalObjectStore(tmp_path / "buckets")
    store.ensure_bucket(SOURCE)
    return SimpleNamespace(store=store, settings=SimpleNamespace(source_bucket=SOURCE))


def test_a_sidecar_that_is_gone_is_the_users_error(tmp_path: Path) -> None:
    rt = local_runtime(tmp_path)
    entries = subtitle_sidecars.store(rt, [SidecarText(language="fr", data=VTT)])
    rt.store.delete(SOURCE, entries[0]["key"])
    with pytest.raises(MediaError) as gone:
        subtitle_sidecars.fetch(rt, {"subtitles": entries}, tmp_path / "work")
    assert gone.value.code == "source.subtitles_invalid" and gone.value.permanent


def test_a_store_that_fails_for_a_moment_is_retried_not_blamed_on_the_upload(
    tmp_path: Path,
) -> None:
    entries = subtitle_sidecars.store(local_runtime(tmp_path), [SidecarText(data=VTT)])
    unreachable = S3ObjectStore(
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        access_key_id="test",
        secret_access_key="test",
        max_attempts=1,
    )
    rt = SimpleNamespace(store=unreachable, settings=SimpleNamespace(source_bucket=SOURCE))
    with pytest.raises(EndpointConnectionError):
        subtitle_sidecars.fetch(rt, {"subtitles": entries}, tmp_path / "work")


def test_removing_deletes_the_listed_files_and_nothing_else(tmp_path: Path) -> None:
    rt = local_runtime(tmp_path)
    mine = subtitle_sidecars.store(rt, [SidecarText(data=VTT), SidecarText(data=VTT)])
    other = subtitle_sidecars.store(rt, [SidecarText(data=VTT)])
    rt.store.put(SOURCE, "uploads/x/source.mp4", b"video")
    forged = [*mine, {"key": "uploads/x/source.mp4"}, {"key": "subtitles/../uploads/x"}]
    assert subtitle_sidecars.remove(rt, {"subtitles": forged}) == 2
    left = sorted(o.key for o in rt.store.list(SOURCE))
    assert left == sorted([other[0]["key"], "uploads/x/source.mp4"])
    assert subtitle_sidecars.remove(rt, {"subtitles": "not a list"}) == 0


def test_the_sidecars_of_one_asset_have_a_total_limit() -> None:
    part = b"WEBVTT\n\n00:00.000 --> 00:01.000\n" + b"x" * (300 * 1024) + b"\n"
    items = [SidecarText(language="en", data=part) for _ in range(3)]  # each under 512 KiB
    with pytest.raises(SidecarInvalid, match=f"at most {MAX_SIDECAR_TOTAL_BYTES} \\(768 KiB\\)"):
        subtitle_sidecars.check(items)
    assert len(subtitle_sidecars.check(items[:2])) == 2


def test_the_engine_checks_the_same_total(tmp_path: Path) -> None:
    part = b"WEBVTT\n\n00:00.000 --> 00:01.000\n" + b"x" * (400 * 1024) + b"\n"
    paths = [tmp_path / "a.vtt", tmp_path / "b.vtt"]
    for path in paths:
        path.write_bytes(part)
    with pytest.raises(MediaError, match="768 KiB") as over:
        check_sidecars([SidecarSubtitle(path=str(p), language="en") for p in paths])
    assert over.value.code == "source.subtitles_invalid"
    check_sidecars([SidecarSubtitle(path=str(paths[0]), language="en")])
