"""A real MKV made by FFmpeg whose subtitle stream's language walks out of the package
(`en-/../../../pwn`), whose title holds playlist lines, and whose second audio stream's
language holds a quote: the encode and the published package keep every file inside the
package, the master gains no line, and the MPD stays well-formed."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from support.cli import run_cli
from support.tracks_media import hostile_metadata_source

from primevod.adapters.media.ffmpeg_command import EncodeOptions
from primevod.adapters.media.transcoder import MediaEngine
from primevod.core.hls import parse_attributes
from primevod.core.outputs import PackageResult
from primevod.core.policies import get_policy

POLICY = get_policy("default")
POLICY = POLICY.model_copy(update={"rungs": POLICY.rungs[:1]})
MPD = "{urn:mpeg:dash:schema:mpd:2011}"


def files_named_pwn(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if "pwn" in p.name]


def uri_lines(master: Path) -> list[str]:
    return [line for line in master.read_text().splitlines() if line and not line.startswith("#")]


@pytest.fixture(scope="module")
def engine_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, PackageResult]:
    root = tmp_path_factory.mktemp("hostile")
    source = hostile_metadata_source(root / "media")
    package = MediaEngine(EncodeOptions(preset="ultrafast", thumbnails=False)).transcode(
        source, root / "work" / "pkg", POLICY, segment_seconds=2.0
    )
    return root, package


def test_the_encode_writes_nothing_outside_the_package(engine_run) -> None:
    root, package = engine_run
    assert files_named_pwn(root) == []
    outside = [
        p
        for p in (root / "work").rglob("*")
        if p.is_file() and Path(package.output_dir) not in p.parents
    ]
    assert outside == []
    assert [(s.language, s.playlist) for s in package.subtitles] == [
        ("und", "subs/track-1/index.m3u8")
    ]


def test_the_master_gains_no_line_and_names_are_one_line(engine_run) -> None:
    _, package = engine_run
    master = Path(package.output_dir) / package.master
    text = master.read_text()
    assert uri_lines(master) == [v.playlist for v in package.variants]
    variants = [line for line in text.splitlines() if line.startswith("#EXT-X-STREAM-INF")]
    assert len(variants) == len(package.variants)  # the title's text stays inside a NAME
    media = [
        parse_attributes(line.split(":", 1)[1])
        for line in text.splitlines()
        if line.startswith("#EXT-X-MEDIA:")
    ]
    subs = [m for m in media if m["TYPE"] == "SUBTITLES"]
    assert [(m["LANGUAGE"], m["URI"]) for m in subs] == [("und", "subs/track-1/index.m3u8")]
    assert subs[0]["NAME"].startswith("Evil #EXT-X-STREAM-INF")
    assert sorted(m["LANGUAGE"] for m in media if m["TYPE"] == "AUDIO") == ["en", "und"]
    assert package.validation.passed, package.validation.failures


def test_the_mpd_stays_well_formed_with_clean_languages(engine_run) -> None:
    _, package = engine_run
    root = ET.parse(Path(package.output_dir) / str(package.manifest)).getroot()
    langs = [s.get("lang") for s in root.iter(f"{MPD}AdaptationSet") if s.get("lang")]
    assert sorted(langs) == ["en", "und", "und"]
    label = next(root.iter(f"{MPD}Label")).text or ""
    assert "\n" not in label and label.startswith("Evil")


def test_the_published_package_holds_no_key_outside_it(tmp_path: Path) -> None:
    source = hostile_metadata_source(tmp_path / "media")
    home = tmp_path / "home"
    done = run_cli(home, "process", str(source), "--json", timeout=900)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "ready"
    assert files_named_pwn(tmp_path) == []
    keys = [p.relative_to(home).as_posix() for p in home.rglob("*") if p.is_file()]
    assert not [k for k in keys if "/subs/" in k and "/subs/track-" not in k]
    master = Path(result["hls_path"])
    assert [u for u in uri_lines(master) if "evil" in u] == []
    assert (master.parent / "subs/track-1/index.m3u8").is_file()
