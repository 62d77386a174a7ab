"""A throwaway PostgreSQL cluster for the tests: `initdb` into a temporary folder, a server on
a free loopback port (fsync off: nothing here must survive a power cut), and a fresh database
per caller. Debian's PostgreSQL refuses to run as root, so as root the cluster belongs to the
`postgres` user. `.ci/run` installs the server; without it this raises, it does not skip."""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

BIN = Path("/usr/lib/postgresql/15/bin")


class PostgresNotInstalled(RuntimeError):
    pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_owner(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def _run(cmd: list[str]) -> None:
    done = subprocess.run(_as_owner(cmd), capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {done.stdout}{done.stderr}")


@contextlib.contextmanager
def postgres_cluster() -> Iterator[Callable[[], str]]:
    """Yields `new_database()`, which creates a database and returns its URL
    (`postgresql://postgres@127.0.0.1:PORT/NAME`)."""
    if not (BIN / "initdb").is_file():
        raise PostgresNotInstalled(
            f"PostgreSQL 15 is not installed ({BIN}/initdb): `.ci/run` installs Debian's postgresql"
        )
    folder = Path(tempfile.mkdtemp(prefix="primevod-pg-"))
    data = folder / "data"
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    port = _free_port()
    _run([str(BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"])
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    options += " -c max_connections=300"
    _run([str(BIN / "pg_ctl"), "-D", str(data), "-w", "-l", str(folder / "log"), "-o", options,
          "start"])  # fmt: skip
    names = itertools.count(1)

    def new_database() -> str:
        name = f"t{next(names)}"
        _run([str(BIN / "psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
              "-c", f"CREATE DATABASE {name}"])  # fmt: skip
        return f"postgresql://postgres@127.0.0.1:{port}/{name}"

    try:
        yield new_database
    finally:
        subprocess.run(
            _as_owner([str(BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(folder, ignore_errors=True)
