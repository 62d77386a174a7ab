"""Sends due webhook deliveries: signed POSTs, backoff on failure, dead-letter at the end of
the retry window. Runs as a background thread in `serve` and `worker`."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Sequence

import httpx

from primevod.adapters.catalog.sql_subscriptions import SqlSubscriptions
from primevod.core.webhooks import DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, sign
from primevod.pipeline.webhook_target import target

log = logging.getLogger("primevod.webhooks")


class WebhookSender:
    def __init__(
        self,
        subscriptions: SqlSubscriptions,
        *,
        timeout: float = 10.0,
        retry_window: float = 7200.0,
        poll_seconds: float = 0.5,
        retry_base: float = 5.0,
        allow_hosts: Sequence[str] = (),
    ) -> None:
        self.subs = subscriptions
        self.allow_hosts = tuple(allow_hosts)
        self.timeout = timeout
        self.retry_window = retry_window
        self.poll_seconds = poll_seconds
        self.retry_base = retry_base
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._client = httpx.Client(timeout=timeout, follow_redirects=False)

    def send_due(self) -> int:
        sent = 0
        for item in self.subs.claim_due_webhooks(lease_seconds=self.timeout + 30):
            body = json.dumps(item["event"], separators=(",", ":")).encode()
            headers = {
                "Content-Type": "application/json",
                SIGNATURE_HEADER: sign(item["secret"], body),
                EVENT_HEADER: item["event"]["type"],
                DELIVERY_HEADER: str(item["delivery_id"]),
                "User-Agent": "prime-vod-webhooks",
            }
            try:
                ok, error = self._post(item["url"], body, headers)
            except ValueError as exc:  # the destination is refused (core/net_guard.py)
                ok, error = False, f"refused: {exc}"
            except httpx.HTTPError as exc:
                ok, error = False, f"{type(exc).__name__}: {exc}"
            if ok:
                self.subs.webhook_delivered(item["delivery_id"])
                sent += 1
            else:
                state = self.subs.webhook_failed(
                    item["delivery_id"],
                    error,
                    retry_window=self.retry_window,
                    retry_base=self.retry_base,
                )
                log.warning(
                    "webhook %s to %s failed (%s), now %s",
                    item["delivery_id"],
                    item["url"],
                    error,
                    state,
                )
        return sent

    def _post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[bool, str]:
        """POST to the checked address the URL resolves to now."""
        goal = target(url, self.allow_hosts)
        extensions = {"sni_hostname": goal.sni} if goal.sni else None
        response = self._client.post(
            goal.url, content=body, headers={**headers, "Host": goal.host}, extensions=extensions
        )
        ok = 200 <= response.status_code < 300
        return ok, "" if ok else f"HTTP {response.status_code}"

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.send_due()
            except Exception:  # never let the sender thread die
                log.exception("webhook sender pass failed")
            self._stop.wait(self.poll_seconds)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
        self._client.close()
        time.sleep(0)
