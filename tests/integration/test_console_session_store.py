"""The catalog's console sessions and one-time sign-in links (adapters/catalog/sql_sessions.py)
on SQLite and PostgreSQL: only the token's hash is stored; a session ends at its expiry, on
sign-out and when its key is revoked; a link signs in once and says why it cannot again."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text

from primevod.adapters.catalog.sql_catalog import SqlCatalog


@pytest.fixture(params=["sqlite", "postgresql"])
def catalog(request, tmp_path) -> SqlCatalog:
    if request.param == "sqlite":
        return SqlCatalog(f"sqlite:///{tmp_path / 'catalog.db'}")
    return SqlCatalog(request.getfixturevalue("postgres")())


def test_a_session_lives_until_expiry_sign_out_or_revocation(catalog) -> None:
    key = catalog.create_key("uploader", name="ana")
    key_id = key.split("_")[1]
    token, expires_at = catalog.create_session(key_id, 3600)
    session = catalog.console_session(token)
    assert session is not None and session.expires_at == expires_at
    assert (session.principal.key_id, session.name, session.demo) == (key_id, "ana", False)
    with catalog.engine.connect() as conn:
        stored = conn.execute(text("SELECT token_hash FROM console_sessions")).scalars().all()
    assert stored == [hashlib.sha256(token.encode()).hexdigest()]  # never the token

    catalog.end_session(token)
    assert catalog.console_session(token) is None
    stale, _ = catalog.create_session(key_id, -1)
    assert catalog.console_session(stale) is None
    live, _ = catalog.create_session(key_id, 3600)
    catalog.revoke_key(key_id)
    assert catalog.console_session(live) is None
    assert catalog.end_sessions_of(key_id) == 1  # the expired one went as the next was made
    assert catalog.console_session("made-up") is None


def test_a_sign_in_link_works_once(catalog) -> None:
    key_id = catalog.create_key("admin", name="demo").split("_")[1]
    link = catalog.create_signin_link(key_id, 900)
    assert catalog.console_session(link) is None  # a link is not a session
    first = catalog.redeem_signin_link(link)
    assert (first.outcome, first.key_id) == ("ok", key_id)
    again = catalog.redeem_signin_link(link)
    assert again.outcome == "used" and again.key_id is None and "already" in again.problem
    late = catalog.redeem_signin_link(catalog.create_signin_link(key_id, -1))
    assert late.outcome == "expired" and "expired" in late.problem
    assert catalog.redeem_signin_link("made-up").outcome == "unknown"
    token, _ = catalog.create_session(key_id, 60, demo=True)
    assert catalog.console_session(token).demo is True


def age(catalog: SqlCatalog, link: str, hours: float) -> None:
    """Move a link's expiry `hours` into the past, as if that much time had passed."""
    digest = hashlib.sha256(link.encode()).hexdigest()
    with catalog.engine.begin() as conn:
        expires_at = conn.execute(
            text("SELECT expires_at FROM console_sessions WHERE token_hash = :h"), {"h": digest}
        ).scalar_one()
        if isinstance(expires_at, str):  # SQLite keeps the text
            expires_at = datetime.fromisoformat(expires_at)
        conn.execute(
            text("UPDATE console_sessions SET expires_at = :t WHERE token_hash = :h"),
            {"t": expires_at - timedelta(hours=hours), "h": digest},
        )


def test_a_used_link_says_so_for_a_day_then_goes(catalog) -> None:
    key_id = catalog.create_key("admin", name="demo").split("_")[1]
    used = catalog.create_signin_link(key_id, 900)
    assert catalog.redeem_signin_link(used).outcome == "ok"
    unused = catalog.create_signin_link(key_id, 900)
    age(catalog, used, 2)
    age(catalog, unused, 2)
    catalog.create_session(key_id, 3600)  # prunes what is past keeping
    assert catalog.redeem_signin_link(used).outcome == "used"  # hours later: still says so
    assert catalog.redeem_signin_link(unused).outcome == "expired"
    age(catalog, used, 24)
    catalog.create_session(key_id, 3600)
    assert catalog.redeem_signin_link(used).outcome == "unknown"  # a day later: gone
