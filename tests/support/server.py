"""`primevod serve` in a subprocess for the tests that talk to a real server, and a free
loopback port. A module of its own (not conftest.py): test modules import it by name, and
a `conftest` module name is ambiguous once a test folder has its own conftest.py."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path
from typing import Any

# the tests drive one server far faster than people would: the rate limits are off unless a
# test sets its own (tests/integration/test_hardening.py)
LIMITS_OFF = {
    "PRIMEVOD_RATE_LIMIT_PER_IP": "off",
    "PRIMEVOD_RATE_LIMIT_PER_KEY": "off",
    "PRIMEVOD_RATE_LIMIT_UPLOADS": "off",
    "PRIMEVOD_RATE_LIMIT_BEACONS": "off",
    "PRIMEVOD_RATE_LIMIT_SIGNIN": "off",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`primevod serve` in a subprocess on a free loopback port, with its own data folder;
    `args` are added to the command line; with `ca` (a certificate file) it serves HTTPS
    (give --tls-cert/--tls-key in `args`) and is checked against that certificate. `env` is
    the server's environment, for the CLI commands a test runs against the same home."""

    def __init__(
        self, home: Path, args: tuple[str, ...] = (), ca: Path | None = None, **env: str
    ) -> None:
        import os
        import sys
        import time

        import httpx

        self.home = home
        self.port = free_port()
        self.base = f"{'https' if ca else 'http'}://127.0.0.1:{self.port}"
        self.verify: Any = True
        if ca is not None:
            import ssl

            self.verify = ssl.create_default_context(cafile=str(ca))
        full_env = {
            **os.environ,
            **LIMITS_OFF,
            "PRIMEVOD_HOME": str(home),
            "PRIMEVOD_PRESET": "ultrafast",
            **env,
        }
        self.env = full_env  # the environment a CLI command against this home runs with
        command = ["serve", "--port", str(self.port), *args]
        # its output goes to a file beside the data folder, not to a pipe nobody reads: a pipe
        # fills up (64 KiB of tracebacks) and the server blocks on its next log line
        home.parent.mkdir(parents=True, exist_ok=True)
        self.log = home.parent / f"{home.name}-serve.log"
        with open(self.log, "wb") as output:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "primevod.cli.main", *command],
                env=full_env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while True:
            try:
                ready = httpx.get(f"{self.base}/healthz", timeout=1, verify=self.verify)
                if ready.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert self.proc.poll() is None, self.output()
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)
        from primevod.adapters.catalog.sql_catalog import SqlCatalog

        url = env.get("PRIMEVOD_DATABASE_URL") or f"sqlite:///{home / 'catalog.db'}"
        self.catalog = SqlCatalog(url, migrate=False)  # the server's own catalog
        self.keys = {
            role: self.catalog.create_key(role) for role in ("admin", "uploader", "viewer")
        }

    def output(self) -> str:
        """What the server printed so far (its log lines and any traceback)."""
        return self.log.read_text(errors="replace")

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)
