"""Sidecar subtitles through the entry points: the `subtitles` field at upload init and
`primevod process --subtitles FILE:LANG`. Good files become WebVTT renditions of the
published package; bad ones are refused before anything is encoded, with the line."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
from support.cli import run_cli
from support.tracks_media import FRENCH_VTT, french_sidecar, multi_track_source
from support.upload_server import upload_server

from primevod.core.hls import parse_attributes


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = upload_server(tmp_path_factory.mktemp("trackhome"))
    yield srv
    srv.stop()


def init(server, size: int, **extra) -> httpx.Response:
    body = {"filename": "tracks.mp4", "content_type": "video/mp4", "size": size, **extra}
    return httpx.post(
        f"{server.base}/api/v1/uploads/init", json=body, headers=server.auth("uploader"), timeout=30
    )


def upload(server, session: dict, data: bytes) -> dict:
    api = f"{server.base}/api/v1/uploads"
    ids = {"upload_id": session["upload_id"], "key": session["key"]}
    parts = []
    for n in range(1, -(-len(data) // session["part_size"]) + 1):
        signed = httpx.post(
            f"{api}/signPart", json={**ids, "part_number": n}, headers=server.auth("uploader")
        )
        chunk = data[(n - 1) * session["part_size"] : n * session["part_size"]]
        put = httpx.put(signed.json()["url"], content=chunk, timeout=30)
        parts.append({"PartNumber": n, "ETag": put.headers["ETag"]})
    done = httpx.post(
        f"{api}/complete", json={**ids, "parts": parts}, headers=server.auth("uploader"), timeout=30
    )
    assert done.status_code == 200, done.text
    return done.json()


def wait_ready(server, asset_id: str) -> dict:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        asset = httpx.get(
            f"{server.base}/api/v1/assets/{asset_id}", headers=server.auth("viewer")
        ).json()
        if asset["status"] in ("ready", "failed"):
            break
        time.sleep(0.3)
    assert asset["status"] == "ready", asset["error"]
    return asset


def media_of(master: Path, kind: str) -> list[dict[str, str]]:
    return [
        parse_attributes(line.split(":", 1)[1])
        for line in master.read_text().splitlines()
        if line.startswith("#EXT-X-MEDIA:") and f"TYPE={kind}" in line
    ]


def source_store(server):
    """The server's object store, opened in this process on the same folders."""
    from primevod import wiring
    from primevod.pipeline.runtime import runtime
    from primevod.settings import Settings

    wiring.build(Settings(home=server.home))
    return runtime().store


def sidecar_keys(server) -> set[str]:
    return {o.key for o in source_store(server).list("source", "subtitles/")}


def subtitle_text(cue_text: str, target_bytes: int) -> str:
    """A WebVTT file of about `target_bytes` UTF-8 bytes, its cues made of `cue_text`."""
    cue = f"00:00:00.200 --> 00:00:02.000\n{cue_text * 30}\n\n"
    return "WEBVTT\n\n" + cue * (target_bytes // len(cue.encode()))


def test_subtitles_sent_at_upload_become_a_rendition(server, tmp_path: Path) -> None:
    data = multi_track_source(tmp_path).read_bytes()
    sidecar = {"language": "fr", "name": "Français", "text": FRENCH_VTT}
    r = init(server, len(data), subtitles=[sidecar])
    assert r.status_code == 201, r.text
    done = upload(server, r.json(), data)
    asset = wait_ready(server, done["asset_id"])
    entry = asset["metadata"]["subtitles"][0]
    assert entry["language"] == "fr" and entry["name"] == "Français"
    assert "text" not in entry  # the file is stored beside the source, not in the metadata
    master = server.home / "store" / "buckets" / asset["output_bucket"] / asset["hls_path"]
    subs = media_of(master, "SUBTITLES")
    assert [(m["LANGUAGE"], m["NAME"]) for m in subs] == [("en", "en"), ("fr", "Français")]
    assert [m["LANGUAGE"] for m in media_of(master, "AUDIO")][:2] == ["en", "fr"]
    first = master.parent / Path(subs[1]["URI"]).parent / "seg_00001.vtt"
    assert "Bonjour depuis le fichier" in first.read_text()

    # the stored file is the system's: a PATCH can neither repoint nor drop it
    url = f"{server.base}/api/v1/assets/{asset['id']}"
    for change in ({"subtitles": None}, {"subtitles": [{"key": "uploads/x/y.mp4"}]}):
        patched = httpx.patch(url, json={"metadata": change}, headers=server.auth("admin"))
        assert patched.status_code == 400 and "subtitles" in patched.text
    assert entry["key"] in sidecar_keys(server)
    assert httpx.delete(url, headers=server.auth("admin")).status_code == 204
    assert entry["key"] not in sidecar_keys(server)  # deleted with the asset


def test_an_init_refused_after_the_check_keeps_no_subtitle_file(server) -> None:
    before = sidecar_keys(server)
    sidecar = {"language": "fr", "text": FRENCH_VTT}
    r = init(server, 1000, subtitles=[sidecar], content_type="text/plain")
    assert r.status_code == 400, r.text
    assert sidecar_keys(server) == before


def test_subtitles_up_to_the_total_fit_in_one_init_and_go_when_it_is_aborted(server) -> None:
    """Two files of 380 KiB of accented text: under the 768 KiB total, yet over 1.5 MiB as
    JSON from a client that escapes non-ASCII (`\\u00e9`, as Python's json does by default),
    past the 1 MiB every other call may send: the init still takes them."""
    text = subtitle_text("é", 380 * 1024)
    subtitles = [{"language": "fr", "text": text}, {"language": "fr-CA", "text": text}]
    body = {"filename": "x.mp4", "content_type": "video/mp4", "size": 1000}
    escaped = json.dumps({**body, "subtitles": subtitles}).encode()
    assert len(escaped) > 1.5 * 2**20
    before = sidecar_keys(server)
    r = httpx.post(
        f"{server.base}/api/v1/uploads/init",
        content=escaped,
        headers={**server.auth("uploader"), "Content-Type": "application/json"},
        timeout=30,
    )
    assert r.status_code == 201, r.text
    stored = sidecar_keys(server) - before
    assert len(stored) == 2
    session = r.json()
    aborted = httpx.post(
        f"{server.base}/api/v1/uploads/abort",
        json={"upload_id": session["upload_id"], "key": session["key"]},
        headers=server.auth("uploader"),
    )
    assert aborted.status_code == 204
    assert sidecar_keys(server) == before


def test_subtitles_over_the_total_are_422_naming_the_limit(server) -> None:
    text = subtitle_text("x", 300 * 1024)  # each file within its own 512 KiB
    r = init(server, 1000, subtitles=[{"language": "en", "text": text}] * 3)
    assert r.status_code == 422, r.text
    assert "786432 (768 KiB) across all of them" in r.json()["detail"]


def test_an_init_body_over_its_room_is_413_naming_the_subtitle_limit(server) -> None:
    text = subtitle_text("x", 500 * 1024)
    r = init(server, 1000, subtitles=[{"language": "en", "text": text}] * 6)
    assert r.status_code == 413
    assert "inline subtitles: at most 786432 bytes" in r.json()["detail"]


def test_the_subtitle_files_of_an_expired_upload_go_with_it(server) -> None:
    from datetime import timedelta

    from primevod.core.assets import utcnow
    from primevod.pipeline import uploads
    from primevod.pipeline.runtime import runtime

    before = sidecar_keys(server)
    r = init(server, 1000, subtitles=[{"language": "fr", "text": FRENCH_VTT}])
    assert r.status_code == 201, r.text
    assert len(sidecar_keys(server) - before) == 1
    expired = utcnow() - timedelta(seconds=1)
    server.catalog.update_upload(r.json()["upload_id"], expires_at=expired)
    assert uploads.expire_stale(runtime()) >= 1
    assert sidecar_keys(server) == before


@pytest.mark.parametrize(
    ("sidecar", "words"),
    [
        ({"language": "fr", "text": "WEBVTT\n\n00:01.000 --> 00:00.500\nx\n"}, "line 3"),
        ({"language": "fr", "text": "1\n00:00:01,000 => 00:00:02,000\nx\n"}, "line 1"),
        ({"language": "fr", "text": "WEBVTT\n\n"}, "no cue"),
        ({"language": 'fr",URI="evil', "text": FRENCH_VTT}, "language"),
        ({"language": "fr", "upload_id": "abc"}, "upload_id"),
        ({"language": "fr", "text": "x" * (600 * 1024)}, "text"),
    ],
)
def test_a_bad_sidecar_at_init_is_422_with_the_reason(server, sidecar: dict, words: str) -> None:
    r = init(server, 1000, subtitles=[sidecar])
    assert r.status_code == 422, r.text
    assert words in json.dumps(r.json())


def test_metadata_cannot_point_the_encoder_at_other_objects(server, clip) -> None:
    """A `subtitles` entry in the free-form metadata is dropped: only files checked and
    stored at init are listed there."""
    data = clip("small.mp4").read_bytes()
    forged = {"subtitles": [{"language": "en", "key": "uploads/other/secret.mp4"}]}
    r = init(server, len(data), metadata=forged)
    assert r.status_code == 201, r.text
    asset = wait_ready(server, upload(server, r.json(), data)["asset_id"])
    assert "subtitles" not in asset["metadata"]


def test_process_with_subtitles_on_the_command_line(tmp_path: Path) -> None:
    source = multi_track_source(tmp_path / "media")
    sidecar = french_sidecar(tmp_path / "media")
    home = tmp_path / "home"
    done = run_cli(home, "process", str(source), "--subtitles", f"{sidecar}:fr", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    subs = media_of(Path(result["hls_path"]), "SUBTITLES")
    assert [m["LANGUAGE"] for m in subs] == ["en", "fr"]


def test_process_refuses_a_bad_sidecar_before_encoding(tmp_path: Path) -> None:
    source = multi_track_source(tmp_path / "media")
    bad = tmp_path / "bad.srt"
    bad.write_text("1\n00:00:01,000 --> 00:00:02,000\nok\n\n2\nnot a timing\ntext\n")
    done = run_cli(tmp_path / "home", "process", str(source), "--subtitles", f"{bad}:de")
    assert done.returncode == 2
    assert "source.subtitles_invalid" in done.stderr and "bad.srt: line 5" in done.stderr
    assert not list((tmp_path / "home").glob("store/buckets/*/assets/*"))


def test_process_refuses_subtitles_over_the_total(tmp_path: Path) -> None:
    source = multi_track_source(tmp_path / "media")
    specs = []
    for n in range(2):
        path = tmp_path / f"part{n}.vtt"
        path.write_text(subtitle_text("x", 400 * 1024))  # each within its own 512 KiB
        specs += ["--subtitles", f"{path}:en"]
    done = run_cli(tmp_path / "home", "process", str(source), *specs)
    assert done.returncode == 2
    assert "source.subtitles_invalid" in done.stderr and "768 KiB" in done.stderr
