"""The edge's content cache (the CloudFront role on one machine): whole objects kept in memory,
least recently used first out, bounded in bytes. Published objects never change under their
key (a new execution publishes under a new prefix), and entries are also keyed by the ETag,
so a replaced object is a miss, never stale content. A hit is a request answered without a
trip to the origin store; the hit ratio and the origin latency of misses are what the
`cache-hit-ratio` and `origin-latency-p95` alarms watch."""

from __future__ import annotations

import threading
from collections import OrderedDict


class EdgeCache:
    def __init__(self, max_bytes: int, max_object_bytes: int = 16 * 2**20) -> None:
        self.max_bytes = max_bytes
        self.max_object_bytes = min(max_object_bytes, max_bytes)
        self._items: OrderedDict[tuple[str, str, str], bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, bucket: str, key: str, etag: str) -> bytes | None:
        with self._lock:
            body = self._items.get((bucket, key, etag))
            if body is not None:
                self._items.move_to_end((bucket, key, etag))
            return body

    def put(self, bucket: str, key: str, etag: str, body: bytes) -> None:
        if len(body) > self.max_object_bytes:
            return
        with self._lock:
            old = self._items.pop((bucket, key, etag), None)
            if old is not None:
                self._size -= len(old)
            self._items[(bucket, key, etag)] = body
            self._size += len(body)
            while self._size > self.max_bytes and self._items:
                _, evicted = self._items.popitem(last=False)
                self._size -= len(evicted)

    def drop_prefix(self, bucket: str, prefix: str) -> None:
        with self._lock:
            for item in [k for k in self._items if k[0] == bucket and k[1].startswith(prefix)]:
                self._size -= len(self._items.pop(item))
