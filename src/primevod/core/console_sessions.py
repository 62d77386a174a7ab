"""Console sessions: the web console trades an API key once for a session, and `primevod demo`
hands out a one-time sign-in link. Both are random tokens given to the browser once and stored
only as their SHA-256 (a stolen catalog signs nobody in), each tied to one API key with an
expiry; a session ends when it expires, when it is signed out, or when its key is revoked.

Pure: the tokens, their hashes, the cookie's attributes and the link's address. No I/O."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from urllib.parse import urlencode

from primevod.core.access import Principal

COOKIE = "primevod_session"
SESSION = "session"  # a signed-in browser
LINK = "link"  # a one-time sign-in link, traded for a session when it is opened
Kind = Literal["session", "link"]
LINK_SECONDS = 15 * 60
SIGNIN_PATH = "/signin"


def new_token() -> str:
    """256 random bits, URL-safe: what the cookie (or the link) carries."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def signin_url(base: str, token: str) -> str:
    """The one-time sign-in link on a server reached at `base` (http://host:port)."""
    return f"{base.rstrip('/')}{SIGNIN_PATH}?{urlencode({'token': token})}"


@dataclass(frozen=True)
class ConsoleSession:
    """A live session: who it signs in, until when, and whether a demo link made it."""

    principal: Principal
    name: str | None
    expires_at: datetime
    demo: bool


LinkOutcome = Literal["ok", "used", "expired", "unknown"]


@dataclass(frozen=True)
class RedeemedLink:
    """What opening a sign-in link found: the key it signs in as when `outcome` is ok."""

    outcome: LinkOutcome
    key_id: str | None = None

    @property
    def problem(self) -> str:
        return {
            "ok": "",
            "used": "This sign-in link has already been used: each link signs in once.",
            "expired": "This sign-in link has expired: a link is valid for 15 minutes.",
            "unknown": "This sign-in link is not valid.",
        }[self.outcome]
