"""The API's audit records to the chain in batches: the middleware hands each call's entry
over and returns at once; a thread appends what has gathered every `flush_seconds` in one
transaction (one chain-head lock, one commit), so the trail costs a request a list append
instead of a commit of its own. Pending entries are appended before the process exits, and
before anything reads the trail in this process (`flush`); a process killed outright loses
at most the last `flush_seconds` of records (docs/security.md)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from primevod.core.audit import AuditEntry

log = logging.getLogger("primevod.audit")


class AuditWriter:
    def __init__(
        self, append: Callable[[list[AuditEntry]], object], *, flush_seconds: float = 0.2
    ) -> None:
        self._append = append
        self._flush_seconds = flush_seconds
        self._pending: list[AuditEntry] = []
        self._lock = threading.Lock()  # guards _pending
        self._writing = threading.Lock()  # one batch at a time keeps the order of calls
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def submit(self, entry: AuditEntry) -> None:
        with self._lock:
            self._pending.append(entry)
        if self._thread is None:
            self.start()

    def flush(self) -> int:
        """Append everything submitted so far; how many records."""
        with self._writing:
            with self._lock:
                batch, self._pending = self._pending, []
            if not batch:
                return 0
            try:
                self._append(batch)
            except Exception:  # the database is away: keep them, in order, for the next try
                log.exception("audit records not written yet (%d); retrying", len(batch))
                with self._lock:
                    self._pending[:0] = batch
                return 0
            return len(batch)

    def start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._run, name="audit-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._flush_seconds):
            self.flush()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.flush()
