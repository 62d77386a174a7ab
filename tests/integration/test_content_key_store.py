"""The catalog's content keys: one per asset, made once and reused (a retry or a second
worker gets the stored key), kept out of the asset's record, deleted with the asset."""

from __future__ import annotations

from primevod.adapters.catalog.sql_catalog import SqlCatalog
from primevod.adapters.catalog.sql_content_keys import open_key, seal_key


def test_one_key_per_asset_reused_and_deleted(tmp_path) -> None:
    catalog = SqlCatalog(f"sqlite:///{tmp_path / 'catalog.db'}")
    assert catalog.content_key("a1") is None
    first = catalog.ensure_content_key("a1", "aes-128", b"k" * 16)
    assert first == b"k" * 16
    assert catalog.ensure_content_key("a1", "aes-128", b"x" * 16) == first  # reused
    assert catalog.content_key("a1") == first
    assert catalog.ensure_content_key("a2", "aes-128", b"y" * 16) == b"y" * 16
    assert catalog.delete_content_key("a1") and not catalog.delete_content_key("a1")
    assert catalog.content_key("a1") is None and catalog.content_key("a2") == b"y" * 16


def test_the_stored_form_is_versioned() -> None:
    key = bytes(range(16))
    assert seal_key(key).startswith("plain:") and open_key(seal_key(key)) == key


def test_with_encryption_at_rest_the_key_is_sealed_and_rotates(tmp_path) -> None:
    from sqlalchemy import text

    from primevod.adapters.crypto.local_keys import LocalKeyProvider
    from primevod.adapters.crypto.sealed_files import Sealer, text_key_id

    keys = LocalKeyProvider(tmp_path / "master.key")
    catalog = SqlCatalog(f"sqlite:///{tmp_path / 'catalog.db'}")
    catalog.ensure_content_key("plain", "aes-128", b"p" * 16)  # stored before: plain
    catalog.content_key_sealer = Sealer(keys)
    key = bytes(range(16))
    catalog.ensure_content_key("a1", "aes-128", key)
    with catalog.engine.connect() as conn:
        stored = dict(conn.execute(text("SELECT asset_id, sealed FROM content_keys")).all())
    assert stored["a1"].startswith("pvenc:") and key.hex() not in stored["a1"]
    assert catalog.content_key("a1") == key and catalog.content_key("plain") == b"p" * 16
    old = keys.current_key_id()
    keys.add_version()
    assert catalog.reseal_content_keys() == 2  # re-wrapped, and the plain one sealed
    assert {text_key_id(s) for s in catalog.sealed_content_keys()} == {keys.current_key_id()}
    assert keys.current_key_id() != old
    assert catalog.content_key("a1") == key and catalog.content_key("plain") == b"p" * 16
