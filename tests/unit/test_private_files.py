"""Secrets made once under concurrency: one maker wins, every reader sees its whole bytes
(a first upload's parallel part URLs were once signed with two different secrets: 403s)."""

from __future__ import annotations

import os
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from primevod.adapters.private_files import create_exclusive
from primevod.pipeline.uploads import _secret_at


def test_one_maker_wins_and_the_file_is_whole(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    blobs = [os.urandom(4096) for _ in range(16)]
    with ThreadPoolExecutor(16) as pool:
        made = list(pool.map(lambda blob: create_exclusive(path, blob), blobs))
    assert made.count(True) == 1
    assert path.read_bytes() == blobs[made.index(True)]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret.key"]  # no leftovers


def test_racing_first_requests_get_one_upload_secret(tmp_path: Path) -> None:
    path = tmp_path / "upload-signing.key"

    def read(_: int) -> bytes:
        return _secret_at.__wrapped__(path)  # type: ignore[attr-defined]

    with ThreadPoolExecutor(16) as pool:
        secrets = set(pool.map(read, range(64)))
    assert secrets == {path.read_bytes()} and len(path.read_bytes()) == 32
