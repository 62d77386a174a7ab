"""Web console sessions and one-time sign-in links (core/console_sessions.py): the token is
handed out once and only its SHA-256 is stored. A session is valid while it has not expired
and its key is not revoked (revoking a key ends its sessions); a link is traded for a session
once, atomically, so two tabs opening it cannot both sign in. Expired sessions are pruned as
new rows come; a link's row stays a day past its expiry, so opening a used or expired link
says so (410) rather than "not valid" (404)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, delete, or_, update

from primevod.adapters.catalog.sql_database import SqlDatabase, _aware
from primevod.adapters.catalog.tables import ApiKeyRow, ConsoleSessionRow
from primevod.core.access import principal_of
from primevod.core.assets import utcnow
from primevod.core.console_sessions import (
    LINK,
    SESSION,
    ConsoleSession,
    Kind,
    RedeemedLink,
    hash_token,
    new_token,
)

LINK_KEPT = timedelta(days=1)  # a used or expired link still answers "already used"/"expired"


class SqlSessions(SqlDatabase):
    def _issue(self, kind: Kind, key_id: str, seconds: float, demo: bool) -> tuple[str, datetime]:
        token, now = new_token(), utcnow()
        expires_at = now + timedelta(seconds=seconds)
        with self.session() as s:
            # expired rows go as new ones come: the table holds about the live sessions and
            # the links of the last day
            s.execute(
                delete(ConsoleSessionRow).where(
                    or_(
                        and_(ConsoleSessionRow.kind != LINK, ConsoleSessionRow.expires_at < now),
                        ConsoleSessionRow.expires_at < now - LINK_KEPT,
                    )
                )
            )
            s.add(
                ConsoleSessionRow(
                    token_hash=hash_token(token),
                    kind=kind,
                    key_id=key_id,
                    demo=demo,
                    created_at=now,
                    expires_at=expires_at,
                )
            )
        return token, expires_at

    def create_session(
        self, key_id: str, seconds: float, *, demo: bool = False
    ) -> tuple[str, datetime]:
        """A new session of `key_id` for `seconds`: (the cookie's token, its expiry)."""
        return self._issue(SESSION, key_id, seconds, demo)

    def console_session(self, token: str) -> ConsoleSession | None:
        """The live session of a cookie's token: None when unknown, expired, signed out, or
        its key is revoked."""
        with self.session() as s:
            row = s.get(ConsoleSessionRow, hash_token(token))
            if row is None or row.kind != SESSION:
                return None
            expires_at = _aware(row.expires_at)
            assert expires_at is not None
            if expires_at <= utcnow():
                return None
            key = s.get(ApiKeyRow, row.key_id)
            if key is None or key.revoked:
                return None
            principal = principal_of(key.id, key.role, key.policy)
            return ConsoleSession(principal, key.name, expires_at, row.demo)

    def end_session(self, token: str) -> None:
        """Sign out: the session's row goes (nothing when it is already gone)."""
        with self.session() as s:
            s.execute(
                delete(ConsoleSessionRow).where(
                    ConsoleSessionRow.token_hash == hash_token(token),
                    ConsoleSessionRow.kind == SESSION,
                )
            )

    def end_sessions_of(self, key_id: str) -> int:
        """Every session and unused link of a key (when it is revoked); how many ended."""
        with self.session() as s:
            result = s.execute(delete(ConsoleSessionRow).where(ConsoleSessionRow.key_id == key_id))
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def create_signin_link(self, key_id: str, seconds: float) -> str:
        """A one-time sign-in link's token for `key_id`, valid for `seconds` (the demo's)."""
        token, _ = self._issue(LINK, key_id, seconds, demo=True)
        return token

    def redeem_signin_link(self, token: str) -> RedeemedLink:
        """Mark a link used (once: a conditional update, so only one opener wins) and say
        whose it was; or why it cannot be used."""
        digest, now = hash_token(token), utcnow()
        with self.session() as s:
            claimed = s.execute(
                update(ConsoleSessionRow)
                .where(
                    ConsoleSessionRow.token_hash == digest,
                    ConsoleSessionRow.kind == LINK,
                    ConsoleSessionRow.used_at.is_(None),
                    ConsoleSessionRow.expires_at > now,
                )
                .values(used_at=now)
            )
            row = s.get(ConsoleSessionRow, digest)
            if row is None or row.kind != LINK:
                return RedeemedLink("unknown")
            if claimed.rowcount == 1:  # type: ignore[attr-defined]
                return RedeemedLink("ok", row.key_id)
            return RedeemedLink("used" if row.used_at is not None else "expired")

    def key_name(self, key_id: str) -> str | None:
        with self.session() as s:
            row = s.get(ApiKeyRow, key_id)
            return row.name if row is not None else None
