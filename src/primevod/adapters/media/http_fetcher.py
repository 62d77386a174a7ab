"""The validator's Fetcher over HTTP, for the canary: timeouts, a few retries with backoff for
connection failures and 5xx answers, signed cookies or query parameters sent only to the
master's origin, and a log of every request. HTTP errors raise `HttpError` (an OSError), so
the validator records a `*.reachable` failure instead of crashing. Thread-safe: the
validator checks media playlists in parallel over one httpx.Client."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from primevod.core.canary import USER_AGENT, RequestRecord

RETRY_STATUSES = frozenset({500, 502, 503, 504})
MAX_BODY_BYTES = 256 * 1024 * 1024  # a playlist or segment larger than this is not one
MAX_REDIRECTS = 5


class HttpError(OSError):
    """An answer >= 400 (status set) or no answer at all (status None)."""

    def __init__(self, url: str, message: str, status: int | None = None) -> None:
        super().__init__(f"{message} for {url}")
        self.strerror = message
        self.status = status
        self.url = url


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


class HttpFetcher:
    """`read(url)` GETs a body, `size(url)` HEADs for Content-Length (GET when a server does
    not say). `cookies` / `params` (e.g. CloudFront signed cookies or signed-URL parameters)
    go only to URLs on `auth_origin`'s scheme, host and port. After `budget` seconds every
    further request fails at once (a hung origin cannot hold a run for hours)."""

    def __init__(
        self,
        *,
        timeout: float = 10.0,
        retries: int = 2,
        backoff: float = 0.25,
        cookies: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        auth_origin: str | None = None,
        budget: float | None = None,
        client: httpx.Client | None = None,
    ) -> None:
        self.retries = max(0, retries)
        self.backoff = backoff
        self.cookies = dict(cookies or {})
        self.params = dict(params or {})
        self.auth_origin = _origin(auth_origin) if auth_origin else None
        self.budget = budget
        self._deadline = time.monotonic() + budget if budget is not None else None
        self._own_client = client is None
        self.client = client or httpx.Client(
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,  # followed in _follow, keeping the signing per origin
            headers={"User-Agent": USER_AGENT},
        )
        self._lock = threading.Lock()
        self.records: list[RequestRecord] = []

    def close(self) -> None:
        if self._own_client:
            self.client.close()

    def __enter__(self) -> HttpFetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def read(self, uri: str) -> bytes:
        return self._request("GET", uri)[1]

    def size(self, uri: str) -> int:
        length = self._request("HEAD", uri)[2]
        if length is not None:
            return length
        _, body, _ = self._request("GET", uri)  # no Content-Length on HEAD: count the body
        return len(body)

    def _request(self, method: str, url: str) -> tuple[int, bytes, int | None]:
        if self._deadline is not None and time.monotonic() > self._deadline:
            raise HttpError(url, f"not requested: the run's {self.budget:g} s budget is spent")
        started = time.monotonic()
        status: int | None = None
        wire = 0
        error: str | None = None
        attempt = 0
        try:
            while True:
                attempt += 1
                try:
                    answer = self._follow(method, url)
                except (httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError) as e:
                    if attempt > self.retries:
                        error = f"no answer: {type(e).__name__}: {e}"
                        raise HttpError(url, error) from None
                except httpx.HTTPError as e:  # read/write timeouts, decoding errors: no retry
                    error = f"no answer: {type(e).__name__}: {e}"
                    raise HttpError(url, error) from None
                except HttpError as e:
                    error = e.strerror
                    raise
                else:
                    status, wire = answer.status, wire + answer.wire_bytes
                    if status >= 400 and not (status in RETRY_STATUSES and attempt <= self.retries):
                        error = f"HTTP {status}{answer.reason}"
                        raise HttpError(url, error, status)
                    if status < 400:
                        return status, answer.body, answer.length
                time.sleep(self.backoff * 2 ** (attempt - 1))
        finally:
            record = RequestRecord(
                method=method,
                url=url,
                status=status,
                ms=round((time.monotonic() - started) * 1000, 1),
                bytes=wire,
                attempts=attempt,
                error=error,
            )
            with self._lock:
                self.records.append(record)

    def _auth(self, url: str) -> tuple[dict[str, str], dict[str, str] | None]:
        """The signing for this URL: only on the master's origin."""
        if self.auth_origin is not None and _origin(url) != self.auth_origin:
            return {}, None
        headers = {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return headers, self.params or None

    def _follow(self, method: str, url: str) -> _Answer:
        """Redirects by hand: httpx drops a Cookie header on every redirect, and the signing
        must be decided again for each hop's origin."""
        wire = 0
        for _ in range(MAX_REDIRECTS + 1):
            answer = self._once(method, url)
            wire += answer.wire_bytes
            if answer.location is None:
                answer.wire_bytes = wire
                return answer
            url = urljoin(url, answer.location)
        raise HttpError(url, f"more than {MAX_REDIRECTS} redirects")

    def _once(self, method: str, url: str) -> _Answer:
        if _origin(url)[0] not in ("http", "https"):
            raise HttpError(url, "not an http(s) URL")
        headers, params = self._auth(url)
        if method == "HEAD":
            headers["Accept-Encoding"] = "identity"  # Content-Length of the file itself
        try:
            request = self.client.build_request(method, url, headers=headers, params=params)
        except (httpx.InvalidURL, ValueError) as e:
            raise HttpError(url, f"invalid URL: {e}") from None
        response = self.client.send(request, stream=True)
        try:
            chunks: list[bytes] = []
            received = 0
            location = response.headers.get("location") if response.is_redirect else None
            if method != "HEAD" and response.status_code < 300:
                for chunk in response.iter_bytes():
                    received += len(chunk)
                    if received > MAX_BODY_BYTES:
                        raise HttpError(url, f"body over {MAX_BODY_BYTES} bytes")
                    chunks.append(chunk)
            else:
                response.read()
            length = response.headers.get("content-length")
            return _Answer(
                status=response.status_code,
                body=b"".join(chunks),
                length=int(length) if length and length.isdigit() else None,
                wire_bytes=response.num_bytes_downloaded,
                reason=_describe(response),
                location=location,
            )
        finally:
            response.close()


@dataclass
class _Answer:
    status: int
    body: bytes
    length: int | None  # Content-Length as sent
    wire_bytes: int
    reason: str  # " Forbidden (reason: expired)"
    location: str | None = None  # where a redirect points


def _describe(response: httpx.Response) -> str:
    phrase = f" {response.reason_phrase}" if response.reason_phrase else ""
    refusal = response.headers.get("x-primevod-reason")
    return phrase + (f" (reason: {refusal})" if refusal else "")
