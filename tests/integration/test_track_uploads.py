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

from primevod.core.hls import parse_attributes

PART = 64 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from support.server import Server

    srv = Server(
        tmp_path_factory.mktemp("trackhome"),
        PRIMEVOD_UPLOAD_MIN_PART_SIZE=str(PART),
        PRIMEVOD_UPLOAD_PART_SIZE=str(PART),
        PRIMEVOD_ENCODE_CONCURRENCY="1",
    )
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
