"""`primevod serve` in a subprocess for the tests that talk to a real server, and a free
loopback port. A module of its own (not conftest.py): test modules import it by name, and
a `conftest` module name is ambiguous once a test folder has its own conftest.py."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`primevod serve` in a subprocess on a free loopback port, with its own data folder."""

    def __init__(self, home: Path, **env: str) -> None:
        import os
        import sys
        import time

        import httpx

        self.home = home
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        full_env = {**os.environ, "PRIMEVOD_HOME": str(home), "PRIMEVOD_PRESET": "ultrafast", **env}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "primevod.cli.main", "serve", "--port", str(self.port)],
            env=full_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert self.proc.poll() is None, self.proc.communicate()
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)
        from primevod.adapters.catalog.sql_catalog import SqlCatalog

        self.catalog = SqlCatalog(f"sqlite:///{home / 'catalog.db'}", migrate=False)
        self.keys = {
            role: self.catalog.create_key(role) for role in ("admin", "uploader", "viewer")
        }

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)
