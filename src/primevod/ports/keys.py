"""The key provider port (KMS's role): master keys that wrap per-object data keys. The
local adapter keeps versioned master keys in a 0600 file (or one key in an environment
variable); an external KMS plugs in behind the same three calls."""

from __future__ import annotations

from typing import Protocol, runtime_checkable


class KeyUnavailable(Exception):
    """A wrapped data key names a master key version this provider does not have (or the
    wrapped bytes were tampered with)."""


@runtime_checkable
class KeyProvider(Protocol):
    def generate_data_key(self) -> tuple[bytes, bytes, str]:
        """A fresh 32-byte data key: (plaintext, wrapped, key id of the wrapping master)."""
        ...

    def unwrap(self, wrapped: bytes, key_id: str) -> bytes:
        """The data key's plaintext (raises KeyUnavailable)."""
        ...

    def rewrap(self, wrapped: bytes, key_id: str) -> tuple[bytes, str]:
        """The same data key wrapped under the current master version: (wrapped, key id).
        Unchanged when it already is."""
        ...

    def current_key_id(self) -> str: ...
