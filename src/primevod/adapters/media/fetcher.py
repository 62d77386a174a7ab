"""The one reading interface the package validators share, so the same checks run on a
folder (LocalFetcher) and on an origin over HTTP (HttpFetcher). Its own module so that the
validators can depend on it without depending on each other."""

from __future__ import annotations

from typing import Protocol


class Fetcher(Protocol):
    def read(self, uri: str) -> bytes: ...

    def size(self, uri: str) -> int: ...
